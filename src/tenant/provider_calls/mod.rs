//! Outbound provider calls (each provider's `write_back` and `after_order`, see
//! `providers::Spec`): stored with the change that caused them, attempted right after the
//! answer, retried through `DELIVERIES` on 5xx/429/network errors, final on other refusals —
//! and their state is visible on the assessment (`providerSync`, README "Results back to the
//! ATS"). They are deliveries of the one engine (`tenant/engine/`); `channel.rs` is what
//! differs (the call, the provider's judgement of its answer, the assessment's sync state),
//! `sync.rs` the pure sync view.
//!
//! Order per assessment (README "Results back to the ATS", "Order per assessment"): the calls
//! of one assessment reach the ATS in the order they were stored. A call stored while an
//! earlier call of its assessment is pending is held (`next_attempt_at` NULL, not claimed, so
//! neither the sweep nor the attempt right after the answer sends it) and released — made due
//! at once — in the same write that marks the earlier one delivered or failed for good
//! (`release_next`). Calls of other assessments never wait.

use serde::Deserialize;
use worker::{Env, Method, SqlStorage, SqlStorageValue as V};

use super::engine::leases::{Ended, Scheduled, LEASE_MS};
use super::engine::{self, Enqueue};
use super::{assessments, now, privacy, Tenant};
use crate::admin::tenants::Credentials;
use crate::config::Config;
use crate::delivery::state::{self, Start};
use crate::delivery::{MsgKind, QueueMsg};
use crate::error::{ApiError, ApiResult, Context};
use crate::model::Provider;
use crate::providers::OutboundCall;
use crate::secrets;

mod channel;
mod sync;

use channel::CallChannel;
use sync::dead_letter_note;

// The `calls` table: created by step 1 of `migrations::LADDER` (frozen there);
// a change to it is a new step.

/// Schema step 6: calls spell their states as every delivery does (`done` → `delivered`)
/// and keep the last attempt's error like the other delivery tables.
pub const ONE_ENGINE_STEP: &[&str] = &[
    "ALTER TABLE calls ADD COLUMN last_error TEXT",
    "UPDATE calls SET state = 'delivered' WHERE state = 'done'",
];

/// Schema step 7: an assessment's calls by insert order, for the order per assessment (its
/// earliest pending call, its latest call).
pub const ORDER_STEP: &[&str] =
    &["CREATE INDEX IF NOT EXISTS calls_assessment ON calls(assessment_id, seq)"];

/// The earliest pending call of an assessment: the one allowed to go.
#[derive(Debug, Clone, Deserialize)]
struct Head {
    id: String,
    label: String,
    attempt_count: i64,
    next_attempt_at: Option<i64>,
}

/// One stored call (as loaded for an attempt, or as stored and kept for its first attempt).
#[derive(Debug, Clone, Deserialize)]
pub(super) struct CallRow {
    id: String,
    assessment_id: String,
    provider: String,
    label: String,
    method: String,
    url: String,
    body: Option<String>,
    state: String,
    attempt_count: i64,
    cycle_retries: i64,
    next_attempt_at: Option<i64>,
    lease_until: i64,
    /// The earliest pending call of its assessment (itself when it may go).
    #[serde(default)]
    head: Option<String>,
}

pub struct ProviderCalls {
    pub sql: SqlStorage,
    pub env: Env,
    pub cfg: Config,
    pub tenant: String,
}

/// A call to make, before it is stored.
pub struct NewCall {
    pub assessment_id: String,
    pub provider: Provider,
    /// What the call is, for people (`providers::OutboundCall::label`).
    pub label: &'static str,
    pub method: Method,
    pub url: String,
    pub body: Option<String>,
}

