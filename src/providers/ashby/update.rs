//! Results back to Ashby (`assessment.update`, Ashby's Assessment Partner API docs): the body,
//! and what Ashby's answer envelope means.

use super::*;

pub(super) fn data_value(identifier: &str, label: &str, kind: &str, value: Value) -> Value {
    json!({ "identifier": identifier, "label": label, "type": kind, "value": value })
}

/// Ashby's display word for a status; `"Started"` makes Ashby record the start time.
pub(super) fn status_word(s: Status) -> &'static str {
    match s {
        Status::NotSpecified | Status::Pending => "Pending",
        Status::Started => "Started",
        Status::InProgress => "In Progress",
        Status::Completed => "Completed",
        Status::Rejected => "Rejected",
        Status::Expired => "Expired",
        Status::Cancelled => "Cancelled",
    }
}

/// A metadata identifier: lowercase letters, digits and `_`.
pub(super) fn ident(s: &str) -> String {
    let mut out: String = s
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '_'
            }
        })
        .collect();
    out.truncate(60);
    out
}

/// The `assessment.update` body for a result (README "Results back to the ATS"; Ashby's public API docs, `assessment.update` and its DataValue shapes).
pub fn update_body(assessment_id: &str, timestamp_ms: i64, r: &ResultUpdate) -> Value {
    let mut body = Map::new();
    body.insert("assessment_id".into(), json!(assessment_id));
    body.insert("timestamp".into(), json!(timestamp_ms));
    body.insert(
        "assessment_status".into(),
        data_value("status", "Status", "string", json!(status_word(r.status))),
    );
    let mut meta: Vec<Value> = Vec::new();
    match r.status {
        Status::Completed => {
            let result = match r.score {
                Some(score) => data_value("score", "Score", "numeric_score", json!(score)),
                None => data_value(
                    "result",
                    "Result",
                    "string",
                    json!(r.summary.clone().unwrap_or_else(|| "Completed".into())),
                ),
            };
            body.insert("assessment_result".into(), result);
            if let Some(url) = &r.result_url {
                body.insert(
                    "assessment_profile_url".into(),
                    data_value("result_url", "Results", "url", json!(url)),
                );
            }
        }
        Status::Cancelled | Status::Expired => {
            let reason = r.reason.clone().unwrap_or_else(|| {
                if r.status == Status::Expired {
                    "The assessment expired before the candidate completed it".into()
                } else {
                    "The assessment was cancelled".into()
                }
            });
            body.insert(
                "cancelled_reason".into(),
                data_value("cancelled_reason", "Reason", "string", json!(reason)),
            );
        }
        _ => {}
    }
    if let Some(max) = r.max_score {
        meta.push(data_value(
            "max_score",
            "Max Score",
            "numeric_score",
            json!(max),
        ));
    }
    if let (Some(a), Some(b)) = (
        r.started_at.as_deref().and_then(parse_rfc3339),
        r.completed_at.as_deref().and_then(parse_rfc3339),
    ) {
        if b >= a {
            let minutes = ((b - a) as f64 / 60_000.0 * 10.0).round() / 10.0;
            meta.push(data_value(
                "duration",
                "Duration",
                "numeric_duration_minutes",
                json!(minutes),
            ));
        }
    }
    if let Some(summary) = &r.summary {
        if r.score.is_some() || r.status != Status::Completed {
            meta.push(data_value("summary", "Summary", "string", json!(summary)));
        }
    }
    let mut used: Vec<String> = meta
        .iter()
        .filter_map(|m| m["identifier"].as_str().map(String::from))
        .collect();
    // Ashby's DataValues are flat: nested entries arrive flattened (`a.b`).
    for (k, v) in &crate::model::shape_metadata(&r.metadata, SPEC.facts.metadata_levels) {
        let (kind, value) = match v {
            Value::Bool(b) => ("boolean_success", json!(b)),
            Value::Number(n) => ("numeric_score", json!(n)),
            Value::String(s) => ("string", json!(s)),
            _ => continue,
        };
        let mut id = format!("meta_{}", ident(k));
        while used.contains(&id) {
            id.push('_');
        }
        used.push(id.clone());
        meta.push(data_value(&id, k, kind, value));
    }
    if !meta.is_empty() {
        body.insert("metadata".into(), Value::Array(meta));
    }
    Value::Object(body)
}

