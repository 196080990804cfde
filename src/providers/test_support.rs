//! Test plumbing every provider's unit tests share (each provider's own `test_support.rs`
//! keeps only its fixtures and tokens): a blank result, a tenant, and write-back credentials
//! from deployment settings.

use super::{CredentialSource, Settings};
use crate::admin::tenants::{TenantConfig, TenantSecrets};
use crate::model::{ResultUpdate, Status};

/// A result with `status` and nothing else (README "Results back to the ATS"); set fields with
/// struct update syntax: `ResultUpdate { score: Some(1.0), ..result(Status::Completed) }`.
pub fn result(status: Status) -> ResultUpdate {
    ResultUpdate::status_only(status)
}

/// Tenant `acme` with its webhook at `https://h.example/x`, nothing else configured, and no
/// secrets.
pub fn tenant() -> (TenantConfig, TenantSecrets) {
    let cfg = TenantConfig {
        id: "acme".into(),
        name: None,
        webhook_url: "https://h.example/x".into(),
        webhook_disabled: false,
        packages_url: None,
        static_package_id: None,
        packages: vec![],
        default_kind: Default::default(),
        credentials: Default::default(),
        retention_days: crate::tenant::privacy::default_retention_days(),
        created_at: 0,
        updated_at: 0,
    };
    (cfg, TenantSecrets::default())
}

/// Write-back credentials with no tenant values and these deployment settings (`(env name,
/// value)`).
pub fn creds(settings: &[(&str, &str)]) -> CredentialSource {
    CredentialSource {
        values: Default::default(),
        settings: Settings(
            settings
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        ),
    }
}
