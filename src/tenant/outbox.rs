//! The outbox: events committed with the change that caused them, then delivered to the
//! partner's webhook — first attempt at once, retries through `DELIVERIES`, and an alarm
//! sweep that re-enqueues anything overdue so a lost message or a crash only delays delivery.
//!
//! Order per record (SPEC §20, README "Order per record"): an event whose record has an earlier
//! pending event is held (`next_attempt_at` NULL, so neither the sweep nor a flush picks it up)
//! and released — made due at once — in the same write that marks the earlier one delivered or
//! failed. Events without a record (`ping`) never wait.

use serde::Deserialize;
use serde_json::{json, Value};
use worker::{Env, Method, SqlStorage, SqlStorageValue as V};

use super::privacy::{self, ATTEMPTS_KEPT, ERASED_BODY};
use super::schedule::{Route, Scheduled, LEASE_MS};
use super::{internal, now, store};
use crate::admin::query;
use crate::admin::tenants::TenantSecrets;
use crate::config::Config;
use crate::delivery::attempt::{self, AttemptResult, Next};
use crate::delivery::{MsgKind, QueueMsg};
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
  kind TEXT,
  PRIMARY KEY (event_id, n)
);
";

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

/// The kind of a failed attempt (None when delivered): `http_status` (an answer other than
/// 2xx), `timeout`, `network` or `invalid_request` — told apart by what happened, never by
/// the latency.
fn attempt_kind(r: &AttemptResult) -> Option<&'static str> {
    match (&r.failure, r.status) {
        (Some((kind, _)), _) => Some(kind.as_str()),
        (None, Some(s)) if (200..300).contains(&s) => None,
        (None, _) => Some("http_status"),
    }
}

/// What a held event shows as `lastError` while an earlier event of its record is pending.
fn waiting_note(earlier: &str) -> String {
    format!("waiting for {earlier}, an earlier event of the same record, to be delivered or fail")
}

pub fn unit_random() -> f64 {
    let b = secrets::random_bytes::<4>();
    u32::from_le_bytes(b) as f64 / (u32::MAX as f64 + 1.0)
}

/// An event as `emit` committed it, kept for its immediate first attempt.
pub struct Emitted {
    row: EventRow,
    body: String,
    /// The webhook URL at commit time.
    url: String,
    /// Attempt 1 was claimed in the insert (false while the endpoint is disabled by a 410).
    claimed: bool,
}

/// What an immediate attempt starts from.
pub enum Due {
    /// An event `emit` just committed (and claimed), carried in memory.
    Emitted(Box<Emitted>),
    /// A stored pending event, by id (replay).
    Stored(String),
}

