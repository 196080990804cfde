//! Connect links (README "Connect links"): an unguessable, expiring, revocable link to the
//! customer connect page `/connect/{tenant}/{token}`. Pure rules here; the tenant object stores
//! the rows (`tenant/connect.rs`) and is the authority.
//!
//! The token is 32 random bytes (url-safe base64, 43 characters) and is stored only as its
//! SHA-256; the tenant id travels in the link's path, so the worker finds the tenant's object
//! without any lookup, and that object checks the hash (like partner-level keys, docs/contract.md
//! "Keys").

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde::Deserialize;
use serde_json::{json, Value};

use crate::error::{code, ApiError, ApiResult};
use crate::model::{rfc3339, Provider};
use crate::secrets;

/// Default lifetime of a link: 7 days.
pub const DEFAULT_TTL_SECONDS: i64 = 7 * 86_400;
/// Shortest and longest lifetime a caller may ask for: 5 minutes to 30 days.
pub const MIN_TTL_SECONDS: i64 = 300;
pub const MAX_TTL_SECONDS: i64 = 30 * 86_400;
/// How long a key replaced by a connect page's first view keeps working, so an ATS already
/// set up keeps running until the customer pastes the new key: 24 hours.
pub const REPLACED_KEY_GRACE_SECONDS: i64 = 86_400;

/// A validated `POST /v1/tenants/{t}/connect-links` body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewLink {
    pub provider: Provider,
    pub ttl_seconds: i64,
}

/// Parse `{"provider", "expires_in_seconds"?}`; 422 naming the field otherwise.
pub fn parse_create(v: &Value) -> ApiResult<NewLink> {
    let m = v
        .as_object()
        .ok_or_else(|| ApiError::invalid_field("body", "must be a JSON object"))?;
    if let Some(k) = m
        .keys()
        .find(|k| !["provider", "expires_in_seconds"].contains(&k.as_str()))
    {
        return Err(ApiError::invalid_field(k, "is not a known field"));
    }
    let provider = m
        .get("provider")
        .and_then(Value::as_str)
        .and_then(Provider::parse)
        .ok_or_else(|| {
            let names: Vec<&str> = Provider::all().map(|p| p.as_str()).collect();
            let what = if m.contains_key("provider") {
                "must be"
            } else {
                "is required,"
            };
            ApiError::invalid_field("provider", &format!("{what} one of: {}", names.join(", ")))
        })?;
    let ttl_seconds = match m.get("expires_in_seconds") {
        None | Some(Value::Null) => DEFAULT_TTL_SECONDS,
        Some(n) => n
            .as_i64()
            .filter(|s| (MIN_TTL_SECONDS..=MAX_TTL_SECONDS).contains(s))
            .ok_or_else(|| {
                ApiError::invalid_field(
                    "expires_in_seconds",
                    &format!(
                        "must be a whole number of seconds from {MIN_TTL_SECONDS} to {MAX_TTL_SECONDS} (30 days)"
                    ),
                )
            })?,
    };
    Ok(NewLink {
        provider,
        ttl_seconds,
    })
}

/// A fresh link token (shown once, in the link).
pub fn new_token() -> String {
    URL_SAFE_NO_PAD.encode(secrets::random_bytes::<32>())
}

/// Whether `s` has the shape of a token this module issues (checked before hashing).
pub fn is_token_shaped(s: &str) -> bool {
    s.len() == 43
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// The link the customer opens.
pub fn url(origin: &str, tenant: &str, token: &str) -> String {
    format!("{origin}/connect/{tenant}/{token}")
}

/// A stored link (never the token).
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct LinkRow {
    pub id: String,
    pub provider: String,
    pub created_at: i64,
    pub expires_at: i64,
    pub revoked_at: Option<i64>,
    pub viewed_at: Option<i64>,
    pub key_issued_at: Option<i64>,
    pub connected_at: Option<i64>,
}

/// A link's state at `now`: `revoked`, `expired`, `connected` or `active` (in that order).
pub fn state(row: &LinkRow, now: i64) -> &'static str {
    if row.revoked_at.is_some() {
        "revoked"
    } else if row.expires_at <= now {
        "expired"
    } else if row.connected_at.is_some() {
        "connected"
    } else {
        "active"
    }
}

