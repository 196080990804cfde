//! Replaying an assessment's provider call (README "Results back to the ATS", "Replaying a
//! write-back"): whether the assessment's latest call may be sent again, and with which 409
//! if not; and what `providerSync` shows once it is pending again. Pure functions with host
//! unit tests; `ProviderCalls::replay` and `replay_failed` (`mod.rs`) load, call these and
//! store.
//!
//! Only the latest call is ever replayed: each call carries the whole current result, so the
//! latest one is what the ATS should show; earlier calls that failed are not sent again.

use serde_json::{json, Value};

use super::sync::{self, own_view, pending_view};
use crate::delivery::state::State;
use crate::error::{code, ApiError, ApiResult};
use crate::model::Status;

/// What the replay decision reads of an assessment's latest provider call.
#[derive(Debug, Clone, Copy)]
pub(super) struct LatestCall<'a> {
    /// `call_…`.
    pub id: &'a str,
    pub state: State,
    /// The call's `last_error` (it tells a call the ATS's cancellation stopped,
    /// [`sync::is_cancelled_by_ats`]).
    pub last_error: Option<&'a str>,
    /// When it was stored (ms).
    pub created_at: i64,
}

/// What the replay decision reads of the assessment.
#[derive(Debug, Clone, Copy)]
pub(super) struct Assessment {
    /// When the ATS cancelled it (ms), if it did: [`ats_cancelled_at`].
    pub ats_cancelled_at: Option<i64>,
}

/// When the ATS cancelled an assessment (ms), or None if it did not: its status is
/// `CANCELLED` while its stored result is not a `CANCELLED` of yours (the ATS's cancellation
/// stores no result, README "The ATS cancels"), and it became final then (`final_at`, ms;
/// unknown counts as "after every call", so nothing stored before is sent).
pub(super) fn ats_cancelled_at(
    status: Status,
    result_status: Option<Status>,
    final_at: Option<i64>,
) -> Option<i64> {
    (status == Status::Cancelled && result_status != Some(Status::Cancelled))
        .then(|| final_at.unwrap_or(i64::MAX))
}

/// The refusal of a replay for an assessment without any provider call: 409
/// `nothing_to_replay` (README "Replaying a write-back").
pub(super) fn nothing_to_replay() -> ApiError {
    ApiError::conflict(
        code::NOTHING_TO_REPLAY,
        "The assessment has no provider call to replay: nothing was stored to send to its ATS (none of the results posted so far is sent to it, or the write-back could not be built; `providerSync` says why). Post a result to send one.",
    )
}

/// Whether the assessment's latest call (`c`; an assessment without one is
/// [`nothing_to_replay`]) may be replayed (README "Replaying a write-back"). In this order:
///
/// - the call is `pending` (due, waiting behind an earlier call, being retried or in flight):
///   409 `provider_sync_pending`, it is already going;
/// - the ATS cancelled the assessment and the call was stored before that (stopped by the
///   cancellation, or ended earlier): 409 `provider_sync_cancelled`, the ATS is never told
///   about an assessment it cancelled (the cancellation's own write-back, stored with it, may
///   be replayed);
/// - otherwise (an erased assessment's too: write-backs carry no candidate fields and still go
///   after an erasure, README "Personal data") (`failed`, or `delivered` and shown `synced`): Ok, it may be sent again.
pub(super) fn may_replay(c: &LatestCall<'_>, a: &Assessment) -> ApiResult<()> {
    if c.state == State::Pending {
        return Err(ApiError::conflict(
            code::PROVIDER_SYNC_PENDING,
            format!(
                "The assessment's latest provider call {} is still pending (about to be sent, waiting behind an earlier call, being retried or in flight); it needs no replay. Follow `providerSync` on the assessment, and replay it only once it has failed for good.",
                c.id
            ),
        ));
    }
    let stopped = sync::is_cancelled_by_ats(c.last_error);
    if stopped || a.ats_cancelled_at.is_some_and(|at| c.created_at < at) {
        return Err(ApiError::conflict(
            code::PROVIDER_SYNC_CANCELLED,
            format!(
                "The ATS cancelled the assessment after its latest provider call {} was stored; that call is not sent after the cancellation, so it cannot be replayed.",
                c.id
            ),
        ));
    }
    Ok(())
}

