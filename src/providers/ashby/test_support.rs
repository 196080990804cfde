//! Test helpers shared by the ashby modules' unit tests.

use super::*;
use crate::admin::tenants::{TenantConfig, TenantSecrets};

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

pub fn tenant() -> (TenantConfig, TenantSecrets) {
    let cfg = TenantConfig {
        id: "acme".into(),
        name: None,
        webhook_url: "https://h.example/x".into(),
        webhook_disabled: true,
        packages_url: None,
        static_package_id: Some("p".into()),
        packages: vec![],
        default_kind: Default::default(),
        credentials: Default::default(),
        retention_days: crate::tenant::privacy::default_retention_days(),
        created_at: 0,
        updated_at: 0,
    };
    (cfg, TenantSecrets::default())
}
