//! Tenant configuration: create/patch bodies (docs/contract.md "Admin API") and the redacted
//! view. `patch` is the `PATCH /v1/tenants/{t}` body and how it applies; `credentials` parses a
//! change to a provider's credential field and resolves each provider's write-back credentials.

mod credentials;
mod patch;
mod view;

pub(crate) use credentials::{credential_change, credential_key};
pub use credentials::{CredentialChange, Credentials};
pub use patch::*;
pub use view::{view, KeyInfo};

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::error::{ApiError, ApiResult};
use crate::model::{OrderKind, Package};
use crate::targets;

/// Non-secret tenant configuration, stored in the tenant object's SQLite.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TenantConfig {
    pub id: String,
    pub name: Option<String>,
    pub webhook_url: String,
    /// Set when the receiver answered 410 Gone; cleared by any PATCH of `webhook.url`.
    #[serde(default)]
    pub webhook_disabled: bool,
    #[serde(default)]
    pub packages_url: Option<String>,
    #[serde(default)]
    pub static_package_id: Option<String>,
    #[serde(default)]
    pub packages: Vec<Package>,
    /// The kind of a package that names none: the `static_package_id` package, stored or
    /// `packages_url` packages without `kind`, and orders for packages not in the list
    /// (README "Background-check and reference-check vendors"; default `assessment`).
    #[serde(default)]
    pub default_kind: OrderKind,
    /// Days a final assessment's personal data is kept (README "Personal data"); None keeps
    /// it without limit. Absent in stored configs from before: the default, 180.
    #[serde(default = "crate::tenant::privacy::default_retention_days")]
    pub retention_days: Option<u32>,
    pub created_at: i64,
    pub updated_at: i64,
    /// Non-secret provider credential fields, keyed `<provider>_<field>` (`Spec::credentials`).
    #[serde(flatten, default)]
    pub credentials: BTreeMap<String, Option<String>>,
}

/// Secret tenant material, stored in the `SECRETS` KV namespace (never returned after
/// creation, never logged).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TenantSecrets {
    pub webhook_secret: String,
    /// Secrets replaced by a rotation, with the time (ms) until which they still co-sign.
    #[serde(default)]
    pub previous_webhook_secrets: Vec<(String, i64)>,
    /// Secret provider credential fields, keyed `<provider>_<field>` (`Spec::credentials`).
    #[serde(flatten, default)]
    pub credentials: BTreeMap<String, Option<String>>,
}

impl TenantSecrets {
    /// Secrets that sign a delivery at `now`: the current one first.
    pub fn signing_secrets(&self, now: i64) -> Vec<&str> {
        let mut v = vec![self.webhook_secret.as_str()];
        v.extend(
            self.previous_webhook_secrets
                .iter()
                .filter(|(_, until)| *until > now)
                .map(|(s, _)| s.as_str()),
        );
        v
    }

    /// Rotate the webhook secret at `now` (ms): `fresh` signs from now on, the replaced
    /// secret co-signs for [`ROTATION_WINDOW_MS`] (README "Webhooks you receive"), and
    /// co-signers whose window has ended are dropped. Newest co-signer first.
    pub fn rotate_webhook_secret(&mut self, fresh: String, now: i64) {
        self.previous_webhook_secrets
            .retain(|(_, until)| *until > now);
        let replaced = std::mem::replace(&mut self.webhook_secret, fresh);
        self.previous_webhook_secrets
            .insert(0, (replaced, now + ROTATION_WINDOW_MS));
    }
}

/// How long a replaced webhook secret keeps co-signing (docs/contract.md "Admin API": 24 hours).
pub const ROTATION_WINDOW_MS: i64 = 24 * 3600 * 1000;

/// A validated `POST /v1/tenants` body.
#[derive(Debug, Clone, PartialEq)]
pub struct NewTenant {
    pub id: String,
    pub name: Option<String>,
    pub webhook_url: String,
    pub webhook_secret: Option<String>,
}

