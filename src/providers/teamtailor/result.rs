//! Results back to Teamtailor (its partner docs, "Partner results"): the partner-result `PUT`
//! body, and what Teamtailor's answer means.

use super::*;

/// A result's partner-result status (README "Results back to the ATS"): progress → `pending` (`sent` before the
/// candidate starts), COMPLETED → `completed`, REJECTED/EXPIRED/CANCELLED → `failed`.
pub fn result_status(s: Status) -> &'static str {
    match s {
        Status::NotSpecified | Status::Pending => "sent",
        Status::Started | Status::InProgress => "pending",
        Status::Completed => "completed",
        Status::Rejected | Status::Expired | Status::Cancelled => "failed",
    }
}

/// `score` on Teamtailor's 0–100 scale: `score / max_score × 100` when `max_score` is positive,
/// else `score` itself; clamped to 0–100 and rounded to a whole number.
pub fn scaled_score(score: Option<f64>, max_score: Option<f64>) -> Option<f64> {
    let s = score?;
    let scaled = match max_score {
        Some(m) if m > 0.0 => s / m * 100.0,
        _ => s,
    };
    Some(scaled.clamp(0.0, 100.0).round())
}

/// `metadata` as partner-result `details`, which Teamtailor accepts at most two levels deep:
/// values one level below the top that are themselves objects or arrays become JSON text.
pub fn details(metadata: &Map<String, Value>) -> Map<String, Value> {
    let flat = |v: &Value| match v {
        Value::Object(_) | Value::Array(_) => Value::String(v.to_string()),
        other => other.clone(),
    };
    metadata
        .iter()
        .map(|(k, v)| {
            let v = match v {
                Value::Object(o) => {
                    Value::Object(o.iter().map(|(k2, v2)| (k2.clone(), flat(v2))).collect())
                }
                Value::Array(a) => Value::Array(a.iter().map(flat).collect()),
                other => other.clone(),
            };
            (k.clone(), v)
        })
        .collect()
}

/// The `PUT {update-url}` body for a result (Teamtailor's "Update a result" doc, JSON:API):
/// `status`, `summary` (for a failed result: the reason, else the status in words, then the
/// vendor's summary), `url` = `result_url`, `assessment{score 0–100, duration seconds}`,
/// `details` from `metadata`. Keys with nothing to say are left out (a partial update).
pub fn result_body(result_id: &str, r: &ResultUpdate) -> Value {
    let mut attrs = Map::new();
    let status = result_status(r.status);
    attrs.insert("status".into(), json!(status));
    let summary = if status == "failed" {
        let word = match r.status {
            Status::Rejected => "Rejected",
            Status::Expired => "Expired",
            _ => "Cancelled",
        };
        let head = match &r.reason {
            Some(reason) => format!("{word}: {reason}"),
            None => word.to_string(),
        };
        Some(match &r.summary {
            Some(s) => format!("{head}. {s}"),
            None => head,
        })
    } else {
        r.summary.clone()
    };
    if let Some(s) = summary {
        attrs.insert("summary".into(), json!(s));
    }
    if let Some(u) = &r.result_url {
        attrs.insert("url".into(), json!(u));
    }
    let mut assessment = Map::new();
    if let Some(s) = scaled_score(r.score, r.max_score) {
        assessment.insert("score".into(), json!(s as i64));
    }
    if let (Some(a), Some(b)) = (
        r.started_at.as_deref().and_then(parse_rfc3339),
        r.completed_at.as_deref().and_then(parse_rfc3339),
    ) {
        if b >= a {
            assessment.insert("duration".into(), json!((b - a) / 1000));
        }
    }
    if !assessment.is_empty() {
        attrs.insert("assessment".into(), Value::Object(assessment));
    }
    if !r.metadata.is_empty() {
        let shaped = crate::model::shape_metadata(&r.metadata, SPEC.facts.metadata_levels);
        attrs.insert("details".into(), Value::Object(details(&shaped)));
    }
    if !r.attachments.is_empty() {
        attrs.insert("attachments".into(), json!(r.attachments));
    }
    json!({ "data": { "type": "partner-results", "id": result_id, "attributes": attrs } })
}

