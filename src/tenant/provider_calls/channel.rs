//! Provider calls as a channel of the delivery engine (`tenant/engine/`): what is sent (the
//! stored call, with the provider's authorization header and `call_headers`), how the answer
//! is judged (by the provider, `Spec::call_answer`: e.g. an HTTP 200 whose body says the
//! update failed is a refusal), and where the outcome is shown (the assessment's
//! `providerSync`, which follows the assessment's latest call). A call waits while an earlier
//! call of its assessment is pending (its gate's `record_head` is the assessment's earliest
//! pending call), and its end releases the next (README "Order per assessment").

use serde_json::json;
use worker::{Headers, Method};

use super::sync::{self, provider_answer, sync_view, CallOutcome};
use super::{CallRow, ProviderCalls};
use crate::delivery::attempt::{self, Next, ProviderAnswer};
use crate::delivery::state::{self, Current, State, Transition};
use crate::error::ApiResult;
use crate::model::Provider;
use crate::tenant::engine::leases::Scheduled;
use crate::tenant::engine::{Channel, Enqueue};
use crate::tenant::outbox::unit_random;
use crate::tenant::{assessments, privacy};

/// The provider-call channel: `creds` answers the authorization header's value per provider
/// (None: no credentials any more).
pub(super) struct CallChannel<'a> {
    pub(super) calls: &'a ProviderCalls,
    pub(super) creds: &'a dyn Fn(Provider) -> Option<String>,
}

/// The state `providerSync` shows after a transition: `synced`, `retrying` or `failed`.
fn sync_state(t: &Transition) -> &'static str {
    match t {
        Transition::Delivered => "synced",
        Transition::RetryAt(_) => "retrying",
        Transition::Failed | Transition::Disable | Transition::Retarget => "failed",
    }
}

/// What `last_error` keeps of an outcome: the failure or the provider's message.
fn error_text(outcome: &CallOutcome) -> Option<String> {
    match outcome {
        CallOutcome::NoCredentials => Some("no credentials configured for this provider".into()),
        CallOutcome::Sent(r, None) => Some(r.error().unwrap_or_else(|| "no answer".into())),
        CallOutcome::Sent(_, Some(ProviderAnswer::Accepted { .. })) => None,
        CallOutcome::Sent(_, Some(ProviderAnswer::Transient(f) | ProviderAnswer::Refused(f))) => {
            Some(f.message.clone())
        }
    }
}

/// The name of a call's ATS, as its provider file spells it.
fn ats_title(c: &CallRow) -> &'static str {
    Provider::parse(&c.provider).map_or("the ATS", |p| p.spec().title)
}

/// What a call stopped by the ATS's cancellation keeps as `last_error`.
fn cancelled_note(c: &CallRow) -> String {
    sync::cancelled_by_ats_note(ats_title(c))
}