/// Whether the link still opens the connect page (active or connected, not expired/revoked).
pub fn usable(row: &LinkRow, now: i64) -> bool {
    matches!(state(row, now), "active" | "connected")
}

/// Whether a link may still take credentials: a link connects its ATS once. A link already
/// `connected` answers `409 connect_link_used` (its page says so); changing the credentials
/// takes a new link (README "Connect links"). `ats` is the ATS's display name.
pub fn ensure_unused(row: &LinkRow, ats: &str) -> ApiResult<()> {
    match row.connected_at {
        None => Ok(()),
        Some(at) => Err(ApiError::new(
            409,
            code::CONNECT_LINK_USED,
            format!(
                "This connect link was already used to connect {ats} ({}). A link works once: ask your vendor for a new link to change the credentials.",
                rfc3339(at)
            ),
        )),
    }
}

/// The list item `GET /v1/tenants/{t}/connect-links` shows.
pub fn item(row: &LinkRow, now: i64) -> Value {
    json!({
        "id": row.id,
        "provider": row.provider,
        "state": state(row, now),
        "createdAt": rfc3339(row.created_at),
        "expiresAt": rfc3339(row.expires_at),
        "viewedAt": row.viewed_at.map(rfc3339),
        "keyIssuedAt": row.key_issued_at.map(rfc3339),
        "connectedAt": row.connected_at.map(rfc3339),
        "revokedAt": row.revoked_at.map(rfc3339),
    })
}

