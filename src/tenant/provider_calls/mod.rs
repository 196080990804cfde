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
//!
//! Replay (README "Replaying a write-back"): an assessment's latest call, ended, made pending
//! again with a fresh retry cycle and attempted through the engine (`replay.rs`: the rules).

use serde::Deserialize;
use serde_json::json;
use worker::{Env, Method, Response, SqlStorage, SqlStorageValue as V};

use super::engine::leases::{Ended, Scheduled, LEASE_MS};
use super::engine::{self, Enqueue};
use super::{assessments, now, privacy, Tenant};
use crate::admin::tenants::Credentials;
use crate::config::Config;
use crate::delivery::state::{self, Start, State};
use crate::delivery::{MsgKind, QueueMsg};
use crate::error::{ApiError, ApiResult, Context};
use crate::http;
use crate::model::{Provider, Status};
use crate::providers::OutboundCall;
use crate::secrets;

mod channel;
mod replay;
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

/// An assessment's latest call with what replay decides on (`replay::may_replay`): the call's
/// columns, and its assessment's status, stored result status and `final_at`.
#[derive(Debug, Clone, Deserialize)]
struct Latest {
    seq: i64,
    id: String,
    assessment_id: String,
    label: String,
    state: String,
    last_error: Option<String>,
    attempt_count: i64,
    created_at: i64,
    status: String,
    result_status: Option<String>,
    final_at: Option<i64>,
}

/// The columns of a [`Latest`], from `calls c JOIN assessments a`.
const LATEST_COLS: &str = "c.seq, c.id, c.assessment_id, c.label, c.state, c.last_error, c.attempt_count, c.created_at, a.status, json_extract(a.result, '$.status') AS result_status, a.final_at";

/// The condition that `c` is the latest call of its assessment.
const IS_LATEST: &str =
    "c.seq = (SELECT max(l.seq) FROM calls l WHERE l.assessment_id = c.assessment_id)";

/// At most this many calls are replayed by one `POST …/provider-sync/replay`.
const REPLAY_BATCH: usize = 1_000;

impl Latest {
    /// Whether it may be replayed (`replay::may_replay`).
    fn may_replay(&self) -> ApiResult<()> {
        let status = Status::parse(&self.status).unwrap_or(Status::NotSpecified);
        let result_status = self.result_status.as_deref().and_then(Status::parse);
        replay::may_replay(
            &replay::LatestCall {
                id: &self.id,
                state: State::parse(&self.state),
                last_error: self.last_error.as_deref(),
                created_at: self.created_at,
            },
            &replay::Assessment {
                ats_cancelled_at: replay::ats_cancelled_at(status, result_status, self.final_at),
            },
        )
    }
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

    /// Replay the latest call of assessment `assessment_id` (README "Replaying a write-back"):
    /// if `replay::may_replay` lets it, make it pending again, due at `t` (ms), and show it so
    /// on `providerSync`. Synchronous: the decision and the write commit together. Returns the
    /// call's id, for the attempt the caller makes at once. 404 `not_found` for an unknown
    /// assessment; the 409s of `replay::may_replay`.
    pub fn replay(&self, assessment_id: &str, t: i64) -> ApiResult<String> {
        if assessments::get(&self.sql, assessment_id)?.is_none() {
            return Err(ApiError::not_found("assessment"));
        }
        let rows: Vec<Latest> = self
            .sql
            .exec(
                &format!("SELECT {LATEST_COLS} FROM calls c JOIN assessments a ON a.id = c.assessment_id WHERE c.assessment_id = ? ORDER BY c.seq DESC LIMIT 1"),
                vec![assessment_id.into()],
            )
            .and_then(|c| c.to_array())
            .context("latest call")?;
        let Some(latest) = rows.into_iter().next() else {
            return Err(replay::nothing_to_replay());
        };
        latest.may_replay()?;
        self.make_pending(&latest, t)?;
        Ok(latest.id)
    }