impl NewTenant {
    /// The new tenant's configuration at `now` (ms): webhook enabled, no packages, default
    /// kind and retention, created and updated now. Also gives back the webhook secret the
    /// body chose, if any (None: the bridge generates one).
    pub fn into_config(self, now: i64) -> (TenantConfig, Option<String>) {
        let cfg = TenantConfig {
            id: self.id,
            name: self.name,
            webhook_url: self.webhook_url,
            webhook_disabled: false,
            packages_url: None,
            static_package_id: None,
            packages: vec![],
            default_kind: Default::default(),
            credentials: Default::default(),
            retention_days: crate::tenant::privacy::default_retention_days(),
            created_at: now,
            updated_at: now,
        };
        (cfg, self.webhook_secret)
    }
}

fn obj<'a>(v: &'a Value, field: &str) -> ApiResult<&'a Map<String, Value>> {
    v.as_object()
        .ok_or_else(|| ApiError::invalid_field(field, "must be a JSON object"))
}

fn reject_unknown(m: &Map<String, Value>, prefix: &str, allowed: &[&str]) -> ApiResult<()> {
    for k in m.keys() {
        if !allowed.contains(&k.as_str()) {
            let field = format!("{prefix}{k}");
            let hint = if field == "webhook.secret" {
                "cannot be set here; rotate it with POST /v1/tenants/{id}/webhook/secret"
            } else {
                "is not a known field"
            };
            return Err(ApiError::invalid_field(&field, hint));
        }
    }
    Ok(())
}

fn short_string(v: &Value, field: &str, max: usize) -> ApiResult<String> {
    match v {
        Value::String(s) if !s.trim().is_empty() && s.len() <= max => Ok(s.trim().to_string()),
        Value::String(s) if s.len() > max => Err(ApiError::invalid_field(
            field,
            &format!("must be at most {max} characters"),
        )),
        _ => Err(ApiError::invalid_field(field, "must be a non-empty string")),
    }
}

fn webhook_url(v: &Value, allow_insecure: bool) -> ApiResult<String> {
    let s = short_string(v, "webhook.url", 2048)?;
    targets::check_target(&s, allow_insecure)
        .map(|u| u.to_string())
        .map_err(|why| ApiError::invalid_field("webhook.url", &why))
}

/// A `whsec_` secret supplied by the vendor must decode to at least 24 bytes.
fn webhook_secret(v: &Value) -> ApiResult<String> {
    let s = short_string(v, "webhook.secret", 512)?;
    match crate::delivery::sign::secret_bytes(&s) {
        Some(k) if s.starts_with("whsec_") && k.len() >= 24 => Ok(s),
        _ => Err(ApiError::invalid_field(
            "webhook.secret",
            "must be `whsec_` followed by base64 of at least 24 random bytes",
        )),
    }
}

