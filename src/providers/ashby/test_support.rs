//! Test helpers shared by the ashby modules' unit tests.

use super::*;
use crate::admin::tenants::{TenantConfig, TenantSecrets};
pub use crate::providers::test_support::result;

pub fn start_json() -> Value {
    json!({
        "assessment_type_id": "pkg_456",
        "candidate": {"ashby_id": "cand_789xyz", "first_name": "Alex", "last_name": "Chen", "email": "alex@example.com", "ashby_profile_url": "https://app.ashbyhq.com/candidates/cand_789xyz"},
        "application": {"ashby_id": "app_123abc", "status": "Active"},
        "job": {"ashby_id": "job_456def", "name": "Senior Frontend Engineer", "req_id": "R-7", "ashby_job_url": "https://app.ashbyhq.com/jobs/job_456def", "hiringTeam": [{"userId": "u1", "firstName": "Sam", "lastName": "Lee", "email": "sam@example.com", "role": "Recruiter"}]}
    })
}

pub fn ab() -> Provider {
    Provider::parse("ashby").unwrap()
}

/// The shared test tenant with its webhook disabled and a static package `p`.
pub fn tenant() -> (TenantConfig, TenantSecrets) {
    let (cfg, secrets) = crate::providers::test_support::tenant();
    let cfg = TenantConfig {
        webhook_disabled: true,
        static_package_id: Some("p".into()),
        ..cfg
    };
    (cfg, secrets)
}