    /// `POST …/provider-sync/replay` (README "Replaying a write-back"): every assessment whose
    /// latest call failed for good and may be replayed (`replay::may_replay`: not stopped or
    /// overtaken by the ATS's cancellation), oldest call first, at most 1,000 per
    /// call, made pending again (due at `t`, ms) and put on the queue at once. Returns
    /// `(assessment id, call id)` of each.
    pub async fn replay_failed(&self, t: i64) -> ApiResult<Vec<(String, String)>> {
        let mut chosen: Vec<Latest> = Vec::new();
        let mut after = 0_i64;
        // Calls the ATS's cancellation stopped are left out in the query; the rule decides
        // on the rest.
        let query = format!(
            "SELECT {LATEST_COLS} FROM calls c JOIN assessments a ON a.id = c.assessment_id WHERE c.state = 'failed' AND c.seq > ? AND {IS_LATEST} AND (c.last_error IS NULL OR substr(c.last_error, 1, ?) != ?) ORDER BY c.seq LIMIT ?"
        );
        while chosen.len() < REPLAY_BATCH {
            let page: Vec<Latest> = self
                .sql
                .exec(
                    &query,
                    vec![
                        V::Integer(after),
                        V::Integer(sync::CANCELLED_BY_ATS.len() as i64),
                        sync::CANCELLED_BY_ATS.into(),
                        V::Integer(REPLAY_BATCH as i64),
                    ],
                )
                .and_then(|c| c.to_array())
                .context("failed latest calls")?;
            let Some(last) = page.last() else { break };
            after = last.seq;
            let full = page.len() == REPLAY_BATCH;
            chosen.extend(page.into_iter().filter(|c| c.may_replay().is_ok()));
            if !full {
                break;
            }
        }
        chosen.truncate(REPLAY_BATCH);
        for c in &chosen {
            self.make_pending(c, t)?;
        }
        let due: Vec<(String, i64)> = chosen
            .iter()
            .map(|c| (c.id.clone(), c.attempt_count + 1))
            .collect();
        self.scheduled().enqueue_now(&due).await;
        Ok(chosen
            .into_iter()
            .map(|c| (c.assessment_id, c.id))
            .collect())
    }

    /// Make an ended call pending again with a fresh retry cycle, due at `t` (ms): no lease,
    /// no error, no end time, its attempts kept (the next attempt's number follows them); its
    /// assessment's `providerSync` shows it pending (`replay::replayed_view`).
    fn make_pending(&self, c: &Latest, t: i64) -> ApiResult<()> {
        self.sql
            .exec(
                "UPDATE calls SET state = 'pending', cycle_retries = 0, next_attempt_at = ?, lease_until = 0, last_error = NULL, done_at = NULL WHERE id = ? AND state != 'pending'",
                vec![V::Integer(t), c.id.clone().into()],
            )
            .context("replay")?;
        let shown = self.shown(&c.assessment_id)?;
        let view = replay::replayed_view(&shown, &c.id, &c.label, c.attempt_count, t);
        assessments::set_sync(&self.sql, &c.assessment_id, &view)
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

    /// `POST /v1/tenants/{t}/assessments/{id}/provider-sync/replay` (README "Replaying a
    /// write-back"): make the assessment's latest call pending again
    /// ([`ProviderCalls::replay`]) and attempt it at once through the engine's attempt path
    /// (`engine::attempt`), with the tenant's credentials as they are now. Answers 200
    /// `{"assessmentId", "callId", "providerSync"}`, the sync state as `GET …/assessments/{id}`
    /// shows it after the attempt (`retrying` if the ATS failed again: the engine goes on
    /// with a fresh retry schedule). Refusals: 404 `not_found`, 409 `nothing_to_replay`,
    /// `provider_sync_pending`, `provider_sync_cancelled`. An erased assessment's call may be
    /// replayed: write-backs carry no candidate fields (README "Personal data").
    pub(in crate::tenant) async fn replay_provider_sync(
        &self,
        assessment_id: &str,
    ) -> ApiResult<Response> {
        let calls = self.provider_calls()?;
        // Every await comes first: from the decision to the write nothing awaits, so a
        // concurrent replay or result sees this one's call pending.
        let creds = self.credentials().await?;
        let call_id = calls.replay(assessment_id, now())?;
        // The safety-net alarm covers the call before its attempt, as after a result (`kick`):
        // if the object stops during the attempt, the sweep sends it once its lease runs out.
        if let Some(next) = calls.next_due()? {
            self.arm(next).await;
        }
        let auth = move |p: Provider| creds.authorization(p);
        let channel = CallChannel {
            calls: &calls,
            creds: &auth,
        };
        engine::attempt(&channel, &call_id, None).await;
        if let Some(next) = calls.next_due()? {
            self.arm(next).await;
        }
        let row =
            assessments::get(&calls.sql, assessment_id)?.context("the replayed assessment")?;
        Ok(http::json(
            200,
            &json!({
                "assessmentId": row.id,
                "callId": call_id,
                "providerSync": row.view()["providerSync"],
            }),
        ))
    }

    /// `POST /v1/tenants/{t}/provider-sync/replay` (README "Replaying a write-back"): every
    /// assessment whose latest call failed for good and may be replayed
    /// ([`ProviderCalls::replay_failed`]; at most 1,000 per call, oldest first) goes back to
    /// pending and onto the queue. Answers 202 `{"replayed": [{"assessmentId", "callId"}]}`.
    pub(in crate::tenant) async fn replay_failed_provider_syncs(&self) -> ApiResult<Response> {
        let calls = self.provider_calls()?;
        let replayed = calls.replay_failed(now()).await?;
        if !replayed.is_empty() {
            let grace = crate::delivery::sweep_grace_ms(&calls.cfg.retry_schedule);
            self.arm(now() + grace).await;
        }
        let list: Vec<_> = replayed
            .iter()
            .map(|(a, c)| json!({"assessmentId": a, "callId": c}))
            .collect();
        Ok(http::json(202, &json!({ "replayed": list })))
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
