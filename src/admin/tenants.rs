//! Tenant configuration: create/patch bodies (SPEC §5) and the redacted view.

use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};

use crate::error::{ApiError, ApiResult};
use crate::model::{opt_kind, rfc3339, OrderKind, Package, Provider};
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
    /// (SPEC §12; default `assessment`).
    #[serde(default)]
    pub default_kind: OrderKind,
    #[serde(default)]
    pub greenhouse_partner_username: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
}

/// Secret tenant material, stored in the `SECRETS` KV namespace (never returned after
/// creation, never logged).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TenantSecrets {
    pub webhook_secret: String,
    /// Secrets replaced by a rotation, with the time (ms) until which they still co-sign.
    #[serde(default)]
    pub previous_webhook_secrets: Vec<(String, i64)>,
    #[serde(default)]
    pub ashby_api_key: Option<String>,
    #[serde(default)]
    pub greenhouse_partner_password: Option<String>,
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
}

/// How long a replaced webhook secret keeps co-signing (SPEC §5).
pub const ROTATION_WINDOW_MS: i64 = 24 * 3600 * 1000;

/// A validated `POST /v1/tenants` body.
#[derive(Debug, Clone, PartialEq)]
pub struct NewTenant {
    pub id: String,
    pub name: Option<String>,
    pub webhook_url: String,
    pub webhook_secret: Option<String>,
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

/// A change to an optional field: leave, clear (`null`), or set.
#[derive(Debug, Clone, PartialEq)]
pub enum Change<T> {
    Keep,
    Clear,
    Set(T),
}

impl<T> Change<T> {
    fn apply(self, slot: &mut Option<T>) {
        match self {
            Change::Keep => {}
            Change::Clear => *slot = None,
            Change::Set(v) => *slot = Some(v),
        }
    }
}

/// A validated `PATCH /v1/tenants/{t}` body.
#[derive(Debug, Clone, PartialEq)]
pub struct TenantPatch {
    pub name: Change<String>,
    pub webhook_url: Option<String>,
    pub packages_url: Change<String>,
    pub static_package_id: Change<String>,
    /// `null` resets it to `assessment`.
    pub default_kind: Change<OrderKind>,
    pub ashby_api_key: Change<String>,
    pub greenhouse_partner_username: Change<String>,
    pub greenhouse_partner_password: Change<String>,
}

impl TenantPatch {
    pub fn touches_secrets(&self) -> bool {
        self.ashby_api_key != Change::Keep || self.greenhouse_partner_password != Change::Keep
    }
}

fn change(m: &Map<String, Value>, key: &str, field: &str, max: usize) -> ApiResult<Change<String>> {
    match m.get(key) {
        None => Ok(Change::Keep),
        Some(Value::Null) => Ok(Change::Clear),
        Some(v) => short_string(v, field, max).map(Change::Set),
    }
}

pub fn parse_patch(v: &Value, allow_insecure: bool) -> ApiResult<TenantPatch> {
    let m = obj(v, "body")?;
    reject_unknown(
        m,
        "",
        &[
            "name",
            "webhook",
            "packages_url",
            "static_package_id",
            "default_kind",
            "ashby",
            "greenhouse",
        ],
    )?;
    let webhook_url = match m.get("webhook") {
        None => None,
        Some(Value::Null) => {
            return Err(ApiError::invalid_field("webhook.url", "cannot be cleared"))
        }
        Some(w) => {
            let w = obj(w, "webhook")?;
            reject_unknown(w, "webhook.", &["url"])?;
            match w.get("url") {
                None => None,
                Some(Value::Null) => {
                    return Err(ApiError::invalid_field("webhook.url", "cannot be cleared"))
                }
                Some(u) => Some(webhook_url(u, allow_insecure)?),
            }
        }
    };
    let packages_url = match change(m, "packages_url", "packages_url", 2048)? {
        Change::Set(u) => Change::Set(
            targets::check_target(&u, allow_insecure)
                .map(|u| u.to_string())
                .map_err(|why| ApiError::invalid_field("packages_url", &why))?,
        ),
        other => other,
    };
    let nested = |key: &str, allowed: &[&str]| -> ApiResult<Option<&Map<String, Value>>> {
        match m.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(v) => {
                let o = obj(v, key)?;
                reject_unknown(o, &format!("{key}."), allowed)?;
                Ok(Some(o))
            }
        }
    };
    let (mut ashby_api_key, mut gh_user, mut gh_pass) = (Change::Keep, Change::Keep, Change::Keep);
    if let Some(a) = nested("ashby", &["api_key"])? {
        ashby_api_key = change(a, "api_key", "ashby.api_key", 512)?;
    }
    if let Some(g) = nested("greenhouse", &["partner_username", "partner_password"])? {
        gh_user = change(g, "partner_username", "greenhouse.partner_username", 512)?;
        gh_pass = change(g, "partner_password", "greenhouse.partner_password", 512)?;
    }
    let default_kind = match m.get("default_kind") {
        None => Change::Keep,
        Some(Value::Null) => Change::Clear,
        Some(v) => Change::Set(
            opt_kind(Some(v))
                .map_err(|why| ApiError::invalid_field("default_kind", why))?
                .unwrap_or_default(),
        ),
    };
    Ok(TenantPatch {
        name: change(m, "name", "name", 200)?,
        webhook_url,
        packages_url,
        static_package_id: change(m, "static_package_id", "static_package_id", 256)?,
        default_kind,
        ashby_api_key,
        greenhouse_partner_username: gh_user,
        greenhouse_partner_password: gh_pass,
    })
}