impl ProviderCalls {
    fn scheduled(&self) -> Scheduled<'_> {
        Scheduled {
            sql: &self.sql,
            env: &self.env,
            tenant: &self.tenant,
            table: "calls",
            ended: Ended::DoneAt,
            kind: MsgKind::Provider,
            only: "",
            schedule: &self.cfg.retry_schedule,
        }
    }

    /// Store a call (synchronously, in the caller's transaction). When no earlier call of its
    /// assessment is pending, it is stored with attempt 1 claimed under a lease, like an
    /// emitted event: the attempt right after the answer needs no further write before its
    /// request, and if it is never made the sweep makes it once the lease has run out; the
    /// row is returned, kept for that attempt. Otherwise it is held behind the earliest
    /// pending one (README "Order per assessment": no due time, not claimed, `providerSync`
    /// `waiting`) and None is returned: that call's end releases it.
    pub fn insert(&self, c: NewCall, at: i64) -> ApiResult<Option<CallRow>> {
        let id = secrets::new_id("call_");
        let earlier = self.head(&c.assessment_id)?;
        let start = state::start(false, earlier.is_some());
        let (attempt_count, next_attempt_at, lease_until) = match start {
            Start::Claimed => (1, Some(at), at + LEASE_MS),
            Start::Held | Start::Parked => (0, None, 0),
        };
        self.sql
            .exec(
                "INSERT INTO calls (id, assessment_id, provider, label, method, url, body, state, attempt_count, next_attempt_at, lease_until, created_at, last_error) VALUES (?, ?, ?, ?, ?, ?, ?, 'pending', ?, ?, ?, ?, ?)",
                vec![
                    id.clone().into(),
                    c.assessment_id.clone().into(),
                    c.provider.as_str().into(),
                    c.label.into(),
                    c.method.to_string().into(),
                    c.url.clone().into(),
                    c.body.clone().into(),
                    V::Integer(attempt_count),
                    next_attempt_at.map(V::Integer).unwrap_or(V::Null),
                    V::Integer(lease_until),
                    V::Integer(at),
                    earlier.as_ref().map(|e| sync::waiting_note(&e.id)).into(),
                ],
            )
            .context("insert")?;
        let view = match &earlier {
            None => sync::pending_view(&id, c.label, at),
            Some(e) => {
                let shown = self.shown(&c.assessment_id)?;
                sync::waiting_view(&id, c.label, &e.id, &e.label, &shown, at)
            }
        };
        assessments::set_sync(&self.sql, &c.assessment_id, &view)?;
        if start != Start::Claimed {
            return Ok(None);
        }
        Ok(Some(CallRow {
            head: Some(id.clone()),
            id,
            assessment_id: c.assessment_id,
            provider: c.provider.as_str().to_string(),
            label: c.label.to_string(),
            method: c.method.to_string(),
            url: c.url,
            body: c.body,
            state: "pending".into(),
            attempt_count,
            cycle_retries: 0,
            next_attempt_at,
            lease_until,
        }))
    }

    /// The earliest pending call of an assessment (the one allowed to go), if any.
    fn head(&self, assessment_id: &str) -> ApiResult<Option<Head>> {
        let rows: Vec<Head> = self
            .sql
            .exec(
                "SELECT id, label, attempt_count, next_attempt_at FROM calls WHERE assessment_id = ? AND state = 'pending' ORDER BY seq LIMIT 1",
                vec![assessment_id.into()],
            )
            .and_then(|c| c.to_array())
            .context("earliest pending call")?;
        Ok(rows.into_iter().next())
    }

    /// Whether call `id` is the latest stored for its assessment (no call stored after it).
    fn is_latest(&self, assessment_id: &str, id: &str) -> ApiResult<bool> {
        #[derive(Deserialize)]
        struct Later {
            n: i64,
        }
        let later: Later = self
            .sql
            .exec(
                "SELECT count(*) AS n FROM calls WHERE assessment_id = ? AND seq > (SELECT seq FROM calls WHERE id = ?)",
                vec![assessment_id.into(), id.into()],
            )
            .and_then(|c| c.one())
            .context("later calls")?;
        Ok(later.n == 0)
    }

    /// The assessment's `providerSync` as stored (an empty object when there is none).
    fn shown(&self, assessment_id: &str) -> ApiResult<serde_json::Value> {
        Ok(assessments::get(&self.sql, assessment_id)?
            .and_then(|a| a.sync)
            .and_then(|s| serde_json::from_str(&s).ok())
            .filter(serde_json::Value::is_object)
            .unwrap_or_else(|| serde_json::json!({})))
    }

    /// A call of `assessment_id` just ended (delivered or failed for good): if the assessment's
    /// earliest pending call was held waiting for it, make that one due now, point the calls
    /// still held at it, and show it on `providerSync`. Returns the queue message for its
    /// attempt. Synchronous, so it commits with the ended call's state.
    fn release_next(&self, assessment_id: &str, t: i64) -> ApiResult<Option<Enqueue>> {
        let Some(head) = self
            .head(assessment_id)?
            .filter(|h| h.next_attempt_at.is_none())
        else {
            return Ok(None);
        };
        self.sql
            .exec(
                "UPDATE calls SET next_attempt_at = ?, last_error = NULL WHERE id = ?",
                vec![V::Integer(t), head.id.clone().into()],
            )
            .context("release")?;
        self.sql
            .exec(
                "UPDATE calls SET last_error = ? WHERE assessment_id = ? AND state = 'pending' AND next_attempt_at IS NULL AND id != ?",
                vec![
                    sync::waiting_note(&head.id).into(),
                    assessment_id.into(),
                    head.id.clone().into(),
                ],
            )
            .context("wait for the released call")?;
        let latest = self.is_latest(assessment_id, &head.id)?;
        let shown = self.shown(assessment_id)?;
        let view = sync::after_release(shown, &head.id, &head.label, latest, t);
        assessments::set_sync(&self.sql, assessment_id, &view)?;
        Ok(Some((head.id, head.attempt_count + 1, t)))
    }

    /// The ATS cancelled assessment `assessment_id` (`ats`: its name): the calls of it still
    /// waiting to go (held, or due later after a failed attempt) are not sent any more — each
    /// ends `failed` with [`sync::cancelled_by_ats_note`] — and `providerSync` says
    /// `cancelled` when the latest call is one of them (README "Order per assessment"). A call
    /// whose attempt is in flight (leased) keeps it: delivered if the ATS accepts it, otherwise
    /// it ends the same way instead of being retried ([`Self::cancelled_by_ats`]); calls
    /// stored after this one (the cancellation's own write-back) still wait for it.
    /// Synchronous: commits with the cancellation. Returns how many calls were stopped now.
    pub fn stop_for_cancellation(
        &self,
        assessment_id: &str,
        ats: &str,
        t: i64,
    ) -> ApiResult<usize> {
        #[derive(Deserialize)]
        struct Stopped {
            id: String,
            label: String,
            attempt_count: i64,
            seq: i64,
        }
        let note = sync::cancelled_by_ats_note(ats);
        let mut stopped: Vec<Stopped> = self
            .sql
            .exec(
                "UPDATE calls SET state = 'failed', next_attempt_at = NULL, lease_until = 0, last_error = ?, done_at = ? WHERE assessment_id = ? AND state = 'pending' AND lease_until <= ? RETURNING id, label, attempt_count, seq",
                vec![note.clone().into(), V::Integer(t), assessment_id.into(), V::Integer(t)],
            )
            .and_then(|c| c.to_array())
            .context("stop calls")?;
        // In flight: marked, so its attempt's end does not schedule a retry.
        self.sql
            .exec(
                "UPDATE calls SET last_error = ? WHERE assessment_id = ? AND state = 'pending' AND lease_until > ?",
                vec![note.into(), assessment_id.into(), V::Integer(t)],
            )
            .context("mark calls in flight")?;
        stopped.sort_by_key(|c| c.seq);
        if let Some(last) = stopped.last() {
            if self.is_latest(assessment_id, &last.id)? {
                let shown = self.shown(assessment_id)?;
                let view = sync::cancelled_view(
                    &shown,
                    &last.id,
                    &last.label,
                    last.attempt_count,
                    ats,
                    stopped.len(),
                    t,
                );
                assessments::set_sync(&self.sql, assessment_id, &view)?;
            }
        }
        Ok(stopped.len())
    }

    /// Whether call `id` was marked by [`Self::stop_for_cancellation`]: its attempt's end
    /// then never schedules a retry.
    fn cancelled_by_ats(&self, id: &str) -> ApiResult<bool> {
        #[derive(Deserialize)]
        struct S {
            last_error: Option<String>,
        }
        let rows: Vec<S> = self
            .sql
            .exec("SELECT last_error FROM calls WHERE id = ?", vec![id.into()])
            .and_then(|c| c.to_array())
            .context("call note")?;
        Ok(rows
            .first()
            .is_some_and(|r| sync::is_cancelled_by_ats(r.last_error.as_deref())))
    }

    fn row(&self, id: &str) -> ApiResult<Option<CallRow>> {
        let rows: Vec<CallRow> = self
            .sql
            .exec(
                "SELECT id, assessment_id, provider, label, method, url, body, state, attempt_count, cycle_retries, next_attempt_at, lease_until, (SELECT h.id FROM calls h WHERE h.assessment_id = calls.assessment_id AND h.state = 'pending' ORDER BY h.seq LIMIT 1) AS head FROM calls WHERE id = ?",
                vec![id.into()],
            )
            .and_then(|c| c.to_array())
            .context("read")?;
        Ok(rows.into_iter().next())
    }

    /// Whether call `id` was cancelled by an erasure of its assessment (README "Personal
    /// data"): no longer pending, and its `last_error` is the erasure's note.
    fn cancelled_by_erasure(&self, id: &str) -> ApiResult<bool> {
        #[derive(Deserialize)]
        struct S {
            state: String,
            last_error: Option<String>,
        }
        let rows: Vec<S> = self
            .sql
            .exec(
                "SELECT state, last_error FROM calls WHERE id = ?",
                vec![id.into()],
            )
            .and_then(|c| c.to_array())
            .context("call state")?;
        Ok(rows.first().is_some_and(|r| {
            r.state != "pending"
                && r.last_error
                    .as_deref()
                    .is_some_and(privacy::is_cancelled_note)
        }))
    }

    /// The dead-letter queue gave up on this call's message: record it on the call's
    /// assessment (README "Configuration": nothing silently dropped). The call stays pending, so
    /// the alarm sweep keeps it moving.
    pub fn on_dead_letter(&self, msg: &QueueMsg) -> ApiResult<()> {
        let Some(c) = self.row(&msg.id)? else {
            return Err(ApiError::not_found("provider call"));
        };
        let mut sync = self.shown(&c.assessment_id)?;
        if sync.as_object().is_some_and(|o| o.is_empty()) {
            sync = serde_json::json!({"state": "pending", "call": c.label});
        }
        sync["deadLettered"] = dead_letter_note(msg.attempt, c.state == "pending", now());
        assessments::set_sync(&self.sql, &c.assessment_id, &sync)
    }

    /// A queue message arrived: attempt if it is the due, current copy. `creds` answers the
    /// authorization header's value per provider.
    pub async fn on_message(
        &self,
        msg: &QueueMsg,
        creds: &dyn Fn(Provider) -> Option<String>,
    ) -> ApiResult<()> {
        engine::on_message(&CallChannel { calls: self, creds }, msg).await
    }

    pub async fn sweep(&self) -> ApiResult<Option<i64>> {
        self.scheduled().sweep().await
    }

    pub fn next_due(&self) -> ApiResult<Option<i64>> {
        self.scheduled().next_due()
    }
}

