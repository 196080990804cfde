//! Test helpers shared by the recruitee modules' unit tests.

use super::*;
pub use crate::providers::test_support::{creds, result};

pub fn fixture() -> Value {
    serde_json::from_str(include_str!(
        "../../../fixtures/recruitee/send_candidate.json"
    ))
    .unwrap()
}

pub fn record(test_id: &str, kind: OrderKind) -> CandidateAssessment {
    let v = fixture();
    let mut o = parse_send_candidate(&v).unwrap();
    o.test_id = test_id.into();
    let mut a = normalize(&o, "ats_ass_1", "acme", Catalogue::default(), v);
    a.assessment_package.kind = kind;
    a
}