/// What Teamtailor's answer to a partner-result `PUT` means: 2xx accepted, 429/5xx transient,
/// anything else refused for good; a refusal carries the first JSON:API error's `code` and
/// `detail` (or `title`) when Teamtailor sent `{"errors":[…]}`, else the HTTP status and body.
pub fn result_answer(status: u16, body: &str, _complete: bool) -> ProviderAnswer {
    let plain = answer_from_status(status, body);
    let error = serde_json::from_str::<Value>(body)
        .ok()
        .and_then(|v| v.get("errors")?.get(0).cloned())
        .filter(Value::is_object);
    let Some(e) = error else {
        return plain;
    };
    let fault = |_| ProviderFault {
        code: optional(&e, &["code"]),
        message: match optional(&e, &["detail"]).or_else(|| optional(&e, &["title"])) {
            Some(m) => format!("HTTP {status}: {m}"),
            None => format!("HTTP {status}: {e}"),
        },
        request_id: None,
    };
    match plain {
        ProviderAnswer::Transient(f) => ProviderAnswer::Transient(fault(f)),
        ProviderAnswer::Refused(f) => ProviderAnswer::Refused(fault(f)),
        accepted => accepted,
    }
}

/// Every accepted result becomes one `PUT {update-url}`; refused (422) when the deployment has
/// no partner API key or the stored update-url is not a Teamtailor API URL.
pub(super) fn write_back(w: &WriteBack) -> ApiResult<Vec<OutboundCall>> {
    if authorization(w.credentials).is_none() {
        return Err(ApiError::new(
            422,
            "teamtailor_partner_api_key_missing",
            "TEAMTAILOR_PARTNER_API_KEY is not set on the deployment, so results cannot be written to Teamtailor.",
        ));
    }
    let update_url = w.record.callback_url.as_deref().unwrap_or_default();
    let url = check_update_url(update_url, w.allow_insecure)
        .map_err(|why| ApiError::invalid_field("callbackUrl", &why))?;
    // The order is keyed by its partner-result id, which outlives the erased `originData`.
    let result_id = match w.order_key {
        Some(k) if !k.is_empty() => k.to_string(),
        _ => optional(
            &w.record.origin_data,
            &["partner-event", "partner-result", "id"],
        )
        .unwrap_or_default(),
    };
    Ok(vec![OutboundCall {
        label: "Teamtailor partner-result PUT",
        method: worker::Method::Put,
        url: url.to_string(),
        body: Some(result_body(&result_id, w.result).to_string()),
    }])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::providers::teamtailor::test_support::*;

    #[test]
    fn result_bodies() {
        let done = ResultUpdate {
            score: Some(43.0),
            max_score: Some(50.0),
            result_url: Some("https://vendor.example/r/1".into()),
            started_at: Some("2026-11-01T10:00:00Z".into()),
            completed_at: Some("2026-11-01T10:32:14Z".into()),
            summary: Some("Strong".into()),
            metadata: json!({"Plagiarism": false, "Sections": {"SQL": 9, "Deep": {"a": 1}}, "Tags": ["x", ["y"]]})
                .as_object()
                .unwrap()
                .clone(),
            ..result(Status::Completed)
        };
        let b = result_body("rid-1", &done);
        assert_eq!(
            b,
            json!({"data": {"type": "partner-results", "id": "rid-1", "attributes": {
                "status": "completed",
                "summary": "Strong",
                "url": "https://vendor.example/r/1",
                "assessment": {"score": 86, "duration": 1934},
                "details": {"Plagiarism": false, "Sections": {"SQL": 9, "Deep": "{\"a\":1}"}, "Tags": ["x", "[\"y\"]"]},
            }}})
        );
        let started = result_body("r", &result(Status::Started));
        assert_eq!(started["data"]["attributes"], json!({"status": "pending"}));
        assert_eq!(
            result_body("r", &result(Status::InProgress))["data"]["attributes"]["status"],
            "pending"
        );
        assert_eq!(
            result_body("r", &result(Status::Pending))["data"]["attributes"]["status"],
            "sent"
        );
        let expired = ResultUpdate {
            reason: Some("The candidate did not start within 7 days".into()),
            ..result(Status::Expired)
        };
        assert_eq!(
            result_body("r", &expired)["data"]["attributes"],
            json!({"status": "failed", "summary": "Expired: The candidate did not start within 7 days"})
        );
        let rejected = ResultUpdate {
            summary: Some("Below threshold".into()),
            ..result(Status::Rejected)
        };
        assert_eq!(
            result_body("r", &rejected)["data"]["attributes"]["summary"],
            "Rejected. Below threshold"
        );
        assert_eq!(
            result_body("r", &result(Status::Cancelled))["data"]["attributes"]["summary"],
            "Cancelled"
        );
    }

    #[test]
    fn teamtailor_answers() {
        assert_eq!(
            result_answer(200, r#"{"data":{"type":"partner-results"}}"#, true),
            ProviderAnswer::Accepted { warnings: vec![] }
        );
        let body = r#"{"errors":[{"title":"Invalid","detail":"score must be between 0 and 100","code":"100","status":"422"}]}"#;
        match result_answer(422, body, true) {
            ProviderAnswer::Refused(f) => {
                assert_eq!(f.message, "HTTP 422: score must be between 0 and 100");
                assert_eq!(f.code.as_deref(), Some("100"));
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            result_answer(503, "busy", true),
            ProviderAnswer::Transient(_)
        ));
        assert!(matches!(
            result_answer(429, r#"{"errors":[{"title":"Slow down"}]}"#, true),
            ProviderAnswer::Transient(f) if f.message == "HTTP 429: Slow down"
        ));
        assert!(matches!(
            result_answer(404, "<html>", false),
            ProviderAnswer::Refused(f) if f.message.starts_with("HTTP 404")
        ));
        assert!(matches!(
            result_answer(301, "", true),
            ProviderAnswer::Refused(_)
        ));
    }

    #[test]
    fn scores_scale_to_0_100() {
        assert_eq!(scaled_score(Some(87.5), Some(100.0)), Some(88.0));
        assert_eq!(scaled_score(Some(7.0), Some(10.0)), Some(70.0));
        assert_eq!(scaled_score(Some(75.0), None), Some(75.0));
        assert_eq!(scaled_score(Some(120.0), Some(100.0)), Some(100.0));
        assert_eq!(scaled_score(Some(-3.0), None), Some(0.0));
        assert_eq!(scaled_score(Some(5.0), Some(0.0)), Some(5.0));
        assert_eq!(scaled_score(None, Some(10.0)), None);
    }

    #[test]
    fn an_erased_order_is_still_written_back_by_its_partner_result_id() {
        let v = order_json();
        let o = parse_order(&v, false).unwrap();
        let mut record = normalize(&o, "ats_ass_1", "acme", NO_CATALOGUE, v);
        record.origin_data = Value::Null;
        let mut creds = CredentialSource::default();
        creds
            .settings
            .0
            .insert(PARTNER_API_KEY.into(), "partner-key".into());
        let calls = write_back(&WriteBack {
            assessment_id: "ats_ass_1",
            record: &record,
            order_key: Some(&o.result_id),
            result: &result(Status::Cancelled),
            update_ts: 1,
            credentials: &creds,
            allow_insecure: false,
        })
        .unwrap();
        let body: Value = serde_json::from_str(calls[0].body.as_deref().unwrap()).unwrap();
        assert!(!o.result_id.is_empty());
        assert_eq!(body["data"]["id"], json!(o.result_id));
        assert_eq!(calls[0].url, o.update_url);
    }

    #[test]
    fn write_back_puts_to_the_update_url_with_the_partner_key() {
        let v = order_json();
        let o = parse_order(&v, false).unwrap();
        let record = normalize(&o, "ats_ass_1", "acme", NO_CATALOGUE, v);
        let done: ResultUpdate = crate::model::parse_result(
            &serde_json::from_str(include_str!("../../../fixtures/result.completed.json")).unwrap(),
        )
        .unwrap();
        let mut creds = CredentialSource::default();
        let w = |creds: &CredentialSource, record: &CandidateAssessment| {
            write_back(&WriteBack {
                assessment_id: "ats_ass_1",
                record,
                order_key: None,
                result: &done,
                update_ts: 1,
                credentials: creds,
                allow_insecure: false,
            })
        };
        let e = w(&creds, &record).unwrap_err();
        assert_eq!(
            (e.status, e.code),
            (422, "teamtailor_partner_api_key_missing")
        );
        creds
            .settings
            .0
            .insert(PARTNER_API_KEY.into(), "partner-key".into());
        assert_eq!(authorization(&creds).as_deref(), Some("Bearer partner-key"));
        let calls = w(&creds, &record).unwrap();
        assert_eq!(calls.len(), 1);
        assert_eq!(calls[0].method, worker::Method::Put);
        assert_eq!(calls[0].url, o.update_url);
        let body: Value = serde_json::from_str(calls[0].body.as_deref().unwrap()).unwrap();
        let expected: Value = serde_json::from_str(
            &include_str!("../../../fixtures/teamtailor/partner-result.completed.expected.json")
                .replace("{{resultId}}", &o.result_id),
        )
        .unwrap();
        assert_eq!(body, expected);
        let mut elsewhere = record.clone();
        elsewhere.callback_url = Some("https://evil.example/partner-results/1".into());
        assert_eq!(w(&creds, &elsewhere).unwrap_err().status, 422);
        assert!(SPEC.call_headers.contains(&("x-api-version", "20180828")));
        assert!(SPEC
            .call_headers
            .contains(&("content-type", "application/vnd.api+json")));
    }
}
