//! The outbox: events committed with the change that caused them, then delivered to the
//! partner's webhook — first attempt at once, retries through `DELIVERIES`, and an alarm
//! sweep that re-enqueues anything overdue so a lost message or a crash only delays delivery.

use serde::Deserialize;
use serde_json::{json, Value};
use worker::{Env, MessageBuilder, Method, SqlStorage, SqlStorageValue as V};

use super::store;
use crate::admin::query;
use crate::admin::tenants::TenantSecrets;
use crate::config::Config;
use crate::delivery::attempt::{self, AttemptResult, Next};
use crate::delivery::{self, MsgKind, QueueMsg};
use crate::error::{ApiError, ApiResult};
use crate::model::{envelope, rfc3339, EventType};
use crate::secrets;

pub const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS events (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  id TEXT NOT NULL UNIQUE,
  type TEXT NOT NULL,
  record_id TEXT,
  body TEXT NOT NULL,
  state TEXT NOT NULL,
  attempt_count INTEGER NOT NULL DEFAULT 0,
  cycle_retries INTEGER NOT NULL DEFAULT 0,
  next_attempt_at INTEGER,
  lease_until INTEGER NOT NULL DEFAULT 0,
  created_at INTEGER NOT NULL,
  delivered_at INTEGER,
  last_error TEXT
);
CREATE INDEX IF NOT EXISTS events_due ON events(state, next_attempt_at);
CREATE INDEX IF NOT EXISTS events_record ON events(record_id);
CREATE TABLE IF NOT EXISTS attempts (
  event_id TEXT NOT NULL,
  n INTEGER NOT NULL,
  at INTEGER NOT NULL,
  status INTEGER,
  latency_ms INTEGER NOT NULL,
  error TEXT,
  response TEXT,
  PRIMARY KEY (event_id, n)
);
";

/// A lease longer than one attempt can take, so two copies of a message never send at once.
const LEASE_MS: i64 = attempt::TIMEOUT_MS as i64 + 5_000;
/// At most this many overdue events are re-enqueued per sweep; the alarm re-arms for the rest.
const SWEEP_BATCH: i64 = 200;

#[derive(Debug, Clone, Deserialize)]
struct EventRow {
    seq: i64,
    id: String,
    #[serde(rename = "type")]
    kind: String,
    record_id: Option<String>,
    state: String,
    attempt_count: i64,
    cycle_retries: i64,
    next_attempt_at: Option<i64>,
    lease_until: i64,
    created_at: i64,
    delivered_at: Option<i64>,
    last_error: Option<String>,
}

const EVENT_COLS: &str = "seq, id, type, record_id, state, attempt_count, cycle_retries, next_attempt_at, lease_until, created_at, delivered_at, last_error";

fn now() -> i64 {
    worker::Date::now().as_millis() as i64
}

fn internal<E: std::fmt::Display>(what: &'static str) -> impl Fn(E) -> ApiError {
    move |e| {
        worker::console_error!("outbox: {what}: {e}");
        ApiError::internal()
    }
}

pub fn unit_random() -> f64 {
    let b = secrets::random_bytes::<4>();
    u32::from_le_bytes(b) as f64 / (u32::MAX as f64 + 1.0)
}

/// Everything one delivery needs, owned, so it can run after the response in `wait_until`.
pub struct Outbox {
    pub sql: SqlStorage,
    pub config_cache: store::ConfigCache,
    pub env: Env,
    pub cfg: Config,
    pub tenant: String,
}

impl Outbox {
    /// Commit an event (synchronously: same implicit transaction as the caller's writes).
    pub fn emit(
        &self,
        ty: EventType,
        record_id: Option<&str>,
        data: Value,
        at: i64,
    ) -> ApiResult<String> {
        let id = secrets::new_id("evt_");
        let body = envelope(ty, &id, record_id, data, at);
        self.sql
            .exec(
                "INSERT INTO events (id, type, record_id, body, state, next_attempt_at, created_at) VALUES (?, ?, ?, ?, 'pending', ?, ?)",
                vec![
                    id.clone().into(),
                    ty.as_str().into(),
                    record_id.map(str::to_string).into(),
                    body.into(),
                    V::Integer(at),
                    V::Integer(at),
                ],
            )
            .map_err(internal("insert event"))?;
        Ok(id)
    }