/// Apply a patch; returns true when the webhook endpoint was (re-)enabled by it.
pub fn apply_patch(
    cfg: &mut TenantConfig,
    secrets: &mut TenantSecrets,
    p: TenantPatch,
    now: i64,
) -> bool {
    p.name.apply(&mut cfg.name);
    // Any PATCH of webhook.url (same or new URL) re-enables a 410-disabled endpoint (SPEC §8).
    let reenabled = p.webhook_url.is_some();
    if let Some(url) = p.webhook_url {
        cfg.webhook_url = url;
        cfg.webhook_disabled = false;
    }
    p.packages_url.apply(&mut cfg.packages_url);
    p.static_package_id.apply(&mut cfg.static_package_id);
    let mut kind = Some(cfg.default_kind);
    p.default_kind.apply(&mut kind);
    cfg.default_kind = kind.unwrap_or_default();
    p.greenhouse_partner_username
        .apply(&mut cfg.greenhouse_partner_username);
    p.ashby_api_key.apply(&mut secrets.ashby_api_key);
    p.greenhouse_partner_password
        .apply(&mut secrets.greenhouse_partner_password);
    cfg.updated_at = now;
    reenabled
}

/// What is known about a provider key (never the key itself).
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct KeyInfo {
    pub provider: String,
    pub created_at: i64,
}

pub fn base_url(origin: &str, tenant: &str, provider: Provider) -> String {
    format!("{origin}/t/{tenant}/{}", provider.as_str())
}

