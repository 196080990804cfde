//! What an erasure keeps of the text ATSs and receivers wrote about an assessment (README
//! "Personal data"): a provider call's error (`calls.last_error`), the assessment's
//! `providerSync`, and the enrichment note. ATS error messages can echo the candidate's name
//! or email, so an erased assessment keeps their codes, states and counts and drops the text.

use super::*;

/// What a redacted free-text field says instead (`providerSync.error.message`,
/// `enrichment.error`, `calls.last_error`).
pub const TEXT_ERASED: &str = "erased with the candidate's personal data";

/// The prefix of every note an erasure writes on what it cancelled ([`cancelled_note`]).
pub const CANCELLED_PREFIX: &str = "cancelled: the candidate's personal data was ";

/// Whether a row's `last_error` is the note an erasure wrote when it cancelled the row.
pub fn is_cancelled_note(text: &str) -> bool {
    text.starts_with(CANCELLED_PREFIX)
}

/// `providerSync` (`{state, call, callId, attempts, lastStatus, error, warnings,
/// nextAttemptAt, updatedAt, waitingFor?, earlierFailures?, deadLettered?}`, README "Results
/// back to the ATS") without the ATS's text: each error (its own, `waitingFor`'s, each of
/// `earlierFailures`) keeps `code`, `kind`, `providerCode` and `requestId`, its
/// `message` says it was erased and `providerMessage` is null; `warnings` (the ATS's words)
/// become empty. States, counts, HTTP statuses and times stay. Not an object: unchanged.
pub fn redact_sync(sync: &Value) -> Value {
    let Some(m) = sync.as_object() else {
        return sync.clone();
    };
    let mut out = m.clone();
    if let Some(e) = m.get("error") {
        out.insert("error".into(), redact_sync_error(e));
    }
    if m.contains_key("warnings") {
        out.insert("warnings".into(), json!([]));
    }
    if let Some(w) = m.get("waitingFor").filter(|w| w.is_object()) {
        let mut w = w.clone();
        if let Some(e) = w.get("error").map(redact_sync_error) {
            w["error"] = e;
        }
        out.insert("waitingFor".into(), w);
    }
    if let Some(list) = m.get("earlierFailures").and_then(Value::as_array) {
        let list = list
            .iter()
            .map(|f| {
                let mut f = f.clone();
                if let Some(o) = f.as_object_mut() {
                    let e = o.get("error").map(redact_sync_error);
                    if let Some(e) = e {
                        o.insert("error".into(), e);
                    }
                }
                f
            })
            .collect();
        out.insert("earlierFailures".into(), Value::Array(list));
    }
    Value::Object(out)
}

/// One `providerSync` error without the ATS's text (null stays null).
fn redact_sync_error(e: &Value) -> Value {
    let Some(m) = e.as_object() else {
        return e.clone();
    };
    let mut kept = serde_json::Map::new();
    for k in ["code", "kind", "providerCode", "requestId"] {
        if let Some(v) = m.get(k) {
            kept.insert(k.into(), v.clone());
        }
    }
    kept.insert("message".into(), json!(TEXT_ERASED));
    kept.insert("providerMessage".into(), Value::Null);
    kept.insert("erased".into(), json!(true));
    Value::Object(kept)
}

/// What a provider call's `last_error` keeps when its assessment is erased: the outcome's
/// kind and HTTP status, no ATS text.
pub fn erased_call_error(kind: &str, status: Option<u16>) -> String {
    match status {
        Some(s) => format!("{kind} (HTTP {s}); the ATS's text was not kept: {TEXT_ERASED}"),
        None => format!("{kind}; the ATS's text was not kept: {TEXT_ERASED}"),
    }
}

/// `candidateAssessment.enrichment` (`{status, missing, error}`, README "Order enrichment")
/// of an erased record: `status` and `missing` stay; `error` (which can quote the ATS and
/// name people) says it was erased. With `stopped` (the erasure ended reads still running),
/// the status is `failed` and `error` says that no `record.modified` follows. Null stays
/// null.
pub fn redact_enrichment(enrichment: &Value, stopped: Option<Reason>) -> Value {
    let Some(m) = enrichment.as_object() else {
        return enrichment.clone();
    };
    let mut out = m.clone();
    match stopped {
        Some(reason) => {
            out.insert("status".into(), json!("failed"));
            out.insert("error".into(), json!(enrichment_stopped_note(reason)));
        }
        None => {
            if out.get("error").is_some_and(|e| !e.is_null()) {
                out.insert("error".into(), json!(TEXT_ERASED));
            }
        }
    }
    Value::Object(out)
}

