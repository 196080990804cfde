//! What a provider call's attempt came to and how the assessment shows it (`providerSync`,
//! README "Results back to the ATS"): pure functions with host unit tests.

use serde_json::{json, Value};

use crate::delivery::attempt::{AttemptResult, ProviderAnswer, ProviderFault};
use crate::model::{rfc3339, Provider};

/// What one provider-call attempt came to, before scheduling.
pub(super) enum CallOutcome {
    /// No credentials for the provider any more: final, nothing sent.
    NoCredentials,
    /// Sent: the wire result and, when an HTTP answer came, the provider's reading of it.
    Sent(AttemptResult, Option<ProviderAnswer>),
}

impl CallOutcome {
    /// The HTTP status the ATS answered, if it answered.
    pub(super) fn status(&self) -> Option<u16> {
        match self {
            CallOutcome::NoCredentials => None,
            CallOutcome::Sent(r, _) => r.status,
        }
    }

    /// The explicit kind of the outcome, shown in the sync state and the log line.
    pub(super) fn kind(&self) -> &'static str {
        match self {
            CallOutcome::NoCredentials => "no_credentials",
            CallOutcome::Sent(r, None) => r.failure.as_ref().map_or("network", |(k, _)| k.as_str()),
            CallOutcome::Sent(_, Some(ProviderAnswer::Accepted { .. })) => "accepted",
            CallOutcome::Sent(_, Some(ProviderAnswer::Transient(_))) => "unavailable",
            CallOutcome::Sent(_, Some(ProviderAnswer::Refused(_))) => "refused",
        }
    }
}

/// The provider's own reading of its answer (README "Results back to the ATS"): each ATS
/// decides in its file.
pub(super) fn provider_answer(
    provider: Provider,
    status: u16,
    r: &AttemptResult,
) -> ProviderAnswer {
    (provider.spec().call_answer)(status, &r.body, !r.body_over_cap)
}

/// The `providerSync` object of an assessment after an attempt: `state` (`synced`,
/// `retrying`, `failed`), `call`, `attempts`, `lastStatus` (HTTP code or null), `error` (null,
/// or `{code, kind, message}` plus the ATS's `providerCode`, `providerMessage`, `requestId`
/// when it sent them), `warnings` (from a successful answer), `nextAttemptAt`, `updatedAt`.
pub(super) fn sync_view(
    label: &str,
    sync_state: &str,
    n: i64,
    outcome: &CallOutcome,
    next_at: Option<i64>,
    at: i64,
) -> Value {
    let (status, warnings, fault): (Option<u16>, &[String], Option<ProviderFault>) = match outcome {
        CallOutcome::NoCredentials => (
            None,
            &[],
            Some(ProviderFault {
                message: "no credentials configured for this provider".into(),
                ..Default::default()
            }),
        ),
        CallOutcome::Sent(r, None) => (
            None,
            &[],
            Some(ProviderFault {
                message: r.error().unwrap_or_else(|| "no answer".into()),
                ..Default::default()
            }),
        ),
        CallOutcome::Sent(r, Some(ProviderAnswer::Accepted { warnings })) => {
            (r.status, warnings.as_slice(), None)
        }
        CallOutcome::Sent(r, Some(ProviderAnswer::Transient(f) | ProviderAnswer::Refused(f))) => {
            (r.status, &[], Some(f.clone()))
        }
    };
    let error = fault.map(|f| {
        let mut said = f.message.clone();
        if let Some(code) = &f.code {
            said = format!("{code}: {said}");
        }
        if let Some(rid) = &f.request_id {
            said = format!("{said} (request id {rid})");
        }
        let (code, message) = if sync_state == "retrying" {
            (
                "provider_sync_retrying",
                format!("{label} failed; retrying: {said}"),
            )
        } else {
            (
                "provider_sync",
                format!("{label} failed and will not be retried: {said}"),
            )
        };
        json!({
            "code": code,
            "kind": outcome.kind(),
            "message": message,
            "providerCode": f.code,
            "providerMessage": f.message,
            "requestId": f.request_id,
        })
    });
    json!({
        "state": sync_state,
        "call": label,
        "attempts": n,
        "lastStatus": status,
        "error": error,
        "warnings": warnings,
        "nextAttemptAt": next_at.map(rfc3339),
        "updatedAt": rfc3339(at),
    })
}

/// The `providerSync` object of an assessment whose latest call is stored and not yet
/// answered: the keys of [`sync_view`], nothing of an earlier call's answer (its `warnings`
/// belonged to that answer).
pub(super) fn pending_view(label: &str, at: i64) -> Value {
    json!({
        "state": "pending",
        "call": label,
        "attempts": 0,
        "lastStatus": null,
        "error": null,
        "warnings": [],
        "nextAttemptAt": null,
        "updatedAt": rfc3339(at),
    })
}