/// The credentials a connect page posts: every field the provider's guide names, each a
/// non-empty string of at most 512 characters (an optional one may be empty or absent, and is
/// then left out); unknown fields are refused.
pub fn parse_credentials(
    v: &Value,
    fields: &[crate::providers::setup::CredentialField],
) -> ApiResult<Vec<(&'static str, String)>> {
    let empty = serde_json::Map::new();
    let m = match v {
        Value::Object(m) => m,
        Value::Null => &empty,
        _ => return Err(ApiError::invalid_field("body", "must be a JSON object")),
    };
    if let Some(k) = m
        .keys()
        .find(|k| !fields.iter().any(|f| f.name == k.as_str()))
    {
        return Err(ApiError::invalid_field(k, "is not a known field"));
    }
    fields
        .iter()
        .filter_map(|f| match m.get(f.name) {
            Some(Value::String(s)) if !s.trim().is_empty() && s.len() <= 512 => {
                Some(Ok((f.name, s.trim().to_string())))
            }
            // An optional field left empty is not sent on.
            None | Some(Value::Null) if f.optional => None,
            Some(Value::String(s)) if f.optional && s.trim().is_empty() => None,
            _ => Some(Err(ApiError::invalid_field(
                f.name,
                if f.optional {
                    "must be a string of at most 512 characters"
                } else {
                    "is required (a non-empty string of at most 512 characters)"
                },
            ))),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::providers::setup;

    fn row() -> LinkRow {
        LinkRow {
            id: "cl_1".into(),
            provider: Provider::all().next().unwrap().as_str().into(),
            created_at: 0,
            expires_at: 1000,
            revoked_at: None,
            viewed_at: None,
            key_issued_at: None,
            connected_at: None,
        }
    }

    #[test]
    fn create_body() {
        for p in Provider::all() {
            let l = parse_create(&json!({"provider": p.as_str()})).unwrap();
            assert_eq!(l.ttl_seconds, DEFAULT_TTL_SECONDS);
            assert_eq!(
                parse_create(&json!({"provider": p.as_str(), "expires_in_seconds":600}))
                    .unwrap()
                    .ttl_seconds,
                600
            );
        }
        let p = Provider::all().next().unwrap().as_str();
        for bad in [
            json!({}),
            json!({"provider":"no-such-ats"}),
            json!({"provider":p,"expires_in_seconds":5}),
            json!({"provider":p,"expires_in_seconds":"600"}),
            json!({"provider":p,"colour":1}),
            json!([]),
        ] {
            assert_eq!(parse_create(&bad).unwrap_err().status, 422, "{bad}");
        }
    }

    /// The OpenAPI document offers exactly the registered providers for a link.
    #[test]
    fn openapi_lists_every_provider() {
        let doc: Value = serde_json::from_str(include_str!("../../openapi/openapi.json")).unwrap();
        let listed: Vec<&str> = doc["components"]["schemas"]["ConnectLinkCreate"]["properties"]
            ["provider"]["enum"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(Value::as_str)
            .collect();
        let registered: Vec<&str> = Provider::all().map(|p| p.as_str()).collect();
        assert_eq!(listed, registered);
    }

    #[test]
    fn tokens() {
        let t = new_token();
        assert!(is_token_shaped(&t), "{t}");
        assert_ne!(t, new_token());
        assert!(!is_token_shaped("short"));
        assert!(!is_token_shaped(&format!("{}!", &t[..42])));
        assert_eq!(
            url("https://b.example", "acme", "tok"),
            "https://b.example/connect/acme/tok"
        );
    }

    #[test]
    fn states() {
        let mut r = row();
        assert_eq!(state(&r, 10), "active");
        assert!(usable(&r, 10));
        assert_eq!(state(&r, 1000), "expired");
        assert!(!usable(&r, 1000));
        r.connected_at = Some(5);
        assert_eq!(state(&r, 10), "connected");
        assert!(usable(&r, 10));
        r.revoked_at = Some(6);
        assert_eq!(state(&r, 10), "revoked");
        assert!(!usable(&r, 10));
        let v = item(&r, 10);
        assert_eq!(v["state"], "revoked");
        assert!(v.get("token").is_none());
    }

    #[test]
    fn a_link_connects_once() {
        let mut r = row();
        assert!(ensure_unused(&r, "Example ATS").is_ok());
        r.connected_at = Some(5);
        let e = ensure_unused(&r, "Example ATS").unwrap_err();
        assert_eq!((e.status, e.code), (409, code::CONNECT_LINK_USED));
        assert!(
            e.message.contains("already used to connect Example ATS"),
            "{}",
            e.message
        );
        assert!(e.message.contains(&rfc3339(5)), "{}", e.message);
        assert!(e.message.contains("new link"), "{}", e.message);
    }

    #[test]
    fn credentials() {
        // A provider whose connect page asks for an `api_key` (each provider's file tests its
        // own guide by name).
        let with_key = Provider::all()
            .find(|p| setup::guide(*p).fields.iter().any(|f| f.name == "api_key"))
            .unwrap();
        let fields = setup::guide(with_key).fields;
        assert_eq!(
            parse_credentials(&json!({"api_key":" k "}), fields).unwrap(),
            vec![("api_key", "k".to_string())]
        );
        assert_eq!(
            parse_credentials(&json!({}), fields).unwrap_err().status,
            422
        );
        assert_eq!(
            parse_credentials(&json!({"api_key":"k","x":1}), fields)
                .unwrap_err()
                .status,
            422
        );
        let without = Provider::all()
            .find(|p| setup::guide(*p).fields.is_empty())
            .unwrap();
        let none = setup::guide(without).fields;
        assert!(parse_credentials(&Value::Null, none).unwrap().is_empty());
        // Optional fields may be left empty or out; given ones are kept.
        let optional = [setup::CredentialField {
            name: "o",
            label: "O",
            help: "",
            secret: false,
            optional: true,
        }];
        for empty in [json!({}), json!({"o": ""}), json!({"o": null}), Value::Null] {
            assert!(
                parse_credentials(&empty, &optional).unwrap().is_empty(),
                "{empty}"
            );
        }
        assert_eq!(
            parse_credentials(&json!({"o": "v"}), &optional).unwrap(),
            vec![("o", "v".to_string())]
        );
        assert_eq!(
            parse_credentials(&json!({"o": 5}), &optional)
                .unwrap_err()
                .status,
            422
        );
    }
}
