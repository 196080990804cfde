//! Test plumbing every provider's unit tests share (each provider's own `test_support.rs`
//! keeps only its fixtures and tokens): a blank result, a tenant, and write-back credentials
//! from deployment settings.

use super::{CredentialSource, Settings};
use crate::admin::tenants::{NewTenant, TenantConfig, TenantSecrets};
use crate::model::{ResultUpdate, Status};

/// A result with `status` and nothing else (README "Results back to the ATS"); set fields with
/// struct update syntax: `ResultUpdate { score: Some(1.0), ..result(Status::Completed) }`.
pub fn result(status: Status) -> ResultUpdate {
    ResultUpdate::status_only(status)
}

/// Tenant `acme` as `POST /v1/tenants` creates it at time 0, with its webhook at
/// `https://h.example/x`, nothing else configured, and no secrets.
pub fn tenant() -> (TenantConfig, TenantSecrets) {
    let (cfg, _) = NewTenant {
        id: "acme".into(),
        name: None,
        webhook_url: "https://h.example/x".into(),
        webhook_secret: None,
    }
    .into_config(0);
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
