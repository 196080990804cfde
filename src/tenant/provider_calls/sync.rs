//! What a provider call's attempt came to and how the assessment shows it (`providerSync`,
//! README "Results back to the ATS", "Order per assessment"): pure functions with host unit
//! tests.

use serde_json::{json, Value};

use crate::delivery::attempt::{AttemptResult, ProviderAnswer, ProviderFault};
use crate::error::code;
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

/// The `providerSync` object of an assessment after an attempt of call `call_id`: `state`
/// (`synced`, `retrying`, `failed`), `callId`, `call`, `attempts`, `lastStatus` (HTTP code or
/// null), `error` (null, or `{code, kind, message}` plus the ATS's `providerCode`,
/// `providerMessage`, `requestId` when it sent them), `warnings` (from a successful answer),
/// `nextAttemptAt`, `updatedAt`.
pub(super) fn sync_view(
    call_id: &str,
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
        "callId": call_id,
        "call": label,
        "attempts": n,
        "lastStatus": status,
        "error": error,
        "warnings": warnings,
        "nextAttemptAt": next_at.map(rfc3339),
        "updatedAt": rfc3339(at),
    })
}

/// The `providerSync` of call `call_id` before its first attempt: `pending` (stored with
/// attempt 1 claimed, or released by the end of the earlier call it waited for). The keys of
/// [`sync_view`], nothing of an earlier call's answer (its `warnings` belonged to that
/// answer).
pub(super) fn pending_view(call_id: &str, label: &str, at: i64) -> Value {
    json!({
        "state": "pending",
        "callId": call_id,
        "call": label,
        "attempts": 0,
        "lastStatus": null,
        "error": null,
        "warnings": [],
        "nextAttemptAt": null,
        "updatedAt": rfc3339(at),
    })
}

/// What a call held behind `earlier` (an earlier call of the same assessment, still pending)
/// keeps as `last_error` until that one ends.
pub(super) fn waiting_note(earlier: &str) -> String {
    format!("waiting for {earlier}, an earlier call of the same assessment, to be delivered or fail for good")
}

/// The `waitingFor` of a held call: the earlier call it waits for (`callId`, `call`), what is
/// known of it (`state`, `attempts`, `lastStatus`, `error`, `nextAttemptAt`: from `known`, that
/// call's own `providerSync`, when there is one) and a `message` saying why.
pub(super) fn waiting_for(earlier_id: &str, earlier_label: &str, known: Option<&Value>) -> Value {
    let field = |k: &str, default: Value| {
        known
            .map(|v| v[k].clone())
            .filter(|v| !v.is_null())
            .unwrap_or(default)
    };
    json!({
        "callId": earlier_id,
        "call": earlier_label,
        "state": field("state", json!("pending")),
        "attempts": field("attempts", json!(0)),
        "lastStatus": field("lastStatus", Value::Null),
        "error": field("error", Value::Null),
        "nextAttemptAt": field("nextAttemptAt", Value::Null),
        "message": format!(
            "Waiting for the earlier call {earlier_id} ({earlier_label}) of this assessment to be delivered or fail for good: calls of one assessment reach the ATS in the order they were stored."
        ),
    })
}

/// The `providerSync` of call `call_id`, stored while `earlier_id` (an earlier call of the same
/// assessment) is pending: `waiting`, nothing sent yet, with `waitingFor`. `shown` is the
/// assessment's `providerSync` before this call: the earlier call's own when it was the
/// latest, or that of a call already waiting for it.
pub(super) fn waiting_view(
    call_id: &str,
    label: &str,
    earlier_id: &str,
    earlier_label: &str,
    shown: &Value,
    at: i64,
) -> Value {
    let known = if shown["callId"] == earlier_id {
        Some(shown)
    } else {
        Some(&shown["waitingFor"]).filter(|w| w["callId"] == earlier_id)
    };
    let mut v = pending_view(call_id, label, at);
    v["state"] = json!("waiting");
    v["waitingFor"] = waiting_for(earlier_id, earlier_label, known);
    v
}

/// The latest call's own `view` (after an attempt), keeping what `shown` (the assessment's
/// `providerSync` before it) recorded about earlier calls of this same call's wait:
/// `earlierFailures`, kept only when `shown` describes the same call.
pub(super) fn own_view(shown: &Value, mut view: Value) -> Value {
    if shown["callId"] == view["callId"] {
        if let Some(f) = shown.get("earlierFailures").filter(|f| f.is_array()) {
            view["earlierFailures"] = f.clone();
        }
    }
    view
}

