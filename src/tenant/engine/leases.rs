//! The one lease/enqueue/sweep of every delivery table — `events` (the tenant's webhook),
//! `deliveries` (extra endpoints) and `calls` (provider calls) have the same scheduling
//! columns (`id`, `state`, `attempt_count`, `cycle_retries`, `next_attempt_at`,
//! `lease_until`, `last_error`): claiming an attempt under a lease, writing a transition,
//! putting messages on `DELIVERIES`, routing an arriving message, and the alarm sweep that
//! re-enqueues overdue rows.

use serde::Deserialize;
use serde_json::json;
use worker::{Env, MessageBuilder, SqlStorage, SqlStorageValue as V};

use crate::delivery::attempt::TIMEOUT_MS;
use crate::delivery::state::{State, Write};
use crate::delivery::{self, MsgKind, QueueMsg};
use crate::error::{ApiResult, Context};
use crate::tenant::now;

/// A lease longer than one attempt can take, so two copies of a message never send at once.
pub const LEASE_MS: i64 = TIMEOUT_MS as i64 + 5_000;
/// At most this many overdue rows are re-enqueued per sweep; the alarm re-arms for the rest.
const SWEEP_BATCH: i64 = 200;

/// One scheduled table of one tenant.
pub struct Scheduled<'a> {
    pub sql: &'a SqlStorage,
    pub env: &'a Env,
    pub tenant: &'a str,
    /// `events`, `deliveries` or `calls` (a fixed name, never user input).
    pub table: &'static str,
    /// Which column keeps when a delivery ended.
    pub ended: Ended,
    pub kind: MsgKind,
    /// A further SQL condition (fixed text, never user input) on the rows the sweep and
    /// `next_due` look at, e.g. only deliveries to enabled endpoints; empty for all.
    pub only: &'static str,
    pub schedule: &'a [u32],
}

/// The column a table keeps a delivery's end in (stored schema, kept as it was).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ended {
    /// `delivered_at`: set when delivered only (`events`, `deliveries`).
    DeliveredAt,
    /// `done_at`: set when delivered or failed (`calls`).
    DoneAt,
}

/// What to do with a message that arrived from the queue.
pub enum Route {
    /// Stale or duplicate copy: drop it.
    Drop,
    /// Not yet due (delays longer than the queue allows are split): sent back.
    Requeued,
    /// Due: make attempt `n`.
    Attempt(i64),
}