    fn row(&self, id: &str) -> ApiResult<Option<EventRow>> {
        let rows: Vec<EventRow> = self
            .sql
            .exec(
                &format!("SELECT {EVENT_COLS} FROM events WHERE id = ?"),
                vec![id.into()],
            )
            .and_then(|c| c.to_array())
            .map_err(internal("read event"))?;
        Ok(rows.into_iter().next())
    }

    fn body(&self, id: &str) -> ApiResult<String> {
        #[derive(Deserialize)]
        struct B {
            body: String,
        }
        self.sql
            .exec("SELECT body FROM events WHERE id = ?", vec![id.into()])
            .and_then(|c| c.one::<B>())
            .map(|b| b.body)
            .map_err(internal("read body"))
    }

    /// Make one attempt for `id` if it is still due. `expected_n` (from a queue message) must
    /// match the next attempt number, so duplicate or stale messages are dropped.
    pub async fn attempt(&self, id: &str, expected_n: Option<i64>, secrets: &TenantSecrets) {
        if let Err(e) = self.try_attempt(id, expected_n, secrets).await {
            worker::console_error!("outbox: attempt for {id} not made: {e}");
        }
    }

    async fn try_attempt(
        &self,
        id: &str,
        expected_n: Option<i64>,
        secrets: &TenantSecrets,
    ) -> ApiResult<()> {
        let t0 = now();
        let Some(ev) = self.row(id)? else {
            return Ok(());
        };
        if ev.state != "pending" || ev.lease_until > t0 {
            return Ok(());
        }
        if expected_n.is_some_and(|n| n != ev.attempt_count + 1) {
            return Ok(());
        }
        let cfg = store::read_config(&self.sql, &self.config_cache)?;
        if cfg.webhook_disabled {
            return Ok(()); // stays pending until PATCH webhook.url re-enables the endpoint
        }
        let n = ev.attempt_count + 1;
        // Claim the attempt (lease) before the first await.
        self.sql
            .exec(
                "UPDATE events SET attempt_count = ?, lease_until = ? WHERE id = ?",
                vec![V::Integer(n), V::Integer(t0 + LEASE_MS), id.into()],
            )
            .map_err(internal("lease"))?;
        let body = self.body(id)?;
        let headers = attempt::signed_headers(secrets, id, &body, t0);
        let result = attempt::send(Method::Post, &cfg.webhook_url, headers, Some(body)).await;
        self.record(&ev, n, t0, &result).await
    }

