//! Test helpers shared by the greenhouse modules' unit tests.

use super::*;
use crate::admin::tenants::{TenantConfig, TenantSecrets};

pub fn order_json() -> Value {
    json!({
        "partner_test_id": "pkg_9f3aK21",
        "candidate": {
            "first_name": "John", "last_name": "Doe", "preferred_name": "John",
            "email": "john@example.com", "phone_number": "+1-555-123-4567",
            "resume_url": "https://johndoe.dev/resume",
            "greenhouse_profile_url": "https://app.greenhouse.io/people/762198?application_id=87456321"
        },
        "sent_by": "recruiter@example.com",
        "url": "https://app.greenhouse.io/integrations/testing_partners/take_home_tests/12345"
    })
}

pub fn gh() -> Provider {
    Provider::parse("greenhouse").unwrap()
}

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

pub fn result(status: Status) -> ResultUpdate {
    ResultUpdate {
        attachments: vec![],
        status,
        score: None,
        max_score: None,
        result_url: None,
        started_at: None,
        completed_at: None,
        summary: None,
        metadata: Map::new(),
        reason: None,
    }
}
