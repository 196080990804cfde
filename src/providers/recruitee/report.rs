//! The report at Recruitee (Recruitee's Assessments partner docs, "Reports"): marked `sent`
//! after an order, then updated with each result.

use super::*;

/// The report URL of an assessment, or the 422 that says what is missing.
pub(super) fn report_call_url(
    c: &CredentialSource,
    record: &CandidateAssessment,
    order_key: Option<&str>,
    allow_insecure: bool,
) -> ApiResult<String> {
    let invalid = |why: String| ApiError::new(422, code::INVALID_CONFIGURATION, why);
    let (Some(codename), Some(_)) = (c.setting("RECRUITEE_PARTNER_CODENAME"), authorization(c))
    else {
        return Err(ApiError::new(
            422,
            "recruitee_partner_missing",
            "Recruitee partner credentials are not configured: set RECRUITEE_PARTNER_CODENAME and RECRUITEE_PARTNER_SECRET on the deployment.",
        ));
    };
    // The order is keyed by its report_id, which outlives the erased `originData`.
    let report_id = match order_key {
        Some(k) if !k.is_empty() => k.to_string(),
        _ => parse_send_candidate(&record.origin_data)
            .map(|o| o.report_id)
            .map_err(|_| invalid("the order carries no valid Recruitee report_id".into()))?,
    };
    let base = c.setting("RECRUITEE_API_BASE").unwrap_or_default();
    let url = report_url(base, codename, &report_id).map_err(|why| invalid(format!("{why}.")))?;
    check_report_url(&url, allow_insecure)
        .map(|u| u.to_string())
        .map_err(|why| invalid(format!("RECRUITEE_API_BASE {why}.")))
}

/// After an order: mark the report `sent` with the bridge's cancel link.
pub(super) fn mark_sent(o: &PlacedOrder) -> ApiResult<Vec<OutboundCall>> {
    let url = report_call_url(o.credentials, o.record, None, o.allow_insecure)?;
    let cancel = o.cancel_url.context("the order's cancel link")?;
    Ok(vec![OutboundCall {
        label: "Recruitee report sent",
        method: worker::Method::Patch,
        url,
        body: Some(sent_body(cancel).to_string()),
    }])
}

/// The header that carries the partner secret on report calls.
pub const SECRET_HEADER: &str = "RT-PARTNER-SECRET";

/// `{base}/p/{codename}/reports/{report_id}`. `base` is `RECRUITEE_API_BASE` (a trailing
/// `/` is ignored); the codename must be a plain token (letters, digits, `-`, `_`), the report
/// id a uuid — both are checked here so nothing else can end up in the path.
pub fn report_url(base: &str, codename: &str, report_id: &str) -> Result<String, String> {
    let plain = |s: &str| {
        !s.is_empty()
            && s.len() <= 100
            && s.bytes()
                .all(|c| c.is_ascii_alphanumeric() || c == b'-' || c == b'_')
    };
    if !plain(codename) {
        return Err("RECRUITEE_PARTNER_CODENAME must be letters, digits, '-' or '_'".into());
    }
    let report = parse_uuid(report_id).ok_or("the report id is not a uuid")?;
    Ok(format!(
        "{}/p/{codename}/reports/{report}",
        base.trim_end_matches('/')
    ))
}

/// The body that marks a fresh report `sent` and hands Recruitee the bridge's cancel URL.
pub fn sent_body(cancel_url: &str) -> Value {
    json!({ "status": "sent", "urls": { "cancel": cancel_url } })
}

/// A score as the text Recruitee shows: `"87.5/100"` with a maximum, `"87.5"` without.
pub fn score_text(score: f64, max_score: Option<f64>) -> String {
    match max_score {
        Some(max) => format!("{score}/{max}"),
        None => format!("{score}"),
    }
}

/// Recruitee's progress line for an order still running (`subtitle`).
pub(super) fn progress_subtitle(s: Status) -> &'static str {
    match s {
        Status::Started => "Started",
        Status::InProgress => "In progress",
        _ => "Pending",
    }
}