    /// Store the attempt and move the event to its next state.
    async fn record(&self, ev: &EventRow, n: i64, at: i64, r: &AttemptResult) -> ApiResult<()> {
        let t1 = now();
        self.sql
            .exec(
                "INSERT OR REPLACE INTO attempts (event_id, n, at, status, latency_ms, error, response) VALUES (?, ?, ?, ?, ?, ?, ?)",
                vec![
                    ev.id.clone().into(),
                    V::Integer(n),
                    V::Integer(at),
                    r.status.map(|s| V::Integer(s as i64)).unwrap_or(V::Null),
                    V::Integer(r.latency_ms),
                    r.error.clone().into(),
                    r.response.clone().into(),
                ],
            )
            .map_err(internal("record attempt"))?;
        let error = r.error.clone().or_else(|| {
            r.status
                .filter(|s| !(200..300).contains(s))
                .map(|s| format!("HTTP {s}"))
        });
        let next = attempt::classify(
            r,
            &self.cfg.retry_schedule,
            ev.cycle_retries as usize,
            t1,
            unit_random(),
        );
        // One structured line per attempt; no URL, body or error text (they can carry tokens).
        worker::console_log!(
            "{}",
            json!({
                "msg": "delivery attempt",
                "tenant": self.tenant,
                "eventId": ev.id,
                "eventType": ev.kind,
                "attempt": n,
                "status": r.status,
                "latencyMs": r.latency_ms,
                "outcome": match next {
                    Next::Delivered => "delivered",
                    Next::Failed => "failed",
                    Next::Disable => "disabled",
                    Next::RetryAt(_) => "retry",
                },
            })
        );
        match next {
            Next::Delivered => {
                self.sql
                    .exec(
                        "UPDATE events SET state = 'delivered', delivered_at = ?, next_attempt_at = NULL, lease_until = 0, last_error = NULL WHERE id = ?",
                        vec![V::Integer(t1), ev.id.clone().into()],
                    )
                    .map_err(internal("mark delivered"))?;
            }
            Next::Failed => {
                self.sql
                    .exec(
                        "UPDATE events SET state = 'failed', next_attempt_at = NULL, lease_until = 0, last_error = ? WHERE id = ?",
                        vec![error.into(), ev.id.clone().into()],
                    )
                    .map_err(internal("mark failed"))?;
            }
            Next::Disable => {
                let mut cfg = store::read_config(&self.sql, &self.config_cache)?;
                cfg.webhook_disabled = true;
                cfg.updated_at = t1;
                store::write_config(&self.sql, &self.config_cache, &cfg)?;
                self.sql
                    .exec(
                        "UPDATE events SET next_attempt_at = ?, lease_until = 0, last_error = ? WHERE id = ?",
                        vec![
                            V::Integer(t1),
                            "HTTP 410: endpoint disabled until webhook.url is updated".into(),
                            ev.id.clone().into(),
                        ],
                    )
                    .map_err(internal("disable"))?;
                worker::console_warn!(
                    "{}",
                    json!({"msg": "webhook endpoint answered 410; disabled", "tenant": self.tenant})
                );
            }
            Next::RetryAt(when) => {
                self.sql
                    .exec(
                        "UPDATE events SET next_attempt_at = ?, cycle_retries = cycle_retries + 1, lease_until = 0, last_error = ? WHERE id = ?",
                        vec![V::Integer(when), error.into(), ev.id.clone().into()],
                    )
                    .map_err(internal("schedule retry"))?;
                self.enqueue(&ev.id, n + 1, when, t1).await;
            }
        }
        Ok(())
    }

    /// Put a delivery message on `DELIVERIES`. A failure here is logged, not fatal: the event
    /// is pending in storage and the alarm sweep will enqueue it again.
    pub async fn enqueue(&self, id: &str, n: i64, at: i64, now_ms: i64) {
        let msg = QueueMsg {
            t: self.tenant.clone(),
            e: id.to_string(),
            n,
            k: MsgKind::Webhook,
        };
        let delay = delivery::queue_delay_secs(at, now_ms);
        let sent = match self.env.queue("DELIVERIES") {
            Ok(q) => {
                q.send(MessageBuilder::new(msg).delay_seconds(delay).build())
                    .await
            }
            Err(e) => Err(e),
        };
        if let Err(e) = sent {
            worker::console_error!("outbox: enqueue {id} failed (the sweep will retry): {e}");
        }
    }

    /// A queue message arrived. Too early (long delays are split at the queue's 12 h cap)?
    /// Re-enqueue the remainder; otherwise attempt.
    pub async fn on_message(&self, msg: &QueueMsg, secrets: &TenantSecrets) -> ApiResult<()> {
        let t = now();
        let Some(ev) = self.row(&msg.e)? else {
            return Ok(());
        };
        if ev.state != "pending" || msg.n != ev.attempt_count + 1 {
            return Ok(()); // stale copy
        }
        match ev.next_attempt_at {
            Some(at) if at > t + 1_000 => {
                self.enqueue(&ev.id, msg.n, at, t).await;
                Ok(())
            }
            _ => {
                self.attempt(&ev.id, Some(msg.n), secrets).await;
                Ok(())
            }
        }
    }