/// What the enrichment note says when an erasure stopped its reads.
pub fn enrichment_stopped_note(reason: Reason) -> String {
    format!(
        "stopped: the candidate's personal data was {}; the reads were cancelled and no record.modified follows",
        match reason {
            Reason::Request => "erased on request",
            Reason::Retention => "purged after the retention period",
        }
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn failed_sync() -> Value {
        json!({
            "state": "failed", "call": "Example ATS result update", "attempts": 3, "lastStatus": 422,
            "error": {"code": "provider_sync", "kind": "refused",
                      "message": "Example ATS result update failed: John Doe <john@x.io> not found",
                      "providerCode": "not_found", "providerMessage": "John Doe <john@x.io> not found",
                      "requestId": "r-1"},
            "warnings": ["John Doe has no email"], "nextAttemptAt": null, "updatedAt": "2026-12-02T10:00:00Z",
            "earlierFailures": [{"call": "c", "callId": "call_1", "attempts": 1, "lastStatus": 400,
                                 "error": {"code": "provider_sync", "kind": "refused", "message": "John",
                                           "providerMessage": "John"}}],
            "deadLettered": {"attempt": 2, "at": "2026-12-02T10:00:00Z", "message": "The queue message …"}
        })
    }

    #[test]
    fn a_redacted_sync_keeps_codes_states_and_counts_but_no_ats_text() {
        let r = redact_sync(&failed_sync());
        let text = r.to_string();
        assert!(
            !text.contains("John") && !text.contains("john@x.io"),
            "{text}"
        );
        assert_eq!(r["state"], "failed");
        assert_eq!(r["attempts"], 3);
        assert_eq!(r["lastStatus"], 422);
        assert_eq!(r["error"]["code"], "provider_sync");
        assert_eq!(r["error"]["kind"], "refused");
        assert_eq!(r["error"]["providerCode"], "not_found");
        assert_eq!(r["error"]["requestId"], "r-1");
        assert_eq!(r["error"]["message"], TEXT_ERASED);
        assert_eq!(r["error"]["providerMessage"], Value::Null);
        assert_eq!(r["warnings"], json!([]));
        assert_eq!(r["earlierFailures"][0]["callId"], "call_1");
        assert_eq!(r["earlierFailures"][0]["error"]["kind"], "refused");
        assert_eq!(
            r["deadLettered"]["attempt"], 2,
            "the bridge's own note stays"
        );
        // Idempotent, and a sync without error stays as it is.
        assert_eq!(redact_sync(&r), r);
        let ok = json!({"state": "synced", "error": null, "warnings": []});
        assert_eq!(redact_sync(&ok), ok);
        assert_eq!(redact_sync(&Value::Null), Value::Null);
    }

    #[test]
    fn a_waiting_calls_sync_loses_the_earlier_calls_text() {
        let waiting = json!({"state": "waiting", "callId": "call_2", "attempts": 0,
            "waitingFor": {"callId": "call_1", "state": "retrying", "attempts": 2,
                           "error": {"code": "provider_sync_retrying", "kind": "unavailable",
                                     "message": "John Doe is locked", "providerMessage": "John Doe is locked"},
                           "message": "Waiting for the earlier call call_1"}});
        let r = redact_sync(&waiting);
        assert!(!r.to_string().contains("John"), "{r}");
        assert_eq!(r["waitingFor"]["callId"], "call_1");
        assert_eq!(r["waitingFor"]["error"]["kind"], "unavailable");
    }

    #[test]
    fn a_cancelled_delivery_note_says_why() {
        assert!(cancelled_note(Reason::Retention).contains("retention"));
        assert!(is_cancelled_note(&cancelled_note(Reason::Retention)));
        assert!(is_cancelled_note(&cancelled_note(Reason::Request)));
        assert!(!is_cancelled_note("refused (HTTP 422)"));
    }

    #[test]
    fn call_errors_keep_kind_and_status_only() {
        let e = erased_call_error("refused", Some(422));
        assert!(e.starts_with("refused (HTTP 422)"), "{e}");
        assert!(erased_call_error("network", None).starts_with("network;"));
    }

    #[test]
    fn enrichment_notes_lose_their_text_or_say_the_reads_stopped() {
        let partial = json!({"status": "partial", "missing": ["job"],
            "error": "the ATS has no user with the email sam@x.io; a record.modified with the completed record follows"});
        let r = redact_enrichment(&partial, None);
        assert_eq!(r["status"], "partial");
        assert_eq!(r["missing"], json!(["job"]));
        assert_eq!(r["error"], TEXT_ERASED);
        let s = redact_enrichment(&partial, Some(Reason::Request));
        assert_eq!(s["status"], "failed");
        let note = s["error"].as_str().unwrap();
        assert!(note.contains("no record.modified follows") && !note.contains("sam@"));
        let clean = json!({"status": "complete", "missing": [], "error": null});
        assert_eq!(redact_enrichment(&clean, None), clean);
        assert_eq!(redact_enrichment(&Value::Null, None), Value::Null);
    }
}
