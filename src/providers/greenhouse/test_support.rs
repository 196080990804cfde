//! Test helpers shared by the greenhouse modules' unit tests.

use super::*;
pub use crate::providers::test_support::{result, tenant};

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