/// `providerSync` once call `call_id` (`label`, after `attempts` attempts) is pending again for
/// a replay, at `at` (ms): [`pending_view`] with its attempts so far (the next attempt's number
/// follows them), keeping `earlierFailures` when `shown` (the assessment's `providerSync`
/// before) described this same call. The answer of the attempt replaces it.
pub(super) fn replayed_view(
    shown: &Value,
    call_id: &str,
    label: &str,
    attempts: i64,
    at: i64,
) -> Value {
    let mut v = own_view(shown, pending_view(call_id, label, at));
    v["attempts"] = json!(attempts);
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    const OPEN: Assessment = Assessment {
        ats_cancelled_at: None,
    };

    fn call(state: State) -> LatestCall<'static> {
        LatestCall {
            id: "call_1",
            state,
            last_error: None,
            created_at: 100,
        }
    }

    fn refusal(latest: &LatestCall<'_>, a: &Assessment) -> (u16, &'static str) {
        let e = may_replay(latest, a).unwrap_err();
        assert!(
            e.message.len() > 40,
            "a sentence saying what to do: {}",
            e.message
        );
        (e.status, e.code)
    }

    #[test]
    fn a_call_that_ended_may_be_replayed_failed_or_synced() {
        assert!(may_replay(&call(State::Failed), &OPEN).is_ok());
        assert!(
            may_replay(&call(State::Delivered), &OPEN).is_ok(),
            "a synced call is re-sent, like a delivered event"
        );
        // Failed for good for any other reason (e.g. the credentials were removed): replayable.
        let mut c = call(State::Failed);
        c.last_error = Some("no credentials configured for this provider");
        assert!(may_replay(&c, &OPEN).is_ok());
    }

    #[test]
    fn no_call_is_nothing_to_replay() {
        let e = nothing_to_replay();
        assert_eq!((e.status, e.code), (409, code::NOTHING_TO_REPLAY));
        assert!(e.message.contains("Post a result"), "{}", e.message);
    }

    #[test]
    fn a_pending_call_is_already_going() {
        let e = may_replay(&call(State::Pending), &OPEN).unwrap_err();
        assert_eq!((e.status, e.code), (409, code::PROVIDER_SYNC_PENDING));
        assert!(e.message.contains("call_1"), "{}", e.message);
        assert_eq!(
            refusal(&call(State::Pending), &OPEN),
            (409, code::PROVIDER_SYNC_PENDING)
        );
    }

    #[test]
    fn a_call_the_ats_cancellation_stopped_or_overtook_is_never_replayed() {
        // Stopped by the cancellation: its note says so.
        let note = sync::cancelled_by_ats_note("Example ATS");
        let mut stopped = call(State::Failed);
        stopped.last_error = Some(&note);
        assert_eq!(
            refusal(&stopped, &OPEN),
            (409, code::PROVIDER_SYNC_CANCELLED)
        );
        // Failed for good before the ATS cancelled (a STARTED refused, then the cancel): the
        // ATS must not be told "in progress" now either.
        let cancelled_later = Assessment {
            ats_cancelled_at: Some(200),
        };
        for state in [State::Failed, State::Delivered] {
            assert_eq!(
                refusal(&call(state), &cancelled_later),
                (409, code::PROVIDER_SYNC_CANCELLED)
            );
        }
        // The cancellation's own write-back (stored with it, e.g. a "canceled" mark) may go again.
        let mut own = call(State::Failed);
        own.created_at = 200;
        assert!(may_replay(&own, &cancelled_later).is_ok());
    }

    #[test]
    fn only_the_ats_cancellation_counts_as_cancelled_by_the_ats() {
        use Status::*;
        // The ATS cancelled: no result of yours says CANCELLED.
        assert_eq!(ats_cancelled_at(Cancelled, None, Some(7)), Some(7));
        assert_eq!(ats_cancelled_at(Cancelled, Some(Started), Some(7)), Some(7));
        assert_eq!(
            ats_cancelled_at(Cancelled, Some(Started), None),
            Some(i64::MAX),
            "unknown time: every call counts as stored before"
        );
        // You posted CANCELLED: your own result, not the ATS's cancellation.
        assert_eq!(ats_cancelled_at(Cancelled, Some(Cancelled), Some(7)), None);
        for s in Status::ALL.into_iter().filter(|s| *s != Cancelled) {
            assert_eq!(ats_cancelled_at(s, None, Some(7)), None, "{s:?}");
        }
    }

    #[test]
    fn a_replayed_call_shows_pending_with_its_attempts_so_far() {
        let failed = json!({"state": "failed", "callId": "call_1", "call": "X update",
            "attempts": 3, "lastStatus": 503, "error": {"code": "provider_sync"},
            "earlierFailures": [{"callId": "call_0"}], "deadLettered": {"attempt": 2}});
        let v = replayed_view(&failed, "call_1", "X update", 3, 9);
        assert_eq!(v["state"], "pending");
        assert_eq!(v["callId"], "call_1");
        assert_eq!(v["attempts"], 3);
        assert_eq!(v["lastStatus"], Value::Null);
        assert_eq!(v["error"], Value::Null);
        assert_eq!(v["nextAttemptAt"], Value::Null);
        assert_eq!(v["earlierFailures"][0]["callId"], "call_0");
        assert!(v.get("deadLettered").is_none(), "an old queue note goes");
        // Shown for another call (the sync state was lost or rewritten): nothing of it stays.
        let other = replayed_view(&failed, "call_2", "X update", 1, 9);
        assert!(other.get("earlierFailures").is_none());
    }
}
