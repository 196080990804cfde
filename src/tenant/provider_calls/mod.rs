//! Outbound provider calls (each provider's `write_back` and `after_order`, see
//! `providers::Spec`): stored with the change that caused them, attempted right after the
//! answer, retried through `DELIVERIES` on 5xx/429/network errors, final on other refusals —
//! and their state is visible on the assessment (`providerSync`, README "Results back to the
//! ATS"). They are deliveries of the one engine (`tenant/engine/`); `channel.rs` is what
//! differs (the call, the provider's judgement of its answer, the assessment's sync state),
//! `sync.rs` the pure sync view.

use serde::Deserialize;
use worker::{Env, Method, SqlStorage, SqlStorageValue as V};

use super::engine::leases::{Ended, Scheduled, LEASE_MS};
use super::engine::{self};
use super::{assessments, now, privacy, Tenant};
use crate::admin::tenants::Credentials;
use crate::config::Config;
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

    /// Store a call (synchronously, in the caller's transaction) with attempt 1 claimed
    /// under a lease, like an emitted event: the attempt right after the answer needs no
    /// further write before its request, and if it is never made the sweep makes it once
    /// the lease has run out. Returns the row, kept for that attempt.
    pub fn insert(&self, c: NewCall, at: i64) -> ApiResult<CallRow> {
        let id = secrets::new_id("call_");
        self.sql
            .exec(
                "INSERT INTO calls (id, assessment_id, provider, label, method, url, body, state, attempt_count, next_attempt_at, lease_until, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, 'pending', 1, ?, ?, ?)",
                vec![
                    id.clone().into(),
                    c.assessment_id.clone().into(),
                    c.provider.as_str().into(),
                    c.label.into(),
                    c.method.to_string().into(),
                    c.url.clone().into(),
                    c.body.clone().into(),
                    V::Integer(at),
                    V::Integer(at + LEASE_MS),
                    V::Integer(at),
                ],
            )
            .context("insert")?;
        assessments::set_sync(
            &self.sql,
            &c.assessment_id,
            &sync::pending_view(c.label, at),
        )?;
        Ok(CallRow {
            id,
            assessment_id: c.assessment_id,
            provider: c.provider.as_str().to_string(),
            label: c.label.to_string(),
            method: c.method.to_string(),
            url: c.url,
            body: c.body,
            state: "pending".into(),
            attempt_count: 1,
            cycle_retries: 0,
            next_attempt_at: Some(at),
            lease_until: at + LEASE_MS,
        })
    }

    fn row(&self, id: &str) -> ApiResult<Option<CallRow>> {
        let rows: Vec<CallRow> = self
            .sql
            .exec(
                "SELECT id, assessment_id, provider, label, method, url, body, state, attempt_count, cycle_retries, next_attempt_at, lease_until FROM calls WHERE id = ?",
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
        let mut sync: serde_json::Value = assessments::get(&self.sql, &c.assessment_id)?
            .and_then(|a| a.sync)
            .and_then(|s| serde_json::from_str(&s).ok())
            .filter(serde_json::Value::is_object)
            .unwrap_or_else(|| serde_json::json!({"state": "pending", "call": c.label}));
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
    /// block, so they commit with what caused them), each with attempt 1 claimed; in order.
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
        outbound
            .into_iter()
            .map(|c| {
                calls.insert(
                    NewCall {
                        assessment_id: assessment_id.to_string(),
                        provider,
                        label: c.label,
                        method: c.method,
                        url: c.url,
                        body: c.body,
                    },
                    t,
                )
            })
            .collect()
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
