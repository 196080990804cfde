//! Host unit tests of the parent module's rules.

use super::*;

fn record() -> Value {
    json!({
        "id": "ats_ass_1", "applicationId": "app_1", "jobId": "job_1",
        "assessmentPackage": {"id": "pkg", "name": "Test"},
        "callbackUrl": "https://app.ats.example/cb/1",
        "candidate": {"emails": [{"email": "John.Doe@Example.com", "type": "personal"}],
                      "firstName": "John", "lastName": "Doe", "id": "c1",
                      "links": ["https://cv"], "location": "Berlin",
                      "phones": [{"phoneNumber": "+49", "type": "mobile"}]},
        "originData": {"candidate": {"email": "john.doe@example.com"}},
        "metaData": {"x": 1}, "hiringTeam": [{"email": "sam@example.com"}],
        "requester": {"email": "r@example.com"}, "customFields": {"a": {"value": "b"}},
        "status": "COMPLETED", "provider": crate::model::Provider::all().next().unwrap().as_str(),
        "tenantId": "acme"
    })
}

#[test]
fn erasure_names_one_email_or_one_assessment() {
    assert_eq!(
        parse_erasure(&json!({"email": " John.Doe@Example.COM "})).unwrap(),
        ErasureTarget::Email("john.doe@example.com".into())
    );
    assert_eq!(
        parse_erasure(&json!({"assessment_id": "ats_ass_1"})).unwrap(),
        ErasureTarget::AssessmentId("ats_ass_1".into())
    );
    let field = |v: Value| parse_erasure(&v).unwrap_err().message;
    assert!(field(json!({})).contains("email"));
    assert!(field(json!({"email": "nope"})).contains("email"));
    assert!(field(json!({"email": 3})).contains("email"));
    assert!(field(json!({"assessment_id": ""})).contains("assessment_id"));
    assert!(field(json!({"email": "a@b", "assessment_id": "x"})).contains("email"));
    assert!(field(json!({"name": "x"})).contains("name"));
    assert_eq!(parse_erasure(&json!([])).unwrap_err().status, 422);
    assert_eq!(parse_erasure(&json!({})).unwrap_err().status, 422);
}

#[test]
fn an_email_is_found_anywhere_in_an_event_body() {
    let body = json!({"eventType": "provider.error", "eventData": {"providerError": {
        "detail": {"candidate_email": "John.Doe@Example.com", "message": "bounced"}}}});
    assert!(mentions_email(&body, "john.doe@example.com"));
    assert!(mentions_email(
        &json!({"m": ["x", {"t": "mail to JOHN.DOE@EXAMPLE.COM failed"}]}),
        "john.doe@example.com"
    ));
    assert!(mentions_email(
        &json!({"john.doe@example.com": 1}),
        "john.doe@example.com"
    ));
    assert!(!mentions_email(&body, "jane@example.com"));
    // A whole address only: not the tail of another one, nor the head of a longer domain.
    assert!(!mentions_email(&body, "ohn.doe@example.com"));
    assert!(!mentions_email(&json!("max@example.com"), "ax@example.com"));
    assert!(!mentions_email(
        &json!("ax@example.com.au"),
        "ax@example.com"
    ));
    assert!(!mentions_email(
        &json!("ax@example.community"),
        "ax@example.com"
    ));
    assert!(mentions_email(
        &json!("<ax@example.com>."),
        "ax@example.com"
    ));
    assert!(mentions_email(
        &json!("to: ax@example.com, max@example.com"),
        "ax@example.com"
    ));
    assert!(mentions_email(
        &json!("x max@example.com ax@example.com"),
        "ax@example.com"
    ));
    assert!(!mentions_email(&json!(42), "john.doe@example.com"));
    assert!(!mentions_email(&json!(ERASED_BODY), "john.doe@example.com"));
}

#[test]
fn emails_match_ignoring_case() {
    assert!(record_has_email(&record(), "john.doe@example.com"));
    assert!(!record_has_email(&record(), "sam@example.com"));
    assert!(!record_has_email(&json!({"candidate": null}), "a@b"));
}

