//! Tenant configuration: create/patch bodies (SPEC §5) and the redacted view.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};

use crate::error::{ApiError, ApiResult};
use crate::model::{opt_kind, rfc3339, OrderKind, Package, Provider};
use crate::providers::{CredentialField, CredentialSource, Settings};
use crate::targets;

/// Where a provider credential field is stored: `<provider>_<field>`.
pub(crate) fn credential_key(p: Provider, field: &str) -> String {
    format!("{}_{field}", p.as_str())
}

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
    /// `retention_days`: a number of days (60 to 3650), or `null` to keep data.
    pub retention_days: Change<u32>,
    /// Changes to provider credential fields (`{"<provider>": {"<field>": …}}`).
    pub credentials: Vec<CredentialChange>,
}

/// A change to one provider credential field.
#[derive(Debug, Clone, PartialEq)]
pub struct CredentialChange {
    pub provider: Provider,
    pub field: &'static str,
    pub secret: bool,
    pub change: Change<String>,
}

impl TenantPatch {
    pub fn touches_secrets(&self) -> bool {
        self.credentials
            .iter()
            .any(|c| c.secret && c.change != Change::Keep)
    }
    /// The change to `<provider>.<field>` (Keep when the body does not mention it).
    #[cfg(test)]
    pub fn credential(&self, provider: &str, field: &str) -> &Change<String> {
        self.credentials
            .iter()
            .find(|c| c.provider.as_str() == provider && c.field == field)
            .map(|c| &c.change)
            .unwrap_or(&Change::Keep)
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
    let with_credentials: Vec<Provider> = Provider::all()
        .filter(|p| !p.spec().credentials.is_empty())
        .collect();
    let mut allowed = vec![
        "name",
        "webhook",
        "packages_url",
        "static_package_id",
        "default_kind",
        "retention_days",
    ];
    allowed.extend(with_credentials.iter().map(|p| p.as_str()));
    reject_unknown(m, "", &allowed)?;
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
    let mut credentials = Vec::new();
    for p in with_credentials {
        let fields: &[CredentialField] = p.spec().credentials;
        let names: Vec<&str> = fields.iter().map(|f| f.name).collect();
        if let Some(o) = nested(p.as_str(), &names)? {
            for f in fields {
                let path = format!("{}.{}", p.as_str(), f.name);
                credentials.push(CredentialChange {
                    provider: p,
                    field: f.name,
                    secret: f.secret,
                    change: change(o, f.name, &path, f.max_len)?,
                });
            }
        }
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
    let retention_days = match m.get("retention_days") {
        None => Change::Keep,
        Some(v) => match crate::tenant::privacy::parse_retention_days(v)? {
            Some(d) => Change::Set(d),
            None => Change::Clear,
        },
    };
    Ok(TenantPatch {
        retention_days,
        name: change(m, "name", "name", 200)?,
        webhook_url,
        packages_url,
        static_package_id: change(m, "static_package_id", "static_package_id", 256)?,
        default_kind,
        credentials,
    })
}

/// Apply a patch; returns true when it re-enabled a 410-disabled webhook endpoint (then what
/// the endpoint held is sent at once). On an enabled endpoint a PATCH of `webhook.url` changes
/// where the next attempts go, never when (SPEC §20).
pub fn apply_patch(
    cfg: &mut TenantConfig,
    secrets: &mut TenantSecrets,
    p: TenantPatch,
    now: i64,
) -> bool {
    p.name.apply(&mut cfg.name);
    // Any PATCH of webhook.url (same or new URL) re-enables a 410-disabled endpoint (SPEC §8).
    let reenabled = p.webhook_url.is_some() && cfg.webhook_disabled;
    if let Some(url) = p.webhook_url {
        cfg.webhook_url = url;
        cfg.webhook_disabled = false;
    }
    p.packages_url.apply(&mut cfg.packages_url);
    p.retention_days.apply(&mut cfg.retention_days);
    p.static_package_id.apply(&mut cfg.static_package_id);
    let mut kind = Some(cfg.default_kind);
    p.default_kind.apply(&mut kind);
    cfg.default_kind = kind.unwrap_or_default();
    for c in p.credentials {
        let map = if c.secret {
            &mut secrets.credentials
        } else {
            &mut cfg.credentials
        };
        let key = credential_key(c.provider, c.field);
        let mut slot = map.remove(&key).flatten();
        c.change.apply(&mut slot);
        if slot.is_some() {
            map.insert(key, slot);
        }
    }
    cfg.updated_at = now;
    reenabled
}

/// What is known about a provider key (never the key itself).
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct KeyInfo {
    pub provider: String,
    pub created_at: i64,
}

/// Every provider's credentials for one tenant, resolved from its configuration, its secrets
/// and the deployment's settings (owned, so outbound attempts can outlive the request).
#[derive(Debug, Clone, Default)]
pub struct Credentials {
    sources: Vec<(Provider, CredentialSource)>,
}

impl Credentials {
    pub fn resolve(cfg: &TenantConfig, secrets: &TenantSecrets, settings: &Settings) -> Self {
        let sources = Provider::all()
            .map(|p| {
                let values = p
                    .spec()
                    .credentials
                    .iter()
                    .filter_map(|f| {
                        let map = if f.secret {
                            &secrets.credentials
                        } else {
                            &cfg.credentials
                        };
                        let v = map.get(&credential_key(p, f.name)).cloned().flatten()?;
                        Some((f.name, v))
                    })
                    .collect();
                let settings = Settings(
                    p.spec()
                        .settings
                        .iter()
                        .filter_map(|s| Some((s.env.to_string(), settings.get(s.env)?.to_string())))
                        .collect(),
                );
                (p, CredentialSource { values, settings })
            })
            .collect();
        Credentials { sources }
    }
    /// One provider's credential source (empty if it has none).
    pub fn source(&self, p: Provider) -> CredentialSource {
        self.sources
            .iter()
            .find(|(q, _)| *q == p)
            .map(|(_, s)| s.clone())
            .unwrap_or_default()
    }
    /// The `Authorization` header of `p`'s outbound calls; None: no credentials.
    pub fn authorization(&self, p: Provider) -> Option<String> {
        self.sources
            .iter()
            .find(|(q, _)| *q == p)
            .and_then(|(_, s)| (p.spec().authorization)(s))
    }
}

/// The tenant as the admin API shows it: no secret values, only whether they are set.
pub fn view(
    cfg: &TenantConfig,
    secrets: Option<&TenantSecrets>,
    keys: &[KeyInfo],
    origin: &str,
    now: i64,
) -> Value {
    let providers: Map<String, Value> = Provider::all()
        .map(|p| {
            let k = keys.iter().find(|k| k.provider == p.as_str());
            (
                p.as_str().to_string(),
                json!({
                    "key_set": k.is_some(),
                    "baseUrl": p.base_url(origin, &cfg.id),
                    "keyCreatedAt": k.map(|k| rfc3339(k.created_at)),
                }),
            )
        })
        .collect();
    let rotating = secrets
        .map(|s| s.signing_secrets(now).len() > 1)
        .unwrap_or(false);
    let mut v = json!({
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
        "retention_days": cfg.retention_days,
        "packages": cfg.packages,
    });
    // Each provider's credential fields: values of non-secret ones, `<field>_set` for secrets.
    for p in Provider::all().filter(|p| !p.spec().credentials.is_empty()) {
        let mut fields = Map::new();
        for f in p.spec().credentials {
            let key = credential_key(p, f.name);
            if f.secret {
                let set = secrets
                    .and_then(|s| s.credentials.get(&key))
                    .is_some_and(Option::is_some);
                fields.insert(format!("{}_set", f.name), json!(set));
            } else {
                fields.insert(
                    f.name.to_string(),
                    json!(cfg.credentials.get(&key).cloned().flatten()),
                );
            }
        }
        v[p.as_str()] = Value::Object(fields);
    }
    v["providers"] = Value::Object(providers);
    v["createdAt"] = json!(rfc3339(cfg.created_at));
    v["updatedAt"] = json!(rfc3339(cfg.updated_at));
    v
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
            credentials: Default::default(),
            retention_days: crate::tenant::privacy::default_retention_days(),
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
            &json!({"name":null,"webhook":{"url":"https://h.example/y"}}),
            false,
        )
        .unwrap();
        assert_eq!(p.name, Change::Clear);
        assert_eq!(p.static_package_id, Change::Keep);
        assert!(!p.touches_secrets());
        let mut c = cfg();
        let mut s = TenantSecrets::default();
        // On an enabled endpoint a webhook.url PATCH re-enables nothing (SPEC §20)…
        let mut enabled = TenantConfig {
            webhook_disabled: false,
            ..c.clone()
        };
        assert!(!apply_patch(&mut enabled, &mut s.clone(), p.clone(), 5));
        // …on a 410-disabled one it does.
        assert!(c.webhook_disabled);
        assert!(apply_patch(&mut c, &mut s, p, 5));
        assert!(!c.webhook_disabled);
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
            json!({"default_kind":5}),
        ] {
            assert_eq!(parse_patch(&bad, false).unwrap_err().status, 422, "{bad}");
        }
    }

    /// Every registered provider's credential fields: set, shown (secret ones only as
    /// `<field>_set`), resolved for its outbound calls, cleared; anything else refused.
    /// (Each provider's file checks its own fields by name.)
    #[test]
    fn provider_credential_fields() {
        for p in Provider::all() {
            let name = p.as_str();
            for f in p.spec().credentials {
                let value = format!("value-of-{name}-{}", f.name);
                let body = json!({ name: { f.name: value } });
                let patch = parse_patch(&body, false).unwrap();
                assert_eq!(patch.credential(name, f.name), &Change::Set(value.clone()));
                assert_eq!(patch.touches_secrets(), f.secret);
                let (mut c, mut s) = (cfg(), TenantSecrets::default());
                apply_patch(&mut c, &mut s, patch, 1);
                let v = view(&c, Some(&s), &[], "https://b.example", 0);
                if f.secret {
                    assert!(!v.to_string().contains(&value), "{name}.{} leaked", f.name);
                    assert_eq!(v[name][format!("{}_set", f.name)], true);
                } else {
                    assert_eq!(v[name][f.name], json!(value));
                }
                let resolved = Credentials::resolve(&c, &s, &Settings::default());
                assert_eq!(resolved.source(p).tenant(f.name), Some(value.as_str()));

                let clear = parse_patch(&json!({ name: { f.name: null } }), false).unwrap();
                assert_eq!(clear.credential(name, f.name), &Change::Clear);
                apply_patch(&mut c, &mut s, clear, 2);
                let resolved = Credentials::resolve(&c, &s, &Settings::default());
                assert_eq!(resolved.source(p).tenant(f.name), None);

                let long = "x".repeat(f.max_len + 1);
                for bad in [
                    json!({ name: { f.name: 5 } }),
                    json!({ name: { f.name: long } }),
                ] {
                    assert_eq!(parse_patch(&bad, false).unwrap_err().status, 422, "{bad}");
                }
            }
            let unknown = json!({ name: { "no_such_field": "x" } });
            if !p.spec().credentials.is_empty() {
                let e = parse_patch(&unknown, false).unwrap_err();
                assert!(e.message.contains(&format!("{name}.no_such_field")));
            } else {
                assert_eq!(parse_patch(&unknown, false).unwrap_err().status, 422);
            }
        }
    }

    /// Credentials stored before the registry (flat `<provider>_<field>` keys) still read.
    #[test]
    fn stored_credentials_keep_their_keys() {
        let c: TenantConfig = serde_json::from_value(json!({
            "id": "acme", "name": null, "webhook_url": "https://h.example/x",
            "x_user": "u", "x_empty": null, "created_at": 0, "updated_at": 0
        }))
        .unwrap();
        assert_eq!(c.credentials.get("x_user"), Some(&Some("u".to_string())));
        let back = serde_json::to_value(&c).unwrap();
        assert_eq!(back["x_user"], "u");
        let s: TenantSecrets =
            serde_json::from_value(json!({"webhook_secret": "w", "x_key": "k"})).unwrap();
        assert_eq!(s.credentials.get("x_key"), Some(&Some("k".to_string())));
    }

    #[test]
    fn view_redacts() {
        let s = TenantSecrets {
            webhook_secret: "whsec_x".into(),
            ..Default::default()
        };
        let v = view(&cfg(), Some(&s), &[], "https://b.example", 0);
        let text = v.to_string();
        assert!(!text.contains("whsec_x"));
        for p in Provider::all() {
            assert_eq!(
                v["providers"][p.as_str()]["baseUrl"],
                json!(p.base_url("https://b.example", "acme"))
            );
            assert_eq!(v["providers"][p.as_str()]["key_set"], false);
        }
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
