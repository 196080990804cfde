//! The tenant as the admin API shows it (`GET /v1/tenants/{t}`, docs/contract.md "Admin API"): no
//! secret values, only whether they are set.

use serde::Deserialize;
use serde_json::{json, Map, Value};

use super::{credential_key, TenantConfig, TenantSecrets};
use crate::model::{rfc3339, Provider};

/// What is known about a provider key (never the key itself).
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct KeyInfo {
    pub provider: String,
    pub created_at: i64,
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
            default_kind: crate::model::OrderKind::Assessment,
            credentials: Default::default(),
            retention_days: crate::tenant::privacy::default_retention_days(),
            created_at: 0,
            updated_at: 0,
        }
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
}