/// What Ashby's answer to `assessment.update` means (docs/contract.md "Results and provider
/// calls"; README "Results back to the ATS"). Ashby answers many errors with
/// HTTP 200 and `{"success": false, "errorInfo": {"code", "message", "requestId"}}` (older
/// form: `"errors": ["…"]`), so the status alone decides nothing: only `"success": true` is a
/// success, and its `warnings` are kept. Any other 2xx body — not JSON, cut at the read cap
/// (`complete` false), or without the envelope — is not what Ashby sends on success and is a
/// final failure. 429 and 5xx are retried; every other status is final. Ashby's error shape:
/// <https://developers.ashbyhq.com/reference> (responses of every endpoint).
pub fn update_answer(status: u16, body: &str, complete: bool) -> ProviderAnswer {
    let v: Option<Value> = if complete {
        serde_json::from_str(body).ok()
    } else {
        None
    };
    let envelope_fault = v.as_ref().and_then(ashby_fault);
    if (200..300).contains(&status) {
        return match v.as_ref().and_then(|v| v.get("success")) {
            Some(Value::Bool(true)) => ProviderAnswer::Accepted {
                warnings: warnings(v.as_ref()),
            },
            Some(Value::Bool(false)) => {
                ProviderAnswer::Refused(envelope_fault.unwrap_or_else(|| ProviderFault {
                    code: None,
                    message: "Ashby answered \"success\": false without saying why".into(),
                    request_id: None,
                }))
            }
            _ => ProviderAnswer::Refused(ProviderFault {
                code: None,
                message: format!(
                    "Ashby answered HTTP {status} without its success envelope{}",
                    if complete {
                        ""
                    } else {
                        " (the answer exceeds the read cap)"
                    }
                ),
                request_id: None,
            }),
        };
    }
    match (answer_from_status(status, body), envelope_fault) {
        (ProviderAnswer::Transient(_), Some(f)) => ProviderAnswer::Transient(f),
        (ProviderAnswer::Refused(_), Some(f)) => ProviderAnswer::Refused(f),
        (plain, _) => plain,
    }
}

/// Ashby's account of an error: `errorInfo{code, message, requestId}`, else the older
/// `errors[]` (joined). None when the body carries neither.
pub(super) fn ashby_fault(v: &Value) -> Option<ProviderFault> {
    let text = |x: Option<&Value>| {
        x.and_then(|x| match x {
            Value::String(s) if !s.trim().is_empty() => Some(s.trim().to_string()),
            Value::Number(n) => Some(n.to_string()),
            _ => None,
        })
    };
    let info = v.get("errorInfo").filter(|i| i.is_object());
    let errors: Vec<String> = v
        .get("errors")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|e| match e {
                    Value::String(s) => Some(s.clone()),
                    Value::Null => None,
                    other => Some(other.to_string()),
                })
                .collect()
        })
        .unwrap_or_default();
    let code = info.and_then(|i| text(i.get("code")));
    let message = info
        .and_then(|i| text(i.get("message")))
        .or_else(|| (!errors.is_empty()).then(|| errors.join("; ")));
    let request_id = info.and_then(|i| text(i.get("requestId")));
    if code.is_none() && message.is_none() && request_id.is_none() {
        return None;
    }
    Some(ProviderFault {
        message: message
            .or_else(|| code.clone())
            .unwrap_or_else(|| "Ashby reported an error".into()),
        code,
        request_id,
    })
}

