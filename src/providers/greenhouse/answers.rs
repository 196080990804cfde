//! What the bridge answers Greenhouse's `list_tests` and `test_status`, and the
//! `response_error` body Greenhouse sends (Greenhouse Assessment Partner API docs).

use super::*;

/// `list_tests` answer: a top-level array.
pub fn list_tests(packages: &[Package]) -> Value {
    Value::Array(
        packages
            .iter()
            .map(|p| json!({"partner_test_id": p.id, "partner_test_name": p.name}))
            .collect(),
    )
}

/// `test_status` answer. Only the exact `"complete"` has meaning to Greenhouse, and only once
/// a final COMPLETED result exists; otherwise the lowercase status.
pub fn test_status(status: Status, result: Option<&ResultUpdate>) -> Value {
    let complete = status == Status::Completed;
    let mut meta = Map::new();
    if let Some(r) = result {
        let mut put = |k: &str, v: Option<Value>| {
            if let Some(v) = v {
                meta.insert(k.to_string(), v);
            }
        };
        put("Started At", r.started_at.clone().map(Value::from));
        put("Completed At", r.completed_at.clone().map(Value::from));
        put("Notes", r.summary.clone().map(Value::from));
        put("Max Score", r.max_score.map(Value::from));
        // Greenhouse shows flat labels: nested entries arrive flattened (`a.b`).
        for (k, v) in crate::model::shape_metadata(&r.metadata, SPEC.facts.metadata_levels) {
            if !v.is_null() {
                meta.entry(k).or_insert(v);
            }
        }
    }
    json!({
        "partner_status": if complete { "complete".to_string() } else { status.as_str().to_ascii_lowercase() },
        "partner_profile_url": result.and_then(|r| r.result_url.clone()),
        "partner_score": result.and_then(|r| r.score),
        "metadata": meta,
    })
}

/// A validated `response_error` body (Greenhouse telling us a call of ours failed).
pub fn parse_response_error(v: &Value) -> ApiResult<Value> {
    if !v.is_object() {
        return Err(ApiError::invalid_field("body", "must be a JSON object"));
    }
    let errors: Vec<Value> = match v.get("errors") {
        Some(Value::Array(a)) => a
            .iter()
            .take(100)
            .map(|e| match e {
                Value::String(_) => e.clone(),
                other => Value::String(other.to_string()),
            })
            .collect(),
        Some(Value::String(s)) => vec![Value::String(s.clone())],
        _ => vec![],
    };
    Ok(json!({
        "apiCall": optional(v, &["api_call"]),
        "errors": errors,
        "partnerTestId": optional(v, &["partner_test_id"]),
        "partnerTestName": optional(v, &["partner_test_name"]),
        "partnerInterviewId": optional(v, &["partner_interview_id"]),
        "candidateEmail": optional(v, &["candidate_email"]),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_answers() {
        let r = ResultUpdate {
            score: Some(87.5),
            max_score: Some(100.0),
            result_url: Some("https://v.example/r/1".into()),
            started_at: Some("2026-11-01T10:00:00Z".into()),
            completed_at: Some("2026-11-01T11:00:00Z".into()),
            summary: Some("Strong".into()),
            metadata: json!({"Plagiarism": false}).as_object().unwrap().clone(),
            ..crate::providers::test_support::result(Status::Completed)
        };
        let done = test_status(Status::Completed, Some(&r));
        assert_eq!(done["partner_status"], "complete");
        assert_eq!(done["partner_profile_url"], "https://v.example/r/1");
        assert_eq!(done["partner_score"], 87.5);
        assert_eq!(done["metadata"]["Started At"], "2026-11-01T10:00:00Z");
        assert_eq!(done["metadata"]["Notes"], "Strong");
        assert_eq!(done["metadata"]["Max Score"], 100.0);
        assert_eq!(done["metadata"]["Plagiarism"], false);
        let waiting = test_status(Status::NotSpecified, None);
        assert_eq!(waiting["partner_status"], "not_specified");
        assert!(waiting["partner_profile_url"].is_null());
        assert_eq!(
            test_status(Status::InProgress, None)["partner_status"],
            "in_progress"
        );
        assert_eq!(
            test_status(Status::Expired, None)["partner_status"],
            "expired"
        );
    }

    #[test]
    fn response_errors() {
        let v = parse_response_error(
            &json!({"api_call":"test_status","errors":["Boom", 3],"partner_interview_id": 7}),
        )
        .unwrap();
        assert_eq!(v["apiCall"], "test_status");
        assert_eq!(v["errors"], json!(["Boom", "3"]));
        assert_eq!(v["partnerInterviewId"], "7");
        assert!(parse_response_error(&json!([1])).is_err());
    }
}