/// What the sync state says when the queue dead-lettered a call's message.
pub(super) fn dead_letter_note(attempt: i64, still_pending: bool, at: i64) -> Value {
    json!({
        "attempt": attempt,
        "at": rfc3339(at),
        "message": if still_pending {
            format!("The queue message for attempt {attempt} was dead-lettered; the alarm sweep will enqueue it again.")
        } else {
            format!("The queue message for attempt {attempt} was dead-lettered after the call had already finished; nothing was lost.")
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::delivery::attempt::FailureKind;

    fn sent(status: Option<u16>, answer: Option<ProviderAnswer>) -> CallOutcome {
        let r = match status {
            Some(s) => AttemptResult {
                status: Some(s),
                latency_ms: 0, // an answer within the same millisecond is still an answer
                failure: None,
                body: String::new(),
                body_over_cap: false,
                retry_after: None,
                link: None,
            },
            None => AttemptResult::failed(FailureKind::Network, 0, "network error: reset"),
        };
        CallOutcome::Sent(r, answer)
    }

    #[test]
    fn every_outcome_has_an_explicit_kind() {
        assert_eq!(CallOutcome::NoCredentials.kind(), "no_credentials");
        // A network error in the same millisecond is a network error, never "no credentials".
        assert_eq!(sent(None, None).kind(), "network");
        let timeout = CallOutcome::Sent(
            AttemptResult::failed(FailureKind::Timeout, 15_000, "timed out after 15 s"),
            None,
        );
        assert_eq!(timeout.kind(), "timeout");
        assert_eq!(
            sent(
                Some(200),
                Some(ProviderAnswer::Accepted { warnings: vec![] })
            )
            .kind(),
            "accepted"
        );
        assert_eq!(
            sent(
                Some(200),
                Some(ProviderAnswer::Refused(ProviderFault::default()))
            )
            .kind(),
            "refused"
        );
        assert_eq!(
            sent(
                Some(503),
                Some(ProviderAnswer::Transient(ProviderFault::default()))
            )
            .kind(),
            "unavailable"
        );
    }

    #[test]
    fn sync_states_carry_the_providers_words_and_warnings() {
        let fault = ProviderFault {
            code: Some("assessment_not_found".into()),
            message: "Assessment not found".into(),
            request_id: Some("r-1".into()),
        };
        let v = sync_view(
            "Example ATS result update",
            "failed",
            1,
            &sent(Some(200), Some(ProviderAnswer::Refused(fault))),
            None,
            0,
        );
        assert_eq!(v["state"], "failed");
        assert_eq!(v["lastStatus"], 200);
        assert_eq!(v["error"]["code"], "provider_sync");
        assert_eq!(v["error"]["kind"], "refused");
        assert_eq!(v["error"]["providerCode"], "assessment_not_found");
        assert_eq!(v["error"]["providerMessage"], "Assessment not found");
        assert_eq!(v["error"]["requestId"], "r-1");
        let m = v["error"]["message"].as_str().unwrap();
        assert!(
            m.contains("assessment_not_found") && m.contains("r-1"),
            "{m}"
        );

        let ok = sync_view(
            "Example ATS result update",
            "synced",
            1,
            &sent(
                Some(200),
                Some(ProviderAnswer::Accepted {
                    warnings: vec!["w1".into()],
                }),
            ),
            None,
            0,
        );
        assert_eq!(ok["error"], Value::Null);
        assert_eq!(ok["warnings"], json!(["w1"]));

        let none = sync_view("x", "failed", 1, &CallOutcome::NoCredentials, None, 0);
        assert_eq!(none["error"]["kind"], "no_credentials");
        let retry = sync_view("x", "retrying", 1, &sent(None, None), Some(5_000), 0);
        assert_eq!(retry["error"]["code"], "provider_sync_retrying");
        assert_eq!(retry["error"]["kind"], "network");
        assert!(retry["nextAttemptAt"].is_string());
    }

    #[test]
    fn a_pending_call_shows_the_keys_of_an_answered_one_and_no_warnings() {
        let pending = pending_view("x", 0);
        let answered = sync_view(
            "x",
            "synced",
            1,
            &sent(
                Some(200),
                Some(ProviderAnswer::Accepted {
                    warnings: vec!["w1".into()],
                }),
            ),
            None,
            0,
        );
        let keys = |v: &Value| v.as_object().unwrap().keys().cloned().collect::<Vec<_>>();
        assert_eq!(keys(&pending), keys(&answered));
        assert_eq!(pending["state"], "pending");
        assert_eq!(pending["warnings"], json!([]));
        assert_eq!(pending["nextAttemptAt"], Value::Null);
    }

    #[test]
    fn dead_letter_notes_say_what_happens_next() {
        let n = dead_letter_note(3, true, 0);
        assert_eq!(n["attempt"], 3);
        assert!(n["message"].as_str().unwrap().contains("sweep"));
        let done = dead_letter_note(3, false, 0);
        assert!(done["message"]
            .as_str()
            .unwrap()
            .contains("already finished"));
    }
}