pub fn parse_create(v: &Value, allow_insecure: bool) -> ApiResult<NewTenant> {
    let m = obj(v, "body")?;
    reject_unknown(m, "", &["id", "name", "webhook"])?;
    let id = match m.get("id") {
        Some(Value::String(s)) if crate::model::is_valid_slug(s) => s.clone(),
        Some(_) => {
            return Err(ApiError::invalid_field(
                "id",
                "must be a slug matching [a-z0-9][a-z0-9-]{0,62}",
            ))
        }
        None => return Err(ApiError::invalid_field("id", "is required")),
    };
    let name = match m.get("name") {
        None | Some(Value::Null) => None,
        Some(v) => Some(short_string(v, "name", 200)?),
    };
    let wh = m
        .get("webhook")
        .ok_or_else(|| ApiError::invalid_field("webhook.url", "is required"))?;
    let wh = obj(wh, "webhook")?;
    reject_unknown(wh, "webhook.", &["url", "secret"])?;
    let webhook_url = webhook_url(
        wh.get("url")
            .ok_or_else(|| ApiError::invalid_field("webhook.url", "is required"))?,
        allow_insecure,
    )?;
    let webhook_secret = match wh.get("secret") {
        None | Some(Value::Null) => None,
        Some(v) => Some(webhook_secret(v)?),
    };
    Ok(NewTenant {
        id,
        name,
        webhook_url,
        webhook_secret,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn create_validation() {
        let ok = parse_create(
            &json!({"id":"acme","name":"Acme","webhook":{"url":"https://h.example/x"}}),
            false,
        )
        .unwrap();
        assert_eq!(ok.id, "acme");
        assert_eq!(ok.webhook_secret, None);
        let e = parse_create(&json!({"id":"acme","webhook":{}}), false).unwrap_err();
        assert!(e.message.contains("webhook.url"));
        let e = parse_create(
            &json!({"id":"acme","webhook":{"url":"http://127.0.0.1/x"}}),
            false,
        )
        .unwrap_err();
        assert_eq!(e.status, 422);
        assert!(parse_create(
            &json!({"id":"acme","webhook":{"url":"http://127.0.0.1/x"}}),
            true
        )
        .is_ok());
        let e = parse_create(
            &json!({"id":"Acme","webhook":{"url":"https://h.example"}}),
            false,
        )
        .unwrap_err();
        assert!(e.message.contains("`id`"));
        let e = parse_create(
            &json!({"id":"a","webhook":{"url":"https://h.example","secret":"whsec_c2hvcnQ="}}),
            false,
        )
        .unwrap_err();
        assert!(e.message.contains("webhook.secret"));
        assert!(parse_create(&json!([1]), false).is_err());
    }

    #[test]
    fn a_new_tenant_starts_enabled_and_empty() {
        let new = parse_create(
            &json!({"id": "acme", "webhook": {"url": "https://h.example/x"}}),
            false,
        )
        .unwrap();
        let (c, secret) = new.into_config(42);
        assert_eq!(
            (c.id.as_str(), c.webhook_url.as_str()),
            ("acme", "https://h.example/x")
        );
        assert!(!c.webhook_disabled);
        assert!(c.packages.is_empty() && c.packages_url.is_none() && c.static_package_id.is_none());
        assert_eq!(c.default_kind, OrderKind::Assessment);
        assert_eq!(
            c.retention_days,
            crate::tenant::privacy::default_retention_days()
        );
        assert_eq!((c.created_at, c.updated_at), (42, 42));
        assert!(c.credentials.is_empty());
        assert_eq!(secret, None, "the bridge generates one");
    }

    #[test]
    fn a_rotated_webhook_secret_co_signs_for_the_window_then_drops_out() {
        let mut s = TenantSecrets {
            webhook_secret: "s1".into(),
            ..Default::default()
        };
        s.rotate_webhook_secret("s2".into(), 1_000);
        assert_eq!(s.webhook_secret, "s2");
        assert_eq!(s.signing_secrets(1_000), vec!["s2", "s1"]);
        assert_eq!(
            s.signing_secrets(1_000 + ROTATION_WINDOW_MS - 1),
            vec!["s2", "s1"]
        );
        assert_eq!(s.signing_secrets(1_000 + ROTATION_WINDOW_MS), vec!["s2"]);
        // A second rotation inside the window: both earlier secrets co-sign, newest first.
        s.rotate_webhook_secret("s3".into(), 2_000);
        assert_eq!(s.signing_secrets(2_000), vec!["s3", "s2", "s1"]);
        // A rotation after the first window ended drops the expired co-signer for good.
        s.rotate_webhook_secret("s4".into(), 1_000 + ROTATION_WINDOW_MS);
        assert_eq!(
            s.previous_webhook_secrets,
            vec![
                ("s3".to_string(), 1_000 + 2 * ROTATION_WINDOW_MS),
                ("s2".to_string(), 2_000 + ROTATION_WINDOW_MS),
            ]
        );
    }

    #[test]
    fn rotation_window() {
        let s = TenantSecrets {
            webhook_secret: "new".into(),
            previous_webhook_secrets: vec![("old".into(), 100)],
            ..Default::default()
        };
        assert_eq!(s.signing_secrets(50), vec!["new", "old"]);
        assert_eq!(s.signing_secrets(100), vec!["new"]);
    }
}