impl Scheduled<'_> {
    fn msg(&self, id: &str, n: i64) -> QueueMsg {
        QueueMsg {
            tenant: self.tenant.to_string(),
            id: id.to_string(),
            attempt: n,
            kind: self.kind,
        }
    }

    /// Claim attempt `attempt_count + 1` of a pending, unleased row (before the first await).
    pub fn claim(&self, id: &str, attempt_count: i64, t: i64) -> ApiResult<i64> {
        let n = attempt_count + 1;
        self.sql
            .exec(
                &format!(
                    "UPDATE {} SET attempt_count = ?, lease_until = ? WHERE id = ?",
                    self.table
                ),
                vec![V::Integer(n), V::Integer(t + LEASE_MS), id.into()],
            )
            .context("lease")?;
        Ok(n)
    }

    /// Write a transition (`delivery::state::write`) on a pending row, releasing its lease.
    /// Synchronous: it commits with whatever else the attempt records.
    pub fn write(&self, id: &str, w: &Write) -> ApiResult<()> {
        let (ended_col, ended) = match self.ended {
            Ended::DeliveredAt => ("delivered_at = coalesce(?, delivered_at)", w.delivered_at),
            Ended::DoneAt => ("done_at = ?", w.ended_at),
        };
        self.sql
            .exec(
                &format!("UPDATE {} SET state = ?, next_attempt_at = ?, cycle_retries = cycle_retries + ?, lease_until = 0, last_error = ?, {ended_col} WHERE id = ? AND state = 'pending'", self.table),
                vec![
                    w.state.as_str().into(),
                    w.next_attempt_at.map(V::Integer).unwrap_or(V::Null),
                    V::Integer(w.retried as i64),
                    w.last_error.clone().into(),
                    ended.map(V::Integer).unwrap_or(V::Null),
                    id.into(),
                ],
            )
            .context("record transition")?;
        Ok(())
    }

    /// Hold a pending row behind an earlier one of its record: no due time (neither the
    /// sweep nor a flush picks it up) until that one's end releases it; `note` says why.
    pub fn hold(&self, id: &str, note: &str) -> ApiResult<()> {
        self.sql
            .exec(
                &format!(
                    "UPDATE {} SET next_attempt_at = NULL, last_error = ? WHERE id = ?",
                    self.table
                ),
                vec![note.into(), id.into()],
            )
            .context("hold")?;
        Ok(())
    }

    /// Put a message for attempt `n` on `DELIVERIES`, due at `at`. A failure is logged, not
    /// fatal: the row is pending in storage and the alarm sweep will enqueue it again.
    pub async fn enqueue(&self, id: &str, n: i64, at: i64, now_ms: i64) {
        let delay = delivery::queue_delay_secs(at, now_ms);
        let sent = match self.env.queue("DELIVERIES") {
            Ok(q) => {
                q.send(
                    MessageBuilder::new(self.msg(id, n))
                        .delay_seconds(delay)
                        .build(),
                )
                .await
            }
            Err(e) => Err(e),
        };
        if let Err(e) = sent {
            worker::console_error!(
                "{}: enqueue {id} failed (the sweep will retry): {e}",
                self.table
            );
        }
    }

    /// Enqueue many rows for immediate attempts, in batches of 100 (the queue's limit).
    pub async fn enqueue_now(&self, rows: &[(String, i64)]) {
        if rows.is_empty() {
            return;
        }
        let msgs: Vec<QueueMsg> = rows.iter().map(|(id, n)| self.msg(id, *n)).collect();
        match self.env.queue("DELIVERIES") {
            Ok(q) => {
                for chunk in msgs.chunks(100) {
                    if let Err(e) = q.send_batch(chunk.to_vec()).await {
                        worker::console_error!("{}: batch enqueue failed: {e}", self.table);
                    }
                }
            }
            Err(e) => worker::console_error!("{}: no DELIVERIES queue: {e}", self.table),
        }
    }

    /// Decide what an arriving message does, given its row's state.
    pub async fn route(
        &self,
        msg: &QueueMsg,
        state: State,
        attempt_count: i64,
        next_attempt_at: Option<i64>,
    ) -> Route {
        if state != State::Pending || msg.attempt != attempt_count + 1 {
            return Route::Drop;
        }
        let t = now();
        match next_attempt_at {
            Some(at) if at > t + 1_000 => {
                self.enqueue(&msg.id, msg.attempt, at, t).await;
                Route::Requeued
            }
            _ => Route::Attempt(msg.attempt),
        }
    }

    /// Alarm sweep: re-enqueue pending rows overdue by more than the grace period, bumping
    /// their due time so the next sweep gives each message a grace period to arrive.
    /// Returns when the alarm should look next (None: nothing pending).
    pub async fn sweep(&self) -> ApiResult<Option<i64>> {
        let t = now();
        let grace = delivery::sweep_grace_ms(self.schedule);
        #[derive(Deserialize)]
        struct Due {
            id: String,
            attempt_count: i64,
        }
        let due: Vec<Due> = self
            .sql
            .exec(
                &format!("SELECT id, attempt_count FROM {} WHERE state = 'pending' AND next_attempt_at <= ? AND lease_until <= ? {} ORDER BY next_attempt_at LIMIT ?", self.table, self.only),
                vec![V::Integer(t - grace), V::Integer(t), V::Integer(SWEEP_BATCH)],
            )
            .and_then(|c| c.to_array())
            .context("sweep")?;
        for d in &due {
            let _ = self.sql.exec(
                &format!("UPDATE {} SET next_attempt_at = ? WHERE id = ?", self.table),
                vec![V::Integer(t), d.id.clone().into()],
            );
        }
        if !due.is_empty() {
            worker::console_log!(
                "{}",
                json!({"msg": "sweep re-enqueued overdue rows", "table": self.table, "tenant": self.tenant, "count": due.len()})
            );
            let rows: Vec<(String, i64)> = due
                .iter()
                .map(|d| (d.id.clone(), d.attempt_count + 1))
                .collect();
            self.enqueue_now(&rows).await;
        }
        if due.len() as i64 >= SWEEP_BATCH {
            return Ok(Some(t + 1_000));
        }
        self.next_due()
    }

    /// When the alarm should next look: the earliest pending due time plus the grace.
    pub fn next_due(&self) -> ApiResult<Option<i64>> {
        #[derive(Deserialize)]
        struct M {
            m: Option<i64>,
        }
        let m: M = self
            .sql
            .exec(
                &format!("SELECT min(max(next_attempt_at, lease_until)) AS m FROM {} WHERE state = 'pending' {}", self.table, self.only),
                None,
            )
            .and_then(|c| c.one())
            .context("next due")?;
        Ok(m.m.map(|at| at + delivery::sweep_grace_ms(self.schedule)))
    }
}