#[test]
fn redaction_keeps_ids_status_and_package_and_drops_personal_data() {
    let r = redact_record(&record(), 0, Reason::Request);
    assert_eq!(r["id"], "ats_ass_1");
    assert_eq!(r["applicationId"], "app_1");
    assert_eq!(r["jobId"], "job_1");
    assert_eq!(r["status"], "COMPLETED");
    assert_eq!(r["assessmentPackage"]["id"], "pkg");
    assert_eq!(r["callbackUrl"], "https://app.ats.example/cb/1");
    assert_eq!(r["personalDataErased"]["reason"], "request");
    assert_eq!(r["personalDataErased"]["at"], "1970-01-01T00:00:00.000Z");
    let text = r.to_string();
    for gone in [
        "John",
        "Doe",
        "example.com",
        "Berlin",
        "+49",
        "https://cv",
        "\"b\"",
    ] {
        assert!(!text.contains(gone), "{gone} survived: {text}");
    }
    assert!(is_erased_record(&r));
    assert!(!is_erased_record(&record()));
    // The redacted record still parses as a CandidateAssessment (test_status reads it).
    let parsed: crate::model::CandidateAssessment = serde_json::from_value(r).unwrap();
    assert!(parsed.candidate.emails.is_none());
}

#[test]
fn provider_errors_keep_only_time_and_code() {
    let e = redact_errors(
        &json!([{"at": "t", "code": "x", "message": "John Doe failed", "body": {"email": "j@d"}}]),
    );
    assert_eq!(e, json!([{"at": "t", "code": "x", "erased": true}]));
    assert_eq!(redact_errors(&Value::Null), Value::Null);
}

#[test]
fn erased_bodies_are_recognised() {
    assert!(is_erased_body(ERASED_BODY));
    assert!(!is_erased_body(r#"{"eventType":"record.new"}"#));
    assert!(serde_json::from_str::<Value>(ERASED_BODY).is_ok());
    assert!(cancelled_note(Reason::Request).contains("erased"));
}

#[test]
fn the_audit_line_never_carries_the_email() {
    let target = ErasureTarget::Email("john.doe@example.com".into());
    let c = Counts {
        assessments: 2,
        events: 3,
        attempts: 4,
        cancelled_deliveries: 1,
        ..Default::default()
    };
    let line = audit_line("acme", &target, &c, 0).to_string();
    assert!(!line.contains("john"), "{line}");
    assert!(!line.contains("example.com"), "{line}");
    assert!(line.contains("\"by\":\"email\""));
    assert!(line.contains("\"assessments\":2"));
    let by_id = audit_line(
        "acme",
        &ErasureTarget::AssessmentId("ats_ass_1".into()),
        &c,
        0,
    );
    assert_eq!(by_id["assessmentId"], "ats_ass_1");
    assert_eq!(c.view()["erased"]["cancelledDeliveries"], 1);
}

#[test]
fn erasure_email_must_be_one_plain_address() {
    for ok in ["c5@x.example", "John.Doe+tag@mail.Example.com"] {
        assert!(super::is_plausible_email(ok), "{ok}");
    }
    for bad in [
        "@",
        "a@b",
        "mailto:c5@x.example",
        "<c5@x.example>",
        "c5@x.example>",
        "a b@x.example",
        "a@@x.example",
        "a@x@y.example",
        "@x.example",
        "a@.example",
        "a@x.",
        "a@x..example",
        "a@x.example,b@y.example",
    ] {
        assert!(!super::is_plausible_email(bad), "{bad}");
        let e = parse_erasure(&json!({ "email": bad })).unwrap_err();
        assert_eq!(e.status, 422, "{bad}");
        assert!(e.message.contains("email"), "{bad}");
    }
}

#[test]
fn free_text_names_a_non_ascii_address_whatever_its_case() {
    let email = "jürgen.ölmann@exämple.com";
    assert!(text_mentions(
        "refused: JÜRGEN.ÖLMANN@EXÄMPLE.COM is not a user",
        email
    ));
    assert!(text_mentions("<Jürgen.Ölmann@exämple.com>", email));
    assert!(
        !text_mentions("xjürgen.ölmann@exämple.com", email),
        "part of another address"
    );
    assert!(!text_mentions("jürgen.ölmann@exämple.community", email));
    assert!(!text_mentions("nothing here", email));
}
