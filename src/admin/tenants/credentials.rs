//! Each provider's write-back credentials for one tenant (`Spec::credentials`, `Spec::settings`;
//! docs/adding-an-ats.md).

use serde_json::{Map, Value};

use crate::error::{ApiError, ApiResult};
use crate::model::Provider;
use crate::providers::{CredentialField, CredentialSource, Settings};

use super::{reject_unknown, short_string, Change, TenantConfig, TenantSecrets};

/// Where a provider credential field is stored: `<provider>_<field>`.
pub(crate) fn credential_key(p: Provider, field: &str) -> String {
    format!("{}_{field}", p.as_str())
}

/// A change to one provider credential field.
#[derive(Debug, Clone, PartialEq)]
pub struct CredentialChange {
    pub provider: Provider,
    pub field: &'static str,
    pub secret: bool,
    pub change: Change<String>,
}

/// A change to one provider credential field (`path` names it in errors, `<provider>.<field>`):
/// absent → keep, `null` → clear, else a string of at most `max_len` characters — or, for an
/// object-valued credential (`CredentialField::parts`), an object of its parts (required ones
/// present, each a non-empty string of at most `max_len`, numeric ones digits or a number),
/// kept as one JSON string.
pub(crate) fn credential_change(
    f: &CredentialField,
    v: Option<&Value>,
    path: &str,
) -> ApiResult<Change<String>> {
    let v = match v {
        None => return Ok(Change::Keep),
        Some(Value::Null) => return Ok(Change::Clear),
        Some(v) => v,
    };
    if f.parts.is_empty() {
        return short_string(v, path, f.max_len).map(Change::Set);
    }
    let names: Vec<&str> = f.parts.iter().map(|p| p.name).collect();
    let shape = format!("must be an object {{{}}} or null", names.join(", "));
    let m = v
        .as_object()
        .ok_or_else(|| ApiError::invalid_field(path, &shape))?;
    reject_unknown(m, &format!("{path}."), &names)?;
    let mut out = Map::new();
    for p in f.parts {
        let field = format!("{path}.{}", p.name);
        let value = match m.get(p.name) {
            None | Some(Value::Null) if !p.required => continue,
            Some(Value::String(s)) if !p.required && s.trim().is_empty() => continue,
            None | Some(Value::Null) => return Err(ApiError::invalid_field(&field, "is required")),
            Some(Value::Number(n)) if p.numeric && n.is_u64() => n.to_string(),
            Some(v) => short_string(v, &field, f.max_len)?,
        };
        if p.numeric && !value.bytes().all(|b| b.is_ascii_digit()) {
            return Err(ApiError::invalid_field(&field, "must be a numeric id"));
        }
        out.insert(p.name.into(), Value::String(value));
    }
    Ok(Change::Set(Value::Object(out).to_string()))
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

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

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

    /// Each provider reads each field from where its kind is kept (secret ones from the KV
    /// secrets, the others from the configuration), only its own fields, and only the
    /// deployment settings it declared.
    #[test]
    fn resolution_reads_each_field_from_its_place_and_only_declared_settings() {
        let mut cfg: TenantConfig = serde_json::from_value(json!({
            "id": "acme", "name": null, "webhook_url": "https://h.example/x",
            "created_at": 0, "updated_at": 0
        }))
        .unwrap();
        let empty = cfg.clone();
        let mut secrets = TenantSecrets::default();
        let mut env = std::collections::BTreeMap::new();
        env.insert("UNDECLARED_SETTING".to_string(), "x".to_string());
        for p in Provider::all() {
            for f in p.spec().credentials {
                let (right, wrong) = if f.secret {
                    (&mut secrets.credentials, &mut cfg.credentials)
                } else {
                    (&mut cfg.credentials, &mut secrets.credentials)
                };
                let key = credential_key(p, f.name);
                right.insert(key.clone(), Some(format!("right-{key}")));
                wrong.insert(key, Some("wrong".into()));
            }
            for s in p.spec().settings {
                env.insert(s.env.to_string(), format!("env-{}", s.env));
            }
        }
        let c = Credentials::resolve(&cfg, &secrets, &Settings(env));
        for p in Provider::all() {
            let src = c.source(p);
            assert_eq!(
                src.values.len(),
                p.spec().credentials.len(),
                "{}",
                p.as_str()
            );
            for f in p.spec().credentials {
                let want = format!("right-{}", credential_key(p, f.name));
                assert_eq!(src.tenant(f.name), Some(want.as_str()));
            }
            for s in p.spec().settings {
                assert_eq!(src.setting(s.env), Some(format!("env-{}", s.env).as_str()));
            }
            assert_eq!(src.setting("UNDECLARED_SETTING"), None);
            assert_eq!(src.settings.0.len(), p.spec().settings.len());
        }
        // Nothing stored and nothing deployed: every source is empty.
        let bare = Credentials::resolve(&empty, &TenantSecrets::default(), &Settings::default());
        for p in Provider::all() {
            assert!(bare.source(p).values.is_empty() && bare.source(p).settings.0.is_empty());
        }
    }
}