impl Tenant {
    /// Store a provider's outbound calls for one assessment (in the caller's synchronous
    /// block, so they commit with what caused them), in order. Returns the ones stored with
    /// attempt 1 claimed (none while an earlier call of the assessment is pending: those are
    /// held, README "Order per assessment").
    pub(in crate::tenant) fn store_calls(
        &self,
        provider: Provider,
        assessment_id: &str,
        outbound: Vec<OutboundCall>,
        t: i64,
    ) -> ApiResult<Vec<CallRow>> {
        if outbound.is_empty() {
            return Ok(Vec::new());
        }
        let calls = self.provider_calls()?;
        let mut claimed = Vec::new();
        for c in outbound {
            let new = NewCall {
                assessment_id: assessment_id.to_string(),
                provider,
                label: c.label,
                method: c.method,
                url: c.url,
                body: c.body,
            };
            claimed.extend(calls.insert(new, t)?);
        }
        Ok(claimed)
    }

    /// Make attempt 1 of stored calls right after the answer (in `wait_until`, one after the
    /// other, from memory), with `creds`; the delivery engine retries what fails.
    pub(in crate::tenant) fn send_after_answer(
        &self,
        stored: Vec<CallRow>,
        creds: Credentials,
    ) -> ApiResult<()> {
        if stored.is_empty() {
            return Ok(());
        }
        let calls = self.provider_calls()?;
        self.state.wait_until(async move {
            let auth = move |p: Provider| creds.authorization(p);
            let channel = CallChannel {
                calls: &calls,
                creds: &auth,
            };
            for call in &stored {
                if let Err(e) = engine::send_claimed(&channel, &call.id, call, 1).await {
                    worker::console_error!("calls: attempt for {} not made: {e}", call.id);
                }
            }
        });
        Ok(())
    }
}