/// `warnings` of a successful Ashby answer, as strings.
pub(super) fn warnings(v: Option<&Value>) -> Vec<String> {
    v.and_then(|v| v.get("warnings"))
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|w| match w {
                    Value::String(s) => Some(s.clone()),
                    Value::Null => None,
                    other => Some(other.to_string()),
                })
                .collect()
        })
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn update_bodies() {
        let done = ResultUpdate {
            score: Some(87.5),
            max_score: Some(100.0),
            result_url: Some("https://v.example/r/1".into()),
            started_at: Some("2026-11-01T10:00:00Z".into()),
            completed_at: Some("2026-11-01T11:30:00Z".into()),
            summary: Some("Strong".into()),
            metadata: json!({"Plagiarism": false, "Language": "Rust"})
                .as_object()
                .unwrap()
                .clone(),
            ..crate::providers::test_support::result(Status::Completed)
        };
        let b = update_body("ats_ass_1", 1000, &done);
        assert_eq!(b["assessment_id"], "ats_ass_1");
        assert_eq!(b["timestamp"], 1000);
        assert_eq!(b["assessment_status"]["value"], "Completed");
        assert_eq!(
            b["assessment_result"],
            json!({"identifier":"score","label":"Score","type":"numeric_score","value":87.5})
        );
        assert_eq!(b["assessment_profile_url"]["type"], "url");
        let meta = b["metadata"].as_array().unwrap();
        let find = |id: &str| {
            meta.iter()
                .find(|m| m["identifier"] == id)
                .cloned()
                .unwrap()
        };
        assert_eq!(find("max_score")["value"], 100.0);
        assert_eq!(find("duration")["type"], "numeric_duration_minutes");
        assert_eq!(find("duration")["value"], 90.0);
        assert_eq!(find("meta_plagiarism")["type"], "boolean_success");
        assert_eq!(find("meta_language")["label"], "Language");
        let ids: std::collections::HashSet<_> =
            meta.iter().map(|m| m["identifier"].clone()).collect();
        assert_eq!(ids.len(), meta.len(), "identifiers are unique");

        let started = crate::providers::test_support::result(Status::Started);
        let b = update_body("a", 1, &started);
        assert_eq!(b["assessment_status"]["value"], "Started");
        assert!(b.get("assessment_result").is_none());
        assert!(b.get("metadata").is_none());

        let expired = ResultUpdate {
            status: Status::Expired,
            reason: Some("No show".into()),
            ..started.clone()
        };
        let b = update_body("a", 2, &expired);
        assert_eq!(b["cancelled_reason"]["value"], "No show");
        assert!(b.get("assessment_result").is_none());
    }

    #[test]
    fn update_answers_are_read_by_their_envelope_not_their_status() {
        let ok = update_answer(200, r#"{"success":true,"results":{}}"#, true);
        assert_eq!(ok, ProviderAnswer::Accepted { warnings: vec![] });
        let warned = update_answer(
            200,
            r#"{"success":true,"results":{},"warnings":["metadata identifier reused"]}"#,
            true,
        );
        assert_eq!(
            warned,
            ProviderAnswer::Accepted {
                warnings: vec!["metadata identifier reused".into()]
            }
        );
        // HTTP 200 with success:false is a final failure carrying Ashby's own words.
        let refused = update_answer(
            200,
            r#"{"success":false,"errorInfo":{"code":"assessment_not_found","message":"Assessment not found","requestId":"r-1"}}"#,
            true,
        );
        assert_eq!(
            refused,
            ProviderAnswer::Refused(ProviderFault {
                code: Some("assessment_not_found".into()),
                message: "Assessment not found".into(),
                request_id: Some("r-1".into()),
            })
        );
        // The older form: errors[] only.
        match update_answer(
            200,
            r#"{"success":false,"errors":["invalid_input","timestamp is required"]}"#,
            true,
        ) {
            ProviderAnswer::Refused(f) => {
                assert_eq!(f.message, "invalid_input; timestamp is required");
                assert_eq!(f.code, None);
            }
            other => panic!("{other:?}"),
        }
        // Not Ashby's success envelope: not a success.
        for body in ["ok", "", "{}", r#"{"results":{}}"#, r#"{"success":"true"}"#] {
            assert!(
                matches!(update_answer(200, body, true), ProviderAnswer::Refused(_)),
                "{body:?}"
            );
        }
        // An answer cut at the read cap is never taken for a success.
        assert!(matches!(
            update_answer(200, r#"{"success":true"#, false),
            ProviderAnswer::Refused(_)
        ));
        // Statuses: 5xx/429 retried (with Ashby's words when given), other 4xx final.
        match update_answer(
            503,
            r#"{"success":false,"errorInfo":{"code":"unavailable","message":"Try later","requestId":"r-2"}}"#,
            true,
        ) {
            ProviderAnswer::Transient(f) => assert_eq!(f.request_id.as_deref(), Some("r-2")),
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            update_answer(429, "", true),
            ProviderAnswer::Transient(_)
        ));
        match update_answer(
            403,
            r#"{"success":false,"errorInfo":{"code":"forbidden","message":"Missing candidatesWrite"}}"#,
            true,
        ) {
            ProviderAnswer::Refused(f) => {
                assert_eq!(f.code.as_deref(), Some("forbidden"));
                assert_eq!(f.message, "Missing candidatesWrite");
            }
            other => panic!("{other:?}"),
        }
        match update_answer(401, "Unauthorized", true) {
            ProviderAnswer::Refused(f) => assert_eq!(f.message, "HTTP 401: Unauthorized"),
            other => panic!("{other:?}"),
        }
    }

    // --- as the registry sees it ---------------------------------------------------------
}