/// How an attempt of an earlier call (`view`, its own sync view) changes `latest`, the
/// `providerSync` of a later call: its `waitingFor` follows the call it waits for, and a call
/// that failed for good is added to `earlierFailures` (`{call, callId, attempts, lastStatus,
/// error, updatedAt}`).
pub(super) fn after_earlier(mut latest: Value, call_id: &str, view: &Value) -> Value {
    if !latest.is_object() {
        latest = json!({});
    }
    if latest["waitingFor"]["callId"] == call_id {
        let label = view["call"].as_str().unwrap_or_default();
        latest["waitingFor"] = waiting_for(call_id, label, Some(view));
    }
    if view["state"] == "failed" {
        let mut earlier = latest["earlierFailures"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        earlier.push(json!({
            "call": view["call"],
            "callId": call_id,
            "attempts": view["attempts"],
            "lastStatus": view["lastStatus"],
            "error": view["error"],
            "updatedAt": view["updatedAt"],
        }));
        latest["earlierFailures"] = Value::Array(earlier);
    }
    latest
}

/// `latest` (the assessment's `providerSync`) once held call `released_id` is released because
/// the earlier call it waited for ended: `pending` when it is the latest call (keeping its
/// `earlierFailures`), else the latest call now waits for it.
pub(super) fn after_release(
    latest: Value,
    released_id: &str,
    released_label: &str,
    released_is_latest: bool,
    at: i64,
) -> Value {
    if released_is_latest {
        return own_view(&latest, pending_view(released_id, released_label, at));
    }
    let mut latest = if latest.is_object() {
        latest
    } else {
        json!({})
    };
    latest["waitingFor"] = waiting_for(released_id, released_label, None);
    latest["updatedAt"] = json!(rfc3339(at));
    latest
}

/// How a call that the ATS's own cancellation of its assessment stopped starts its
/// `last_error` (README "Order per assessment"): [`cancelled_by_ats_note`].
pub(super) const CANCELLED_BY_ATS: &str = "not sent: the ATS cancelled the assessment";

/// What a call stopped by the ATS's cancellation keeps as `last_error`: `ats` is the ATS's
/// name (`Spec::title`). Starts with [`CANCELLED_BY_ATS`].
pub(super) fn cancelled_by_ats_note(ats: &str) -> String {
    format!("{CANCELLED_BY_ATS} ({ats} cancelled it before this call went out)")
}

/// Whether a call's `last_error` is [`cancelled_by_ats_note`]'s.
pub(super) fn is_cancelled_by_ats(last_error: Option<&str>) -> bool {
    last_error.is_some_and(|e| e.starts_with(CANCELLED_BY_ATS))
}

/// `latest` (the assessment's `providerSync`) once the ATS cancelled the assessment and call
/// `call_id` (`label`, after `attempts` attempts) — the assessment's latest call — was not
/// sent any more: `state` `cancelled`, `error` `{code: provider_sync_cancelled, kind:
/// cancelled, message}`, no `nextAttemptAt`, no `waitingFor`. `lastStatus` and
/// `earlierFailures` stay when `latest` described the same call. `stopped` counts the calls of
/// the assessment the cancellation stopped (this one included).
pub(super) fn cancelled_view(
    latest: &Value,
    call_id: &str,
    label: &str,
    attempts: i64,
    ats: &str,
    stopped: usize,
    at: i64,
) -> Value {
    let same = latest["callId"] == call_id;
    let mut v = own_view(latest, pending_view(call_id, label, at));
    v["state"] = json!("cancelled");
    v["attempts"] = json!(attempts);
    if same {
        v["lastStatus"] = latest["lastStatus"].clone();
    }
    let others = match stopped {
        0 | 1 => String::new(),
        n => format!(
            " ({} earlier pending calls of it were not sent either)",
            n - 1
        ),
    };
    v["error"] = json!({
        "code": code::PROVIDER_SYNC_CANCELLED,
        "kind": "cancelled",
        "message": format!(
            "{label} was not sent: {ats} cancelled the assessment before it went out{others}. Calls of a cancelled assessment are not sent after the cancellation."
        ),
        "providerCode": null,
        "providerMessage": null,
        "requestId": null,
    });
    v
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
    fn a_call_the_ats_cancellation_stopped_says_so() {
        let note = cancelled_by_ats_note("Example ATS");
        assert!(is_cancelled_by_ats(Some(&note)));
        assert!(!is_cancelled_by_ats(Some("refused (HTTP 422)")));
        assert!(!is_cancelled_by_ats(None));
        // The latest call was being retried: its own view turns `cancelled`, keeping what
        // its attempts saw and what earlier calls' failures were.
        let retrying = json!({"state": "retrying", "callId": "call_2", "call": "Example update",
            "attempts": 2, "lastStatus": 503, "error": {"code": "provider_sync_retrying"},
            "nextAttemptAt": "2026-12-02T00:00:10.000Z", "earlierFailures": [{"callId": "call_1"}]});
        let v = cancelled_view(
            &retrying,
            "call_2",
            "Example update",
            2,
            "Example ATS",
            1,
            0,
        );
        assert_eq!(v["state"], "cancelled");
        assert_eq!(
            (v["attempts"].as_i64(), v["lastStatus"].as_i64()),
            (Some(2), Some(503))
        );
        assert_eq!(v["error"]["code"], "provider_sync_cancelled");
        assert_eq!(v["error"]["kind"], "cancelled");
        assert!(v["nextAttemptAt"].is_null());
        assert_eq!(v["earlierFailures"][0]["callId"], "call_1");
        assert!(v["error"]["message"]
            .as_str()
            .unwrap()
            .starts_with("Example update was not sent: Example ATS cancelled the assessment"));
        // A held call (the sync state described it waiting for another): no waitingFor left,
        // and the count of the others stopped with it.
        let waiting = json!({"state": "waiting", "callId": "call_3", "call": "x", "attempts": 0,
            "waitingFor": {"callId": "call_2"}});
        let v = cancelled_view(&waiting, "call_3", "x", 0, "Example ATS", 2, 0);
        assert!(v.get("waitingFor").is_none());
        assert!(v["lastStatus"].is_null());
        assert!(v["error"]["message"]
            .as_str()
            .unwrap()
            .contains("(1 earlier pending calls of it were not sent either)"));
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
            "call_1",
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
            "call_1",
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

        let none = sync_view(
            "call_1",
            "x",
            "failed",
            1,
            &CallOutcome::NoCredentials,
            None,
            0,
        );
        assert_eq!(none["error"]["kind"], "no_credentials");
        let retry = sync_view(
            "call_1",
            "x",
            "retrying",
            1,
            &sent(None, None),
            Some(5_000),
            0,
        );
        assert_eq!(retry["error"]["code"], "provider_sync_retrying");
        assert_eq!(retry["error"]["kind"], "network");
        assert!(retry["nextAttemptAt"].is_string());
    }

    fn accepted() -> CallOutcome {
        sent(
            Some(200),
            Some(ProviderAnswer::Accepted { warnings: vec![] }),
        )
    }

    fn unavailable() -> CallOutcome {
        sent(
            Some(503),
            Some(ProviderAnswer::Transient(ProviderFault::default())),
        )
    }

    fn refused() -> CallOutcome {
        sent(
            Some(422),
            Some(ProviderAnswer::Refused(ProviderFault {
                message: "bad".into(),
                ..Default::default()
            })),
        )
    }

    #[test]
    fn a_call_stored_behind_a_pending_one_waits_and_says_for_what() {
        // The earlier call is the latest so far and retrying: its own view is what is shown.
        let earlier = sync_view(
            "call_1",
            "Example ATS result update",
            "retrying",
            1,
            &unavailable(),
            Some(9_000),
            0,
        );
        let v = waiting_view(
            "call_2",
            "Example ATS result update",
            "call_1",
            "Example ATS result update",
            &earlier,
            5,
        );
        assert_eq!(v["state"], "waiting");
        assert_eq!(v["callId"], "call_2");
        assert_eq!(v["attempts"], 0);
        assert_eq!(v["error"], Value::Null);
        let w = &v["waitingFor"];
        assert_eq!(w["callId"], "call_1");
        assert_eq!(w["state"], "retrying");
        assert_eq!(w["attempts"], 1);
        assert_eq!(w["lastStatus"], 503);
        assert!(w["nextAttemptAt"].is_string());
        assert_eq!(w["error"]["code"], "provider_sync_retrying");
        assert!(w["message"].as_str().unwrap().contains("call_1"));
        // A third call waits for the same earlier call: it knows what the second one knew.
        let third = waiting_view("call_3", "x", "call_1", "y", &v, 6);
        assert_eq!(third["waitingFor"]["state"], "retrying");
        assert_eq!(third["waitingFor"]["attempts"], 1);
        // Shown state of another call (or none): only what is certain, the call is pending.
        let v = waiting_view(
            "call_3",
            "x",
            "call_1",
            "y",
            &json!({"callId": "call_0"}),
            5,
        );
        assert_eq!(v["waitingFor"]["state"], "pending");
        assert_eq!(v["waitingFor"]["attempts"], 0);
        assert_eq!(v["waitingFor"]["call"], "y");
        assert!(waiting_note("call_1").contains("call_1"));
    }

    #[test]
    fn an_earlier_calls_attempts_show_on_the_later_calls_wait() {
        let waiting = waiting_view("call_2", "x", "call_1", "x", &json!({}), 0);
        let retry = sync_view("call_1", "x", "retrying", 2, &sent(None, None), Some(7), 3);
        let v = after_earlier(waiting.clone(), "call_1", &retry);
        assert_eq!(v["state"], "waiting", "still waiting, never synced");
        assert_eq!(v["waitingFor"]["attempts"], 2);
        assert_eq!(v["waitingFor"]["error"]["kind"], "network");
        assert!(v.get("earlierFailures").is_none());
        // Another call's attempt leaves the wait alone.
        let other = after_earlier(waiting.clone(), "call_0", &retry);
        assert_eq!(other["waitingFor"]["attempts"], 0);
        // A failure for good is recorded on the later call.
        let failed = sync_view("call_1", "x", "failed", 3, &refused(), None, 4);
        let v = after_earlier(waiting, "call_1", &failed);
        assert_eq!(v["earlierFailures"][0]["callId"], "call_1");
        assert_eq!(v["earlierFailures"][0]["lastStatus"], 422);
        assert_eq!(v["earlierFailures"][0]["error"]["code"], "provider_sync");
        // Whatever was shown before (nothing, or not an object), it stays an object.
        assert!(after_earlier(Value::Null, "call_1", &failed).is_object());
    }

    #[test]
    fn release_makes_the_latest_pending_or_moves_its_wait_to_the_released_call() {
        let waiting = waiting_view("call_3", "x", "call_1", "x", &json!({}), 0);
        let failed = sync_view("call_1", "x", "failed", 3, &refused(), None, 4);
        let latest = after_earlier(waiting, "call_1", &failed);
        // call_2 (not the latest) is released: call_3 now waits for it.
        let v = after_release(latest.clone(), "call_2", "y", false, 5);
        assert_eq!(v["state"], "waiting");
        assert_eq!(v["callId"], "call_3");
        assert_eq!(v["waitingFor"]["callId"], "call_2");
        assert_eq!(v["waitingFor"]["state"], "pending");
        assert_eq!(v["earlierFailures"].as_array().unwrap().len(), 1);
        // call_3 itself is released: pending, no wait, its earlier failures kept.
        let v = after_release(latest, "call_3", "x", true, 6);
        assert_eq!(v["state"], "pending");
        assert_eq!(v["callId"], "call_3");
        assert!(v.get("waitingFor").is_none());
        assert_eq!(v["earlierFailures"][0]["callId"], "call_1");
    }

    #[test]
    fn synced_comes_only_from_the_latest_calls_own_success_and_keeps_earlier_failures() {
        // STARTED (call_1) retries; COMPLETED (call_2) is stored behind it; STARTED then fails
        // for good; COMPLETED is released and accepted: synced, with the failure listed.
        let started = sync_view("call_1", "s", "retrying", 1, &unavailable(), Some(9), 0);
        let mut shown = waiting_view("call_2", "c", "call_1", "s", &started, 1);
        let mut states = vec![shown["state"].clone()];
        shown = after_earlier(
            shown,
            "call_1",
            &sync_view("call_1", "s", "failed", 2, &refused(), None, 2),
        );
        states.push(shown["state"].clone());
        shown = after_release(shown, "call_2", "c", true, 2);
        states.push(shown["state"].clone());
        shown = own_view(
            &shown,
            sync_view("call_2", "c", "synced", 1, &accepted(), None, 3),
        );
        assert_eq!(
            states,
            vec![json!("waiting"), json!("waiting"), json!("pending")]
        );
        assert_eq!(shown["state"], "synced");
        assert_eq!(shown["callId"], "call_2");
        assert_eq!(shown["earlierFailures"][0]["callId"], "call_1");
        // A view of another call never inherits this call's earlier failures.
        let next = own_view(&shown, pending_view("call_9", "c", 4));
        assert!(next.get("earlierFailures").is_none());
    }

    #[test]
    fn a_pending_call_shows_the_keys_of_an_answered_one_and_no_warnings() {
        let pending = pending_view("call_1", "x", 0);
        let answered = sync_view(
            "call_1",
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