/// The report PATCH body for a result, or None when Recruitee has nothing to show for it.
///
/// - COMPLETED → `{"status":"completed","score":"87.5/100","completed_at"}` (`completed_at`
///   from the result, else `now_ms`; UTC, RFC 3339).
/// - REJECTED, EXPIRED → `{"status":"failed"}` (with `score` when given); CANCELLED →
///   `{"status":"canceled"}`. For assessments the reason (or the status word) goes in `subtitle`.
/// - STARTED, IN_PROGRESS, PENDING → `{"subtitle":"In progress"}` etc. for assessments; Recruitee
///   has no `subtitle` for background and reference checks, so those send nothing (None).
pub fn report_patch(r: &ResultUpdate, kind: OrderKind, now_ms: i64) -> Option<Value> {
    let assessment = kind == OrderKind::Assessment;
    let mut body = Map::new();
    let mut put = |k: &str, v: Value| {
        body.insert(k.to_string(), v);
    };
    let score = r.score.map(|s| score_text(s, r.max_score));
    match r.status {
        Status::Completed => {
            put("status", json!("completed"));
            if let Some(s) = score {
                put("score", json!(s));
            }
            let at = r
                .completed_at
                .as_deref()
                .and_then(parse_rfc3339)
                .unwrap_or(now_ms);
            put("completed_at", json!(rfc3339(at)));
        }
        Status::Rejected | Status::Expired | Status::Cancelled => {
            let cancelled = r.status == Status::Cancelled;
            put(
                "status",
                json!(if cancelled { "canceled" } else { "failed" }),
            );
            if let (Some(s), false) = (score, cancelled) {
                put("score", json!(s));
            }
            if assessment {
                let word = match r.status {
                    Status::Rejected => "Rejected",
                    Status::Expired => "Expired",
                    _ => "Canceled",
                };
                let line = match &r.reason {
                    Some(reason) => format!("{word}: {reason}"),
                    None => word.to_string(),
                };
                put("subtitle", json!(line));
            }
        }
        Status::NotSpecified | Status::Pending | Status::Started | Status::InProgress => {
            if !assessment {
                return None;
            }
            put("subtitle", json!(progress_subtitle(r.status)));
        }
    }
    Some(Value::Object(body))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::providers::recruitee::test_support::*;

    #[test]
    fn write_back_and_the_sent_mark() {
        let full = creds(&[
            (
                "RECRUITEE_API_BASE",
                "https://integrations.rc.recruitee.dev/api",
            ),
            ("RECRUITEE_PARTNER_CODENAME", "vendorco"),
            ("RECRUITEE_PARTNER_SECRET", "s3cret"),
        ]);
        assert_eq!(authorization(&full).as_deref(), Some("s3cret"));
        assert_eq!(SPEC.authorization_header, "RT-PARTNER-SECRET");
        let a = record("code-90", OrderKind::Assessment);
        let report = "https://integrations.rc.recruitee.dev/api/p/vendorco/reports/5f0c2a4e-8d1b-4c7a-9e3f-2b6d8a1c4e90";
        let done = ResultUpdate {
            score: Some(1.0),
            max_score: Some(2.0),
            ..result(Status::Completed)
        };
        let wb = |r: &ResultUpdate, a: &CandidateAssessment, c: &CredentialSource, insecure| {
            write_back(&WriteBack {
                assessment_id: "ats_ass_1",
                record: a,
                order_key: None,
                result: r,
                update_ts: 1_793_527_200_000,
                credentials: c,
                allow_insecure: insecure,
            })
        };
        let calls = wb(&done, &a, &full, false).unwrap();
        assert_eq!(calls.len(), 1);
        assert_eq!(calls[0].url, report);
        assert_eq!(calls[0].method, worker::Method::Patch);
        let body: Value = serde_json::from_str(calls[0].body.as_deref().unwrap()).unwrap();
        assert_eq!(body["score"], "1/2");
        assert_eq!(body["completed_at"], "2026-11-01T10:00:00.000Z");
        // A check's progress: nothing to send.
        let check = record("bg", OrderKind::BackgroundCheck);
        assert!(wb(&result(Status::InProgress), &check, &full, false)
            .unwrap()
            .is_empty());
        // Missing partner settings: refused before anything is stored.
        for partial in [
            creds(&[("RECRUITEE_PARTNER_CODENAME", "vendorco")]),
            creds(&[("RECRUITEE_PARTNER_SECRET", "s3cret")]),
        ] {
            let e = wb(&done, &a, &partial, false).unwrap_err();
            assert_eq!((e.status, e.code), (422, "recruitee_partner_missing"));
        }
        // A loopback base only with ALLOW_INSECURE_TARGETS.
        let local = creds(&[
            ("RECRUITEE_API_BASE", "http://127.0.0.1:9/api"),
            ("RECRUITEE_PARTNER_CODENAME", "vendorco"),
            ("RECRUITEE_PARTNER_SECRET", "s3cret"),
        ]);
        let e = wb(&done, &a, &local, false).unwrap_err();
        assert_eq!((e.status, e.code), (422, "invalid_configuration"));
        assert!(e.message.contains("RECRUITEE_API_BASE"), "{}", e.message);
        assert_eq!(wb(&done, &a, &local, true).unwrap().len(), 1);

        let placed = PlacedOrder {
            assessment_id: "ats_ass_1",
            record: &a,
            cancel_url: Some("https://b.example/p/recruitee/cancel?token=t"),
            credentials: &full,
            allow_insecure: false,
        };
        let sent = mark_sent(&placed).unwrap();
        assert_eq!(sent.len(), 1);
        assert_eq!(sent[0].url, report);
        assert_eq!(
            serde_json::from_str::<Value>(sent[0].body.as_deref().unwrap()).unwrap(),
            json!({"status": "sent", "urls": {"cancel": "https://b.example/p/recruitee/cancel?token=t"}})
        );
    }

    #[test]
    fn report_urls() {
        let r = "5f0c2a4e-8d1b-4c7a-9e3f-2b6d8a1c4e90";
        assert_eq!(
            report_url("https://integrations.recruitee.com/api/", "vendorco", r).unwrap(),
            format!("https://integrations.recruitee.com/api/p/vendorco/reports/{r}")
        );
        assert!(report_url("https://x/api", "a/b", r).is_err());
        assert!(report_url("https://x/api", "", r).is_err());
        assert!(report_url("https://x/api", "ok", "../../x").is_err());
        assert_eq!(
            sent_body("https://b.example/p/recruitee/cancel?token=t"),
            json!({"status": "sent", "urls": {"cancel": "https://b.example/p/recruitee/cancel?token=t"}})
        );
    }

    #[test]
    fn result_mapping() {
        let now = 1_793_527_200_000; // 2026-11-01T10:00:00Z
        let done = ResultUpdate {
            score: Some(87.5),
            max_score: Some(100.0),
            completed_at: Some("2026-11-01T12:30:00+01:00".into()),
            result_url: Some("https://v.example/r/1".into()),
            ..result(Status::Completed)
        };
        assert_eq!(
            report_patch(&done, OrderKind::Assessment, now).unwrap(),
            json!({"status": "completed", "score": "87.5/100", "completed_at": "2026-11-01T11:30:00.000Z"})
        );
        // No completed_at: the time of the result; no max: the bare score; checks the same.
        let bare = ResultUpdate {
            score: Some(9.0),
            ..result(Status::Completed)
        };
        assert_eq!(
            report_patch(&bare, OrderKind::BackgroundCheck, now).unwrap(),
            json!({"status": "completed", "score": "9", "completed_at": "2026-11-01T10:00:00.000Z"})
        );
        let no_score =
            report_patch(&result(Status::Completed), OrderKind::Assessment, now).unwrap();
        assert!(no_score.get("score").is_none());

        for (status, word) in [(Status::Rejected, "Rejected"), (Status::Expired, "Expired")] {
            let b = report_patch(&result(status), OrderKind::Assessment, now).unwrap();
            assert_eq!(b, json!({"status": "failed", "subtitle": word}));
            let b = report_patch(&result(status), OrderKind::ReferenceCheck, now).unwrap();
            assert_eq!(b, json!({"status": "failed"}), "no subtitle for checks");
        }
        let why = ResultUpdate {
            reason: Some("No show".into()),
            score: Some(3.0),
            max_score: Some(10.0),
            ..result(Status::Expired)
        };
        assert_eq!(
            report_patch(&why, OrderKind::Assessment, now).unwrap(),
            json!({"status": "failed", "score": "3/10", "subtitle": "Expired: No show"})
        );
        assert_eq!(
            report_patch(&result(Status::Cancelled), OrderKind::BackgroundCheck, now).unwrap(),
            json!({"status": "canceled"})
        );
        assert_eq!(
            report_patch(&result(Status::Cancelled), OrderKind::Assessment, now).unwrap()["status"],
            "canceled"
        );
        for (status, line) in [
            (Status::Started, "Started"),
            (Status::InProgress, "In progress"),
            (Status::Pending, "Pending"),
        ] {
            assert_eq!(
                report_patch(&result(status), OrderKind::Assessment, now).unwrap(),
                json!({"subtitle": line})
            );
            assert_eq!(
                report_patch(&result(status), OrderKind::BackgroundCheck, now),
                None
            );
        }
        assert_eq!(score_text(87.5, Some(100.0)), "87.5/100");
        assert_eq!(score_text(76.0, None), "76");
    }

    #[test]
    fn an_erased_order_is_still_written_back_by_its_report_id() {
        let full = creds(&[
            (
                "RECRUITEE_API_BASE",
                "https://integrations.rc.recruitee.dev/api",
            ),
            ("RECRUITEE_PARTNER_CODENAME", "vendorco"),
            ("RECRUITEE_PARTNER_SECRET", "s3cret"),
        ]);
        let mut erased = record("code-90", OrderKind::Assessment);
        erased.origin_data = Value::Null;
        erased.meta_data = None;
        let r = "5f0c2a4e-8d1b-4c7a-9e3f-2b6d8a1c4e90";
        let wb = |key| {
            write_back(&WriteBack {
                assessment_id: "ats_ass_1",
                record: &erased,
                order_key: key,
                result: &result(Status::Cancelled),
                update_ts: 1,
                credentials: &full,
                allow_insecure: false,
            })
        };
        let calls = wb(Some(r)).unwrap();
        assert_eq!(
            calls[0].url,
            format!("https://integrations.rc.recruitee.dev/api/p/vendorco/reports/{r}")
        );
        let e = wb(None).unwrap_err();
        assert_eq!((e.status, e.code), (422, code::INVALID_CONFIGURATION));
        let e = wb(Some("not-a-uuid")).unwrap_err();
        assert_eq!(e.status, 422);
    }
}