impl Channel for CallChannel<'_> {
    type Item = CallRow;
    type Sent = CallOutcome;

    fn scheduled(&self) -> Scheduled<'_> {
        self.calls.scheduled()
    }

    fn load(&self, id: &str) -> ApiResult<Option<CallRow>> {
        self.calls.row(id)
    }

    fn current<'a>(&self, c: &'a CallRow) -> Current<'a> {
        Current {
            id: &c.id,
            state: State::parse(&c.state),
            attempt_count: c.attempt_count,
            lease_until: c.lease_until,
            erased: false,
            // Order per assessment: only its earliest pending call may go.
            record_head: c.head.as_deref(),
            endpoint_disabled: false,
        }
    }

    fn due(&self, c: &CallRow) -> (Option<i64>, i64) {
        (c.next_attempt_at, c.cycle_retries)
    }

    async fn send(&self, c: &CallRow, _n: i64) -> CallOutcome {
        let Some((provider, authorization)) =
            Provider::parse(&c.provider).and_then(|p| (self.creds)(p).map(|a| (p, a)))
        else {
            // Credentials removed after the call was stored: a final, visible failure.
            return CallOutcome::NoCredentials;
        };
        let headers = Headers::new();
        let _ = headers.set("user-agent", attempt::USER_AGENT);
        let _ = headers.set("accept", "application/json");
        if c.body.is_some() {
            let _ = headers.set("content-type", "application/json");
        }
        let spec = provider.spec();
        let _ = headers.set(spec.authorization_header, &authorization);
        for (name, value) in spec.call_headers {
            let _ = headers.set(name, value);
        }
        let method = match c.method.as_str() {
            "PATCH" => Method::Patch,
            "PUT" => Method::Put,
            _ => Method::Post,
        };
        let r = attempt::send(
            method,
            &c.url,
            headers,
            c.body.clone(),
            attempt::PROVIDER_READ_CAP,
        )
        .await;
        let answer = r.status.map(|s| provider_answer(provider, s, &r));
        CallOutcome::Sent(r, answer)
    }

    fn judge(
        &self,
        c: &CallRow,
        outcome: &CallOutcome,
        t1: i64,
    ) -> ApiResult<(Transition, Option<String>)> {
        let next = match outcome {
            CallOutcome::NoCredentials => Next::Failed,
            CallOutcome::Sent(r, answer) => attempt::classify_provider_call(
                r,
                answer.as_ref(),
                &self.calls.cfg.retry_schedule,
                c.cycle_retries as usize,
                t1,
                unit_random(),
            ),
        };
        // An erased assessment keeps no ATS text (README "Personal data"): decided here, in
        // the attempt's write, from what storage holds now.
        let error = match error_text(outcome) {
            Some(_) if assessments::is_erased(&self.calls.sql, &c.assessment_id)? => {
                Some(privacy::erased_call_error(outcome.kind(), outcome.status()))
            }
            e => e,
        };
        // A call has no endpoint to disable: `classify_provider_call` never says so.
        let transition = state::after_attempt(next, true);
        // The ATS cancelled the assessment while this attempt was in flight (README "Order
        // per assessment"): delivered if it was accepted, refused if it was refused, and
        // where it would be retried it ends here instead.
        if matches!(transition, Transition::RetryAt(_)) && self.calls.cancelled_by_ats(&c.id)? {
            return Ok((Transition::Failed, Some(cancelled_note(c))));
        }
        Ok((transition, error))
    }

    fn show(
        &self,
        c: &CallRow,
        n: i64,
        _t0: i64,
        outcome: &CallOutcome,
        transition: &Transition,
        t1: i64,
    ) -> ApiResult<Vec<Enqueue>> {
        let (status, latency_ms) = match outcome {
            CallOutcome::NoCredentials => (None, 0),
            CallOutcome::Sent(r, _) => (r.status, r.latency_ms),
        };
        worker::console_log!(
            "{}",
            json!({
                "msg": "provider call attempt",
                "tenant": self.calls.tenant,
                "callId": c.id,
                "assessmentId": c.assessment_id,
                "call": c.label,
                "attempt": n,
                "status": status,
                "latencyMs": latency_ms,
                "kind": outcome.kind(),
            })
        );
        let sync_state = sync_state(transition);
        let next_at = match transition {
            Transition::RetryAt(at) => Some(*at),
            _ => None,
        };
        // The sync state shows the assessment's latest call (decided from what storage holds
        // now, after this attempt's await): its own attempts, or an earlier call's progress as
        // what the latest one waits for, and its failure for good in `earlierFailures`.
        let calls = self.calls;
        // Erased while this attempt was in flight: the call was cancelled (with every later
        // one of its assessment) and the sync state says so; the attempt's outcome is not
        // written over it. An erased assessment's sync state keeps no ATS text (README
        // "Personal data").
        if calls.cancelled_by_erasure(&c.id)? {
            return Ok(Vec::new());
        }
        let mut view = sync_view(&c.id, &c.label, sync_state, n, outcome, next_at, t1);
        // Ended by the ATS's cancellation instead of a retry (`judge`): the row keeps the note.
        if *transition == Transition::Failed && calls.cancelled_by_ats(&c.id)? {
            let mut v = sync::cancelled_view(&view, &c.id, &c.label, n, ats_title(c), 1, t1);
            v["lastStatus"] = json!(status);
            view = v;
        }
        if assessments::is_erased(&calls.sql, &c.assessment_id)? {
            view = privacy::redact_sync(&view);
        }
        let shown = calls.shown(&c.assessment_id)?;
        let next = if calls.is_latest(&c.assessment_id, &c.id)? {
            sync::own_view(&shown, view)
        } else {
            sync::after_earlier(shown, &c.id, &view)
        };
        assessments::set_sync(&calls.sql, &c.assessment_id, &next)?;
        // Its end lets the assessment's next call go, in the same synchronous block.
        let mut enqueue = Vec::new();
        if transition.releases_next() {
            enqueue.extend(calls.release_next(&c.assessment_id, t1)?);
        }
        Ok(enqueue)
    }

    /// A held call names the earlier call of its assessment that it waits for.
    fn waiting_note(&self, _c: &CallRow, earlier: &str) -> String {
        sync::waiting_note(earlier)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::delivery::attempt::{AttemptResult, FailureKind, ProviderFault};

    #[test]
    fn the_sync_state_follows_the_transition() {
        assert_eq!(sync_state(&Transition::Delivered), "synced");
        assert_eq!(sync_state(&Transition::RetryAt(5)), "retrying");
        assert_eq!(sync_state(&Transition::Failed), "failed");
    }

    #[test]
    fn the_row_keeps_what_went_wrong_and_nothing_when_accepted() {
        let answered = |answer| {
            let r = AttemptResult {
                status: Some(200),
                latency_ms: 0,
                failure: None,
                body: String::new(),
                body_over_cap: false,
                retry_after: None,
                link: None,
            };
            CallOutcome::Sent(r, Some(answer))
        };
        assert_eq!(
            error_text(&answered(ProviderAnswer::Accepted { warnings: vec![] })),
            None
        );
        let refused = ProviderAnswer::Refused(ProviderFault {
            message: "Assessment not found".into(),
            ..Default::default()
        });
        assert_eq!(
            error_text(&answered(refused)).as_deref(),
            Some("Assessment not found"),
            "an HTTP 200 the provider refuses is an error"
        );
        let reset = AttemptResult::failed(FailureKind::Network, 0, "network error: reset");
        assert_eq!(
            error_text(&CallOutcome::Sent(reset, None)).as_deref(),
            Some("network error: reset")
        );
        assert!(error_text(&CallOutcome::NoCredentials)
            .unwrap()
            .contains("no credentials"));
    }
}