impl Due {
    pub fn id(&self) -> &str {
        match self {
            Due::Emitted(e) => &e.row.id,
            Due::Stored(id) => id,
        }
    }
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
    fn scheduled(&self) -> Scheduled<'_> {
        Scheduled {
            sql: &self.sql,
            env: &self.env,
            tenant: &self.tenant,
            table: "events",
            kind: MsgKind::Webhook,
            schedule: &self.cfg.retry_schedule,
        }
    }

    /// Commit an event (synchronously: same implicit transaction as the caller's writes).
    /// Unless the endpoint is disabled, the insert also claims attempt 1 under a lease, so
    /// the immediate attempt (`first_attempt`) needs no further write before its request.
    pub fn emit(
        &self,
        ty: EventType,
        record_id: Option<&str>,
        data: Value,
        at: i64,
    ) -> ApiResult<Due> {
        let id = secrets::new_id("evt_");
        let body = envelope(ty, &id, record_id, data, at);
        let cfg = store::read_config(&self.sql, &self.config_cache)?;
        // Per-record order (SPEC §20): an event waits while an earlier one of its record is
        // pending. A record.new starts its record, so nothing can be ahead of it.
        let waits_for = match (ty, record_id) {
            (EventType::RecordNew, _) | (_, None) => None,
            (_, Some(r)) => self.pending_head(r)?,
        };
        let claimed = !cfg.webhook_disabled && waits_for.is_none();
        let (attempt_count, lease_until) = if claimed { (1, at + LEASE_MS) } else { (0, 0) };
        self.sql
            .exec(
                "INSERT INTO events (id, type, record_id, body, state, attempt_count, next_attempt_at, lease_until, created_at, last_error) VALUES (?, ?, ?, ?, 'pending', ?, ?, ?, ?, ?)",
                vec![
                    id.clone().into(),
                    ty.as_str().into(),
                    record_id.map(str::to_string).into(),
                    body.clone().into(),
                    V::Integer(attempt_count),
                    if waits_for.is_some() { V::Null } else { V::Integer(at) },
                    V::Integer(lease_until),
                    V::Integer(at),
                    waits_for.as_deref().map(waiting_note).into(),
                ],
            )
            .map_err(internal("insert event"))?;
        Ok(Due::Emitted(Box::new(Emitted {
            claimed,
            url: cfg.webhook_url,
            body,
            row: EventRow {
                seq: 0, // not needed by an attempt
                id,
                kind: ty.as_str().to_string(),
                record_id: record_id.map(str::to_string),
                state: "pending".into(),
                attempt_count,
                cycle_retries: 0,
                next_attempt_at: waits_for.is_none().then_some(at),
                lease_until,
                created_at: at,
                delivered_at: None,
                last_error: None,
            },
        })))
    }

    /// The immediate attempt: attempt 1 of an event `emit` just committed, from memory (no
    /// read-back), or the next attempt of a stored one (replay).
    pub async fn attempt_now(&self, due: Due, secrets: &TenantSecrets) {
        let e = match due {
            Due::Stored(id) => return self.attempt(&id, None, secrets).await,
            // Endpoint disabled (PATCH webhook.url flushes it) or waiting for an earlier event of
            // its record (released when that one is delivered or failed).
            Due::Emitted(e) if !e.claimed => return,
            Due::Emitted(e) => e,
        };
        if let Err(err) = self.send(&e.row, 1, e.body, &e.url, secrets).await {
            worker::console_error!("outbox: attempt for {} not made: {err}", e.row.id);
        }
    }

    /// The immediate attempt cannot be made (no secrets): give a claim made by `emit` back so
    /// the sweep makes attempt 1 once the event is overdue, and say so on the event.
    pub fn unclaim(&self, due: &Due) {
        if let Due::Emitted(e) = due {
            if !e.claimed {
                return;
            }
            let _ = self.sql.exec(
                "UPDATE events SET attempt_count = 0, lease_until = 0, last_error = ? WHERE id = ? AND attempt_count = 1",
                vec![
                    "the signing secret could not be read for the first attempt; the alarm sweep will make it".into(),
                    e.row.id.clone().into(),
                ],
            );
        }
    }

    /// The earliest pending event of a record (the one allowed to go), if any.
    fn pending_head(&self, record_id: &str) -> ApiResult<Option<String>> {
        #[derive(Deserialize)]
        struct Head {
            id: String,
        }
        let rows: Vec<Head> = self
            .sql
            .exec(
                "SELECT id FROM events WHERE record_id = ? AND state = 'pending' ORDER BY seq LIMIT 1",
                vec![record_id.into()],
            )
            .and_then(|c| c.to_array())
            .map_err(internal("record head"))?;
        Ok(rows.into_iter().next().map(|h| h.id))
    }

    /// An event of `record_id` just finished (delivered or failed for good): if the record's
    /// earliest pending event was waiting for it, make that one due now. Returns it with its
    /// next attempt number, for an immediate queue message. Synchronous, so it commits with
    /// the finished event's state.
    fn release_next(&self, record_id: &str, t: i64) -> ApiResult<Option<(String, i64)>> {
        #[derive(Deserialize)]
        struct Head {
            id: String,
            attempt_count: i64,
            next_attempt_at: Option<i64>,
        }
        let rows: Vec<Head> = self
            .sql
            .exec(
                "SELECT id, attempt_count, next_attempt_at FROM events WHERE record_id = ? AND state = 'pending' ORDER BY seq LIMIT 1",
                vec![record_id.into()],
            )
            .and_then(|c| c.to_array())
            .map_err(internal("record next"))?;
        let Some(head) = rows
            .into_iter()
            .next()
            .filter(|h| h.next_attempt_at.is_none())
        else {
            return Ok(None);
        };
        self.sql
            .exec(
                "UPDATE events SET next_attempt_at = ?, last_error = NULL WHERE id = ?",
                vec![V::Integer(t), head.id.clone().into()],
            )
            .map_err(internal("release"))?;
        Ok(Some((head.id, head.attempt_count + 1)))
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
        if privacy::is_erased_body(&self.body(id)?) {
            return Ok(()); // erased: never sent again (README "Personal data")
        }
        if expected_n.is_some_and(|n| n != ev.attempt_count + 1) {
            return Ok(());
        }
        if let Some(record_id) = &ev.record_id {
            if let Some(head) = self.pending_head(record_id)?.filter(|h| *h != ev.id) {
                // An earlier event of the record is pending (e.g. a replay): wait for it. Its
                // end releases this one (`release_next`).
                self.sql
                    .exec(
                        "UPDATE events SET next_attempt_at = NULL, last_error = ? WHERE id = ?",
                        vec![waiting_note(&head).into(), id.into()],
                    )
                    .map_err(internal("hold"))?;
                return Ok(());
            }
        }
        let cfg = store::read_config(&self.sql, &self.config_cache)?;
        if cfg.webhook_disabled {
            return Ok(()); // stays pending until PATCH webhook.url re-enables the endpoint
        }
        let n = self.scheduled().claim(id, ev.attempt_count, t0)?;
        let body = self.body(id)?;
        self.send(&ev, n, body, &cfg.webhook_url, secrets).await
    }

    /// Sign and send attempt `n` (already claimed), then record it.
    async fn send(
        &self,
        ev: &EventRow,
        n: i64,
        body: String,
        url: &str,
        secrets: &TenantSecrets,
    ) -> ApiResult<()> {
        let t0 = now();
        let headers = attempt::signed_headers(secrets, &ev.id, &body, t0);
        let result = attempt::send(
            Method::Post,
            url,
            headers,
            Some(body),
            attempt::WEBHOOK_READ_CAP,
        )
        .await;
        self.record(ev, n, t0, url, &result).await
    }

    /// Store the attempt and move the event to its next state. `url` is where it was sent.
    async fn record(
        &self,
        ev: &EventRow,
        n: i64,
        at: i64,
        url: &str,
        r: &AttemptResult,
    ) -> ApiResult<()> {
        let t1 = now();
        self.sql
            .exec(
                "INSERT OR REPLACE INTO attempts (event_id, n, at, status, latency_ms, error, response, kind) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                vec![
                    ev.id.clone().into(),
                    V::Integer(n),
                    V::Integer(at),
                    r.status.map(|s| V::Integer(s as i64)).unwrap_or(V::Null),
                    V::Integer(r.latency_ms),
                    r.error().into(),
                    r.snippet().into(),
                    attempt_kind(r).into(),
                ],
            )
            .map_err(internal("record attempt"))?;
        // Bounded storage: the first attempt and the latest ones are kept; `attempt_count`
        // stays exact. An event erased while this attempt was in flight keeps no snippet.
        if let Some((lo, hi)) = privacy::attempts_to_drop(n, ATTEMPTS_KEPT) {
            self.sql
                .exec(
                    "DELETE FROM attempts WHERE event_id = ? AND n BETWEEN ? AND ?",
                    vec![ev.id.clone().into(), V::Integer(lo), V::Integer(hi)],
                )
                .map_err(internal("cap attempts"))?;
        }
        self.sql
            .exec(
                "UPDATE attempts SET response = NULL WHERE event_id = ? AND n = ? AND EXISTS (SELECT 1 FROM events WHERE id = ? AND body = ?)",
                vec![ev.id.clone().into(), V::Integer(n), ev.id.clone().into(), ERASED_BODY.into()],
            )
            .map_err(internal("erased attempt"))?;
        let error = r.error().or_else(|| {
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
        // Whatever this attempt decides is written with no await in between; queue messages
        // go out after.
        let mut enqueue: Vec<(String, i64, i64)> = Vec::new();
        match next {
            Next::Delivered => {
                self.sql
                    .exec(
                        "UPDATE events SET state = 'delivered', delivered_at = ?, next_attempt_at = NULL, lease_until = 0, last_error = NULL WHERE id = ? AND state = 'pending'",
                        vec![V::Integer(t1), ev.id.clone().into()],
                    )
                    .map_err(internal("mark delivered"))?;
            }
            Next::Failed => {
                self.sql
                    .exec(
                        "UPDATE events SET state = 'failed', next_attempt_at = NULL, lease_until = 0, last_error = ? WHERE id = ? AND state = 'pending'",
                        vec![error.into(), ev.id.clone().into()],
                    )
                    .map_err(internal("mark failed"))?;
            }
            Next::Disable => {
                let mut cfg = store::read_config(&self.sql, &self.config_cache)?;
                if cfg.webhook_url != url {
                    // The 410 came from a URL the tenant has replaced since: the new one is
                    // not disabled by it; try the event there now.
                    self.sql
                        .exec(
                            "UPDATE events SET next_attempt_at = ?, lease_until = 0, last_error = ? WHERE id = ?",
                            vec![
                                V::Integer(t1),
                                "HTTP 410 from the previous webhook.url".into(),
                                ev.id.clone().into(),
                            ],
                        )
                        .map_err(internal("retarget"))?;
                    enqueue.push((ev.id.clone(), n + 1, t1));
                } else {
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
            }
            Next::RetryAt(when) => {
                self.sql
                    .exec(
                        "UPDATE events SET next_attempt_at = ?, cycle_retries = cycle_retries + 1, lease_until = 0, last_error = ? WHERE id = ? AND state = 'pending'",
                        vec![V::Integer(when), error.into(), ev.id.clone().into()],
                    )
                    .map_err(internal("schedule retry"))?;
                enqueue.push((ev.id.clone(), n + 1, when));
            }
        }
        if matches!(next, Next::Delivered | Next::Failed) {
            if let Some(record_id) = &ev.record_id {
                if let Some((id, next_n)) = self.release_next(record_id, t1)? {
                    enqueue.push((id, next_n, t1));
                }
            }
        }
        for (id, next_n, when) in enqueue {
            self.scheduled().enqueue(&id, next_n, when, t1).await;
        }
        Ok(())
    }

    /// A queue message arrived: attempt if it is the due, current copy.
    pub async fn on_message(&self, msg: &QueueMsg, secrets: &TenantSecrets) -> ApiResult<()> {
        let Some(ev) = self.row(&msg.e)? else {
            return Ok(());
        };
        let route = self
            .scheduled()
            .route(msg, &ev.state, ev.attempt_count, ev.next_attempt_at)
            .await;
        if let Route::Attempt(n) = route {
            self.attempt(&ev.id, Some(n), secrets).await;
        }
        Ok(())
    }

    /// The dead-letter queue gave up on a message: note it on the event. The event stays
    /// pending, so the sweep keeps it moving; nothing is dropped silently.
    pub fn on_dead_letter(&self, msg: &QueueMsg) -> ApiResult<()> {
        self.sql
            .exec(
                "UPDATE events SET last_error = ? WHERE id = ? AND state = 'pending'",
                vec![
                    format!("queue message for attempt {} was dead-lettered; the sweep will re-enqueue it", msg.n).into(),
                    msg.e.clone().into(),
                ],
            )
            .map_err(internal("dead letter"))?;
        Ok(())
    }

    /// Alarm sweep (nothing to do while the endpoint is disabled by a 410).
    pub async fn sweep(&self) -> ApiResult<Option<i64>> {
        if store::read_config(&self.sql, &self.config_cache)?.webhook_disabled {
            return Ok(None);
        }
        self.scheduled().sweep().await
    }

    pub fn next_due(&self) -> ApiResult<Option<i64>> {
        self.scheduled().next_due()
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
                "SELECT id, attempt_count FROM events WHERE state = 'pending' AND next_attempt_at IS NOT NULL AND lease_until <= ? ORDER BY seq",
                vec![V::Integer(t)],
            )
            .and_then(|c| c.to_array())
            .map_err(internal("flush"))?;
        // Events waiting for an earlier one of their record (next_attempt_at NULL) keep
        // waiting: that one's end releases them.
        let _ = self.sql.exec(
            "UPDATE events SET next_attempt_at = ? WHERE state = 'pending' AND next_attempt_at IS NOT NULL",
            vec![V::Integer(t)],
        );
        let rows: Vec<(String, i64)> = pending
            .into_iter()
            .map(|p| (p.id, p.attempt_count + 1))
            .collect();
        self.scheduled().enqueue_now(&rows).await;
        Ok(rows.len())
    }

    /// Make a delivered or failed event pending again (same `webhook-id`), with a fresh
    /// retry cycle.
    pub fn replay(&self, id: &str) -> ApiResult<()> {
        let Some(_) = self.row(id)? else {
            return Err(ApiError::not_found("event"));
        };
        if privacy::is_erased_body(&self.body(id)?) {
            return Err(ApiError::conflict(
                "erased",
                "The event's personal data was erased; it cannot be sent again.",
            ));
        }
        self.sql
            .exec(
                "UPDATE events SET state = 'pending', cycle_retries = 0, next_attempt_at = ?, delivered_at = NULL, lease_until = 0 WHERE id = ?",
                vec![V::Integer(now()), id.into()],
            )
            .map_err(internal("replay"))?;
        Ok(())
    }

    /// `POST /events/replay`: every failed event (oldest first, at most 1,000 per call) goes
    /// back to pending and into the queue at once, each keeping its `webhook-id`. Returns their ids.
    pub async fn replay_failed(&self) -> ApiResult<Vec<String>> {
        #[derive(Deserialize)]
        struct F {
            id: String,
            attempt_count: i64,
        }
        let failed: Vec<F> = self
            .sql
            .exec(
                "SELECT id, attempt_count FROM events WHERE state = 'failed' AND body != ? ORDER BY seq LIMIT 1000",
                vec![ERASED_BODY.into()],
            )
            .and_then(|c| c.to_array())
            .map_err(internal("list failed"))?;
        let t = now();
        for f in &failed {
            self.sql
                .exec(
                    "UPDATE events SET state = 'pending', cycle_retries = 0, next_attempt_at = ?, delivered_at = NULL, lease_until = 0 WHERE id = ? AND state = 'failed'",
                    vec![V::Integer(t), f.id.clone().into()],
                )
                .map_err(internal("replay failed"))?;
        }
        let rows: Vec<(String, i64)> = failed
            .into_iter()
            .map(|f| (f.id, f.attempt_count + 1))
            .collect();
        self.scheduled().enqueue_now(&rows).await;
        Ok(rows.into_iter().map(|(id, _)| id).collect())
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

    /// `GET /events`: newest first, filter by state and `record_id` (an assessment id), cursor paging.
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
        let record_id = query::get(&q, "record_id")
            .filter(|r| !r.is_empty())
            .map(str::to_string);
        let rows: Vec<EventRow> = self
            .sql
            .exec(
                &format!("SELECT {EVENT_COLS} FROM events WHERE seq < ? AND (? IS NULL OR state = ?) AND (? IS NULL OR record_id = ?) ORDER BY seq DESC LIMIT ?"),
                vec![V::Integer(cursor), state.clone().into(), state.into(), record_id.clone().into(), record_id.into(), V::Integer(limit + 1)],
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
            kind: Option<String>,
        }
        let attempts: Vec<A> = self
            .sql
            .exec(
                "SELECT at, status, latency_ms, error, response, kind FROM attempts WHERE event_id = ? ORDER BY n",
                vec![id.into()],
            )
            .and_then(|c| c.to_array())
            .map_err(internal("list attempts"))?;
        let mut v = Self::item(&ev);
        v["body"] = json!(self.body(id)?);
        v["attempts"] = json!(attempts
            .iter()
            .map(|a| json!({"at": rfc3339(a.at), "status": a.status, "latencyMs": a.latency_ms, "error": a.error, "kind": a.kind, "response": a.response}))
            .collect::<Vec<_>>());
        Ok(v)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::delivery::attempt::FailureKind;

    #[test]
    fn attempt_kinds_are_explicit() {
        let answered = |status| AttemptResult {
            status: Some(status),
            latency_ms: 0,
            failure: None,
            body: String::new(),
            body_over_cap: false,
            retry_after: None,
        };
        assert_eq!(attempt_kind(&answered(204)), None);
        assert_eq!(attempt_kind(&answered(500)), Some("http_status"));
        assert_eq!(attempt_kind(&answered(302)), Some("http_status"));
        let fast = AttemptResult::failed(FailureKind::Network, 0, "network error: refused");
        assert_eq!(attempt_kind(&fast), Some("network"));
        let slow = AttemptResult::failed(FailureKind::Timeout, 15_000, "timed out after 15 s");
        assert_eq!(attempt_kind(&slow), Some("timeout"));
    }
}
