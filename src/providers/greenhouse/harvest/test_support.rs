//! Test helpers shared by the Harvest modules' unit tests.

use super::*;
use crate::providers::Settings;

pub fn creds(v: Value) -> CredentialSource {
    let mut c = CredentialSource::default();
    c.values.insert(CREDENTIAL, v.to_string());
    c.settings = Settings(
        [
            (
                API_BASE_SETTING.to_string(),
                "http://127.0.0.1:9/v3/".to_string(),
            ),
            (
                TOKEN_URL_SETTING.to_string(),
                "http://127.0.0.1:9/token".to_string(),
            ),
        ]
        .into(),
    );
    c
}

pub fn ok(body: Value) -> ReadAnswer {
    ReadAnswer {
        status: Some(200),
        body: body.to_string(),
        ..Default::default()
    }
}

pub fn status(s: u16) -> ReadAnswer {
    ReadAnswer {
        status: Some(s),
        ..Default::default()
    }
}

pub fn record(app: Option<&str>, sent_by: Option<&str>) -> CandidateAssessment {
    let mut v = json!({"partner_test_id": "p", "candidate": {"email": "c@example.com"},
        "url": "https://app.greenhouse.io/x/1", "sent_by": sent_by});
    if let Some(app) = app {
        v["candidate"]["greenhouse_profile_url"] = json!(format!(
            "https://app.greenhouse.io/people/9?application_id={app}"
        ));
    }
    let o = crate::providers::greenhouse::parse_send_test(&v, false).unwrap();
    crate::providers::greenhouse::normalize(&o, "ats_ass_1", "acme", Default::default(), v)
}

pub fn full() -> CredentialSource {
    creds(json!({"client_id": "id", "client_secret": "sec", "user_id": "42"}))
}

pub fn application() -> Value {
    json!([{"id": 77, "candidate_id": 9, "job_id": 501,
        "keyed_custom_fields": {"salary_band": {"name": "Salary band", "type": "short_text", "value": "B"}}}])
}

pub fn job() -> Value {
    json!({"data": [{"id": 501, "name": "Backend Engineer", "requisition_id": "REQ-7",
        "departments": [{"id": 1, "name": "Engineering"}],
        "offices": [{"id": 2, "name": "Berlin", "location": {"name": "Berlin, Germany"}}],
        "hiring_team": {
            "hiring_managers": [{"id": 11, "first_name": "Hana", "last_name": "M"}],
            "recruiters": [{"user_id": 12, "first_name": "Rita", "last_name": "R", "email": "rita@example.com"}],
            "coordinators": [], "sourcers": []}}]})
}
