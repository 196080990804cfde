//! `PATCH /v1/tenants/{t}` (docs/contract.md "Admin API"): the body parsed into a [`TenantPatch`]
//! and applied to the configuration and secrets.

use serde_json::{Map, Value};

use crate::error::{ApiError, ApiResult};
use crate::model::{opt_kind, OrderKind, Provider};
use crate::providers::CredentialField;
use crate::targets;

use super::{
    credential_change, credential_key, obj, reject_unknown, short_string, webhook_url,
    CredentialChange, TenantConfig, TenantSecrets,
};

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
                    change: credential_change(f, o.get(f.name), &path)?,
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
/// where the next attempts go, never when (README "Webhooks you receive").
pub fn apply_patch(
    cfg: &mut TenantConfig,
    secrets: &mut TenantSecrets,
    p: TenantPatch,
    now: i64,
) -> bool {
    p.name.apply(&mut cfg.name);
    // Any PATCH of webhook.url (same or new URL) re-enables a 410-disabled endpoint (README
    // "Webhooks you receive").
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::admin::tenants::{view, Credentials};
    use crate::providers::Settings;
    use serde_json::json;

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
        // On an enabled endpoint a webhook.url PATCH re-enables nothing (README "Webhooks you
        // receive")…
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
                // An object-valued credential: every part given (numeric ones as digits).
                let sent = if f.parts.is_empty() {
                    json!(value)
                } else {
                    Value::Object(
                        f.parts
                            .iter()
                            .map(|p| {
                                let v = if p.numeric {
                                    "4711".into()
                                } else {
                                    format!("{value}-{}", p.name)
                                };
                                (p.name.to_string(), json!(v))
                            })
                            .collect(),
                    )
                };
                let value = if f.parts.is_empty() {
                    value
                } else {
                    sent.to_string()
                };
                let body = json!({ name: { f.name: sent } });
                let patch = parse_patch(&body, false).unwrap();
                assert_eq!(patch.credential(name, f.name), &Change::Set(value.clone()));
                assert_eq!(patch.touches_secrets(), f.secret);
                let (mut c, mut s) = (cfg(), TenantSecrets::default());
                apply_patch(&mut c, &mut s, patch, 1);
                let v = view(&c, Some(&s), &[], "https://b.example", 0);
                if f.secret {
                    assert!(
                        !v.to_string().contains("value-of"),
                        "{name}.{} leaked",
                        f.name
                    );
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
}