    /// The dead-letter queue gave up on a message: note it on the event. The event stays
    /// pending, so the sweep keeps it moving; nothing is dropped silently.
    pub fn on_dead_letter(&self, msg: &QueueMsg) -> ApiResult<()> {
        self.sql
            .exec(
                "UPDATE events SET last_error = ? WHERE id = ?",
                vec![
                    format!("queue message for attempt {} was dead-lettered; the sweep will re-enqueue it", msg.n).into(),
                    msg.e.clone().into(),
                ],
            )
            .map_err(internal("dead letter"))?;
        Ok(())
    }

    /// Alarm sweep: re-enqueue pending events overdue by more than the grace period.
    /// Returns when the alarm should fire next (None: nothing pending that can be sent).
    pub async fn sweep(&self) -> ApiResult<Option<i64>> {
        let t = now();
        let cfg = store::read_config(&self.sql, &self.config_cache)?;
        if cfg.webhook_disabled {
            return Ok(None);
        }
        let grace = delivery::sweep_grace_ms(&self.cfg.retry_schedule);
        #[derive(Deserialize)]
        struct Due {
            id: String,
            attempt_count: i64,
        }
        let due: Vec<Due> = self
            .sql
            .exec(
                "SELECT id, attempt_count FROM events WHERE state = 'pending' AND next_attempt_at <= ? AND lease_until <= ? ORDER BY next_attempt_at LIMIT ?",
                vec![V::Integer(t - grace), V::Integer(t), V::Integer(SWEEP_BATCH)],
            )
            .and_then(|c| c.to_array())
            .map_err(internal("sweep"))?;
        for d in &due {
            // Bump the due time so the next sweep waits a grace period for this message.
            let _ = self.sql.exec(
                "UPDATE events SET next_attempt_at = ? WHERE id = ?",
                vec![V::Integer(t), d.id.clone().into()],
            );
        }
        let batch: Vec<_> = due
            .iter()
            .map(|d| QueueMsg {
                t: self.tenant.clone(),
                e: d.id.clone(),
                n: d.attempt_count + 1,
                k: MsgKind::Webhook,
            })
            .collect();
        if !batch.is_empty() {
            worker::console_log!(
                "{}",
                json!({"msg": "sweep re-enqueued overdue events", "tenant": self.tenant, "count": batch.len()})
            );
            if let Ok(q) = self.env.queue("DELIVERIES") {
                for chunk in batch.chunks(100) {
                    if let Err(e) = q.send_batch(chunk.to_vec()).await {
                        worker::console_error!("outbox: sweep enqueue failed: {e}");
                    }
                }
            }
        }
        if due.len() as i64 >= SWEEP_BATCH {
            return Ok(Some(t + 1_000));
        }
        self.next_due(grace)
    }

    /// When the alarm should next look: the earliest pending due time plus the grace.
    pub fn next_due(&self, grace: i64) -> ApiResult<Option<i64>> {
        #[derive(Deserialize)]
        struct M {
            m: Option<i64>,
        }
        let m: M = self
            .sql
            .exec(
                "SELECT min(max(next_attempt_at, lease_until)) AS m FROM events WHERE state = 'pending'",
                None,
            )
            .and_then(|c| c.one())
            .map_err(internal("next due"))?;
        Ok(m.m.map(|at| at + grace))
    }

    /// Pending events to send now (after a re-enable): re-enqueued without delay.
    pub async fn flush(&self) -> ApiResult<usize> {
        let t = now();
        #[derive(Deserialize)]
        struct P {
            id: String,
            attempt_count: i64,
        }
        let pending: Vec<P> = self
            .sql
            .exec(
                "SELECT id, attempt_count FROM events WHERE state = 'pending' AND lease_until <= ? ORDER BY seq",
                vec![V::Integer(t)],
            )
            .and_then(|c| c.to_array())
            .map_err(internal("flush"))?;
        let _ = self.sql.exec(
            "UPDATE events SET next_attempt_at = ? WHERE state = 'pending'",
            vec![V::Integer(t)],
        );
        let msgs: Vec<QueueMsg> = pending
            .iter()
            .map(|p| QueueMsg {
                t: self.tenant.clone(),
                e: p.id.clone(),
                n: p.attempt_count + 1,
                k: MsgKind::Webhook,
            })
            .collect();
        if let Ok(q) = self.env.queue("DELIVERIES") {
            for chunk in msgs.chunks(100) {
                if let Err(e) = q.send_batch(chunk.to_vec()).await {
                    worker::console_error!("outbox: flush enqueue failed: {e}");
                }
            }
        }
        Ok(msgs.len())
    }

