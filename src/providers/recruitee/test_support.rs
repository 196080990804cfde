//! Test helpers shared by the recruitee modules' unit tests.

use super::*;

pub fn fixture() -> Value {
    serde_json::from_str(include_str!(
        "../../../fixtures/recruitee/send_candidate.json"
    ))
    .unwrap()
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

pub fn creds(settings: &[(&str, &str)]) -> CredentialSource {
    CredentialSource {
        values: Default::default(),
        settings: super::super::Settings(
            settings
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        ),
    }
}

pub fn record(test_id: &str, kind: OrderKind) -> CandidateAssessment {
    let v = fixture();
    let mut o = parse_send_candidate(&v).unwrap();
    o.test_id = test_id.into();
    let mut a = normalize(&o, "ats_ass_1", "acme", Catalogue::default(), v);
    a.assessment_package.kind = kind;
    a
}