/// The tenant as the admin API shows it: no secret values, only whether they are set.
pub fn view(
    cfg: &TenantConfig,
    secrets: Option<&TenantSecrets>,
    keys: &[KeyInfo],
    origin: &str,
    now: i64,
) -> Value {
    let providers: Map<String, Value> = Provider::ALL
        .iter()
        .map(|p| {
            let k = keys.iter().find(|k| k.provider == p.as_str());
            (
                p.as_str().to_string(),
                json!({
                    "key_set": k.is_some(),
                    "baseUrl": base_url(origin, &cfg.id, *p),
                    "keyCreatedAt": k.map(|k| rfc3339(k.created_at)),
                }),
            )
        })
        .collect();
    let rotating = secrets
        .map(|s| s.signing_secrets(now).len() > 1)
        .unwrap_or(false);
    json!({
        "id": cfg.id,
        "name": cfg.name,
        "webhook": {
            "url": cfg.webhook_url,
            "enabled": !cfg.webhook_disabled,
            "secret_rotating": rotating,
        },
        "packages_url": cfg.packages_url,
        "static_package_id": cfg.static_package_id,
        "default_kind": cfg.default_kind,
        "packages": cfg.packages,
        "ashby": { "api_key_set": secrets.map(|s| s.ashby_api_key.is_some()).unwrap_or(false) },
        "greenhouse": {
            "partner_username": cfg.greenhouse_partner_username,
            "partner_password_set": secrets.map(|s| s.greenhouse_partner_password.is_some()).unwrap_or(false),
        },
        "providers": providers,
        "createdAt": rfc3339(cfg.created_at),
        "updatedAt": rfc3339(cfg.updated_at),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg() -> TenantConfig {
        TenantConfig {
            id: "acme".into(),
            name: None,
            webhook_url: "https://h.example/x".into(),
            webhook_disabled: true,
            packages_url: None,
            static_package_id: Some("p".into()),
            packages: vec![],
            default_kind: OrderKind::Assessment,
            greenhouse_partner_username: None,
            created_at: 0,
            updated_at: 0,
        }
    }

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
    fn patch_semantics() {
        let p = parse_patch(
            &json!({"name":null,"webhook":{"url":"https://h.example/y"},"ashby":{"api_key":"k"},"greenhouse":{"partner_password":null}}),
            false,
        )
        .unwrap();
        assert_eq!(p.name, Change::Clear);
        assert_eq!(p.ashby_api_key, Change::Set("k".into()));
        assert_eq!(p.greenhouse_partner_password, Change::Clear);
        assert_eq!(p.static_package_id, Change::Keep);
        let mut c = cfg();
        let mut s = TenantSecrets::default();
        assert!(apply_patch(&mut c, &mut s, p, 5));
        assert!(!c.webhook_disabled);
        assert_eq!(s.ashby_api_key.as_deref(), Some("k"));
        assert_eq!(c.updated_at, 5);
        assert_eq!(c.default_kind, OrderKind::Assessment);

        let p = parse_patch(&json!({"default_kind":"background_check"}), false).unwrap();
        apply_patch(&mut c, &mut s, p, 6);
        assert_eq!(c.default_kind, OrderKind::BackgroundCheck);
        assert_eq!(
            view(&c, None, &[], "o", 0)["default_kind"],
            "background_check"
        );
        let p = parse_patch(&json!({"default_kind":null}), false).unwrap();
        apply_patch(&mut c, &mut s, p, 7);
        assert_eq!(c.default_kind, OrderKind::Assessment);
        let e = parse_patch(&json!({"default_kind":"drug_test"}), false).unwrap_err();
        assert_eq!(e.status, 422);
        assert!(e.message.contains("default_kind"), "{}", e.message);

        for bad in [
            json!({"webhook":null}),
            json!({"webhook":{"url":null}}),
            json!({"webhook":{"secret":"x"}}),
            json!({"colour":"red"}),
            json!({"packages_url":"http://10.0.0.1/p"}),
            json!({"ashby":{"api_key":5}}),
            json!({"default_kind":5}),
        ] {
            assert_eq!(parse_patch(&bad, false).unwrap_err().status, 422, "{bad}");
        }
    }

    #[test]
    fn view_redacts() {
        let s = TenantSecrets {
            webhook_secret: "whsec_x".into(),
            ashby_api_key: Some("secret-ashby".into()),
            ..Default::default()
        };
        let v = view(&cfg(), Some(&s), &[], "https://b.example", 0);
        let text = v.to_string();
        assert!(!text.contains("secret-ashby"));
        assert!(!text.contains("whsec_x"));
        assert_eq!(v["ashby"]["api_key_set"], true);
        assert_eq!(
            v["providers"]["ashby"]["baseUrl"],
            "https://b.example/t/acme/ashby"
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
