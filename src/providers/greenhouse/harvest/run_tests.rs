//! Unit tests of one order's Harvest run (`enrich` → `EnrichRun`).

use super::run::enrich;
use super::test_support::*;
use super::*;

#[test]
fn happy_path_reads_application_job_team_and_requester() {
    let mut run = enrich(&record(Some("77"), Some("req@example.com")), &full(), true).unwrap();
    let before = run.outcome(false);
    assert_eq!(before.enrichment["status"], "partial");
    assert!(before.enrichment["error"]
        .as_str()
        .unwrap()
        .contains("a record.modified with the completed record follows"));
    let r = run.next().unwrap();
    assert_eq!(
        r,
        Read {
            url: "http://127.0.0.1:9/v3/applications?ids=77".into(),
            cache_ms: 0
        }
    );
    run.answer(&ok(application()));
    assert_eq!(
        run.next().unwrap().url,
        "http://127.0.0.1:9/v3/jobs?ids=501"
    );
    run.answer(&ok(job()));
    // Only the member without an email is looked up; users are cached.
    let r = run.next().unwrap();
    assert_eq!(
        r,
        Read {
            url: "http://127.0.0.1:9/v3/users?ids=11".into(),
            cache_ms: USER_CACHE_MS
        }
    );
    run.answer(&ok(
        json!([{"id": 11, "primary_email_address": "hana@example.com"}]),
    ));
    assert_eq!(
        run.next().unwrap().url,
        "http://127.0.0.1:9/v3/users?email=req%40example.com"
    );
    run.answer(&ok(json!([{"id": 13, "first_name": "Req", "last_name": "Uester", "emails": ["req@example.com"]}])));
    assert_eq!(run.next(), None);
    let out = run.outcome(true);
    assert_eq!(
        out.enrichment,
        json!({"status": "complete", "missing": [], "error": null})
    );
    assert_eq!(out.job_id.as_deref(), Some("501"));
    assert_eq!(
        out.job.unwrap(),
        json!({"id": "501", "name": "Backend Engineer", "requisitionId": "REQ-7", "url": null,
        "locations": [{"name": "Berlin", "address": "Berlin, Germany"}], "departments": ["Engineering"]})
    );
    assert_eq!(
        out.hiring_team.unwrap(),
        json!([
        {"id": "11", "firstName": "Hana", "lastName": "M", "email": "hana@example.com", "role": "HIRING_MANAGER"},
        {"id": "12", "firstName": "Rita", "lastName": "R", "email": "rita@example.com", "role": "RECRUITER"}])
    );
    assert_eq!(
        out.requester.unwrap(),
        json!({"id": "13", "name": "Req Uester", "email": "req@example.com"})
    );
    assert_eq!(
        out.custom_fields.unwrap(),
        json!({"salary_band": {"label": "Salary band", "type": "short_text", "value": "B"}})
    );

    // Applied to a record: only the enrichment keys change, jobId equals job.id.
    let mut rec = record(Some("77"), Some("req@example.com"));
    let candidate = rec.candidate.clone();
    run.outcome(true).apply(&mut rec);
    assert_eq!(rec.job_id.as_deref(), Some("501"));
    assert_eq!(rec.job.as_ref().unwrap()["id"], "501");
    assert_eq!(rec.candidate, candidate);
}

#[test]
fn a_missing_scope_is_named_and_the_rest_still_read() {
    let mut run = enrich(&record(Some("77"), Some("req@example.com")), &full(), true).unwrap();
    run.next();
    run.answer(&ok(application()));
    run.next();
    run.answer(&status(403));
    // No job: straight to the requester.
    assert!(run.next().unwrap().url.contains("users?email="));
    run.answer(&ok(
        json!([{"id": 13, "primary_email_address": "req@example.com"}]),
    ));
    assert_eq!(run.next(), None);
    let out = run.outcome(true);
    assert_eq!(out.enrichment["status"], "partial");
    assert_eq!(out.enrichment["missing"], json!(["job", "hiringTeam"]));
    let e = out.enrichment["error"].as_str().unwrap();
    assert!(
        e.contains("HTTP 403") && e.contains("harvest:jobs:list"),
        "{e}"
    );
    assert!(out.custom_fields.is_some(), "the application was read");
}

#[test]
fn unknown_application_rate_limits_and_refused_tokens() {
    let mut run = enrich(&record(Some("404"), None), &full(), true).unwrap();
    run.next();
    run.answer(&ok(json!([])));
    assert_eq!(run.next(), None);
    let out = run.outcome(true);
    assert_eq!(out.enrichment["status"], "failed");
    assert_eq!(
        out.enrichment["missing"],
        json!(["job", "hiringTeam", "requester"])
    );
    assert!(out.enrichment["error"]
        .as_str()
        .unwrap()
        .contains("no application 404"));
    assert!(out.job.is_none() && out.job_id.is_none());

    let mut run = enrich(&record(Some("77"), None), &full(), true).unwrap();
    run.next();
    run.answer(&ReadAnswer {
        status: Some(429),
        retry_after: Some("120".into()),
        ..Default::default()
    });
    let e = run.outcome(true).enrichment["error"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(e.contains("HTTP 429, Retry-After 120"), "{e}");

    let mut run = enrich(&record(Some("77"), Some("a@b.c")), &full(), true).unwrap();
    run.next();
    run.answer(&status(401));
    assert_eq!(run.next(), None, "a refused token stops the run");

    let mut run = enrich(&record(Some("77"), Some("a@b.c")), &full(), true).unwrap();
    run.give_up("Greenhouse refused the Harvest v3 client credentials (HTTP 401)");
    assert_eq!(run.next(), None);
    let out = run.outcome(true);
    assert_eq!(out.enrichment["status"], "failed");
    assert!(out.requester.is_none());

    // Not configured: no run at all. No application in the order: only the requester.
    assert!(enrich(
        &record(Some("77"), None),
        &CredentialSource::default(),
        true
    )
    .is_none());
    let mut run = enrich(&record(None, Some("a@b.c")), &full(), true).unwrap();
    assert!(run.next().unwrap().url.contains("users?email=a%40b.c"));
}