    /// Make a delivered or failed event pending again (same `webhook-id`), with a fresh
    /// retry cycle.
    pub fn replay(&self, id: &str) -> ApiResult<()> {
        let Some(_) = self.row(id)? else {
            return Err(ApiError::not_found("event"));
        };
        self.sql
            .exec(
                "UPDATE events SET state = 'pending', cycle_retries = 0, next_attempt_at = ?, delivered_at = NULL, lease_until = 0 WHERE id = ?",
                vec![V::Integer(now()), id.into()],
            )
            .map_err(internal("replay"))?;
        Ok(())
    }

    fn item(ev: &EventRow) -> Value {
        json!({
            "eventId": ev.id,
            "eventType": ev.kind,
            "recordId": ev.record_id,
            "state": ev.state,
            "attemptCount": ev.attempt_count,
            "nextAttemptAt": if ev.state == "pending" { ev.next_attempt_at.map(rfc3339) } else { None },
            "createdAt": rfc3339(ev.created_at),
            "deliveredAt": ev.delivered_at.map(rfc3339),
            "lastError": ev.last_error,
        })
    }

    /// `GET /events`: newest first, filter by state, cursor paging.
    pub fn list(&self, query_string: Option<&str>) -> ApiResult<Value> {
        let q = query::pairs(query_string);
        let limit = query::limit(&q)?;
        let cursor = query::cursor(&q)?.unwrap_or(i64::MAX);
        let state = match query::get(&q, "state") {
            None | Some("") => None,
            Some(s @ ("pending" | "delivered" | "failed")) => Some(s.to_string()),
            Some(_) => {
                return Err(ApiError::invalid_field(
                    "state",
                    "must be pending, delivered or failed",
                ))
            }
        };
        let rows: Vec<EventRow> = self
            .sql
            .exec(
                &format!("SELECT {EVENT_COLS} FROM events WHERE seq < ? AND (? IS NULL OR state = ?) ORDER BY seq DESC LIMIT ?"),
                vec![V::Integer(cursor), state.clone().into(), state.into(), V::Integer(limit + 1)],
            )
            .and_then(|c| c.to_array())
            .map_err(internal("list events"))?;
        let more = rows.len() as i64 > limit;
        let page = &rows[..rows.len().min(limit as usize)];
        Ok(json!({
            "data": page.iter().map(Self::item).collect::<Vec<_>>(),
            "next_cursor": if more { page.last().map(|r| query::render_cursor(r.seq)) } else { None },
        }))
    }

    /// `GET /events/{id}`: the item, the exact body sent and every attempt.
    pub fn get(&self, id: &str) -> ApiResult<Value> {
        let ev = self.row(id)?.ok_or_else(|| ApiError::not_found("event"))?;
        #[derive(Deserialize)]
        struct A {
            at: i64,
            status: Option<i64>,
            latency_ms: i64,
            error: Option<String>,
            response: Option<String>,
        }
        let attempts: Vec<A> = self
            .sql
            .exec(
                "SELECT at, status, latency_ms, error, response FROM attempts WHERE event_id = ? ORDER BY n",
                vec![id.into()],
            )
            .and_then(|c| c.to_array())
            .map_err(internal("list attempts"))?;
        let mut v = Self::item(&ev);
        v["body"] = json!(self.body(id)?);
        v["attempts"] = json!(attempts
            .iter()
            .map(|a| json!({"at": rfc3339(a.at), "status": a.status, "latencyMs": a.latency_ms, "error": a.error, "response": a.response}))
            .collect::<Vec<_>>());
        Ok(v)
    }
}
