//! The outbox: events committed with the change that caused them, then delivered to the
//! partner's webhook and to every extra endpoint whose filter takes them (README "Webhook
//! endpoints") — first attempt to each at once, retries through `DELIVERIES`, and an alarm
//! sweep that re-enqueues anything overdue so a lost message or a crash only delays delivery.
//!
//! A *delivery* is one event on its way to one endpoint ([`Lane`]): to the tenant's `webhook`
//! its state lives on the `events` row itself; to an extra endpoint, on a `deliveries` row
//! (id `dlv_…`). Both tables have the same scheduling columns and go through the same attempt
//! path ([`Outbox::attempt`] → `send` → `record`), whose decisions are the pure rules of
//! `delivery::state` (start, gate, transition). Each delivery retries, fails, is disabled by
//! a 410 and is replayed on its own.
//!
//! Order per record and endpoint (SPEC §20, README "Order per record"): a delivery whose record
//! has an earlier pending delivery at the same endpoint is held (`next_attempt_at` NULL, so
//! neither the sweep nor a flush picks it up) and released — made due at once — in the same
//! write that marks the earlier one delivered or failed. Events without a record (`ping`) never
//! wait.

use serde::Deserialize;
use serde_json::{json, Value};
use worker::{Env, Method, SqlStorage, SqlStorageValue as V};

use super::endpoints;
use super::leases::{Route, Scheduled, LEASE_MS};
use super::privacy::{self, ATTEMPTS_KEPT, ERASED_BODY};
use super::{now, store};
use crate::admin::query;
use crate::admin::tenants::TenantSecrets;
use crate::config::Config;
use crate::delivery::attempt::{self, AttemptResult};
use crate::delivery::state::{self, Current, Gate, Start, Transition};
use crate::delivery::{MsgKind, QueueMsg};
use crate::error::{ApiError, ApiResult, Context};
use crate::model::{envelope, rfc3339, EventType};
use crate::secrets;

// The `events`, `attempts` tables: created by step 1 of `migrations::LADDER` (frozen there);
// a change to them is a new step.

/// Deliveries of events to the tenant's extra endpoints (README "Webhook endpoints"): the
/// scheduling columns of `events`, per (event, endpoint). Their attempts are kept in
/// `attempts` under the delivery id.
pub const DELIVERIES_SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS deliveries (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  id TEXT NOT NULL UNIQUE,
  event_id TEXT NOT NULL,
  endpoint_id TEXT NOT NULL,
  record_id TEXT,
  state TEXT NOT NULL,
  attempt_count INTEGER NOT NULL DEFAULT 0,
  cycle_retries INTEGER NOT NULL DEFAULT 0,
  next_attempt_at INTEGER,
  lease_until INTEGER NOT NULL DEFAULT 0,
  created_at INTEGER NOT NULL,
  delivered_at INTEGER,
  last_error TEXT
);
CREATE INDEX IF NOT EXISTS deliveries_due ON deliveries(state, next_attempt_at);
CREATE INDEX IF NOT EXISTS deliveries_endpoint_record ON deliveries(endpoint_id, record_id);
CREATE INDEX IF NOT EXISTS deliveries_event ON deliveries(event_id);
CREATE INDEX IF NOT EXISTS deliveries_record ON deliveries(record_id);
";

/// Which endpoint a delivery goes to, and so where its state is kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lane {
    /// The tenant's `webhook`: the state is on the `events` row (delivery id = event id).
    Webhook,
    /// One of the tenant's extra endpoints: a `deliveries` row (id `dlv_…`).
    Endpoint,
}

impl Lane {
    fn table(self) -> &'static str {
        match self {
            Lane::Webhook => "events",
            Lane::Endpoint => "deliveries",
        }
    }

    /// The lane of a queue message.
    pub fn of(kind: MsgKind) -> Option<Lane> {
        match kind {
            MsgKind::Webhook => Some(Lane::Webhook),
            MsgKind::Endpoint => Some(Lane::Endpoint),
            MsgKind::Provider => None,
        }
    }
}

/// One delivery as the attempt path sees it (from `events` or from `deliveries` joined to its
/// event).
#[derive(Debug, Clone, Deserialize)]
struct DeliveryRow {
    id: String,
    event_id: String,
    /// None for the tenant's `webhook`.
    endpoint_id: Option<String>,
    #[serde(rename = "type")]
    kind: String,
    record_id: Option<String>,
    state: String,
    attempt_count: i64,
    cycle_retries: i64,
    next_attempt_at: Option<i64>,
    lease_until: i64,
}

impl DeliveryRow {
    fn lane(&self) -> Lane {
        match self.endpoint_id {
            None => Lane::Webhook,
            Some(_) => Lane::Endpoint,
        }
    }
}

/// Where a delivery is sent: its endpoint's URL, whether a 410 disabled it, and the secret
/// that signs for it (None: the tenant's webhook secrets, current and rotating).
pub(super) struct Target {
    pub(super) url: String,
    pub(super) disabled: bool,
    pub(super) secret: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
struct EventRow {
    seq: i64,
    id: String,
    #[serde(rename = "type")]
    kind: String,
    record_id: Option<String>,
    state: String,
    attempt_count: i64,
    next_attempt_at: Option<i64>,
    created_at: i64,
    delivered_at: Option<i64>,
    last_error: Option<String>,
}

const EVENT_COLS: &str = "seq, id, type, record_id, state, attempt_count, next_attempt_at, created_at, delivered_at, last_error";

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

/// The attempt count and lease a new delivery is inserted with: attempt 1 claimed, or none.
fn leased(start: Start, at: i64) -> (i64, i64) {
    match start {
        Start::Claimed => (1, at + LEASE_MS),
        Start::Held | Start::Parked => (0, 0),
    }
}

/// A new delivery's `next_attempt_at`: NULL while it is held behind an earlier one.
fn due_at(start: Start, at: i64) -> V {
    match start {
        Start::Held => V::Null,
        Start::Claimed | Start::Parked => V::Integer(at),
    }
}

/// The head of a record's pending deliveries at one endpoint.
#[derive(Deserialize)]
struct Head {
    id: String,
    attempt_count: i64,
    next_attempt_at: Option<i64>,
}

pub fn unit_random() -> f64 {
    let b = secrets::random_bytes::<4>();
    u32::from_le_bytes(b) as f64 / (u32::MAX as f64 + 1.0)
}

/// A delivery `emit` committed with attempt 1 claimed, kept in memory for that attempt.
struct Claimed {
    row: DeliveryRow,
    target: Target,
}

/// An event as `emit` committed it, kept for its immediate first attempts.
pub struct Emitted {
    id: String,
    body: String,
    /// One per endpoint whose attempt 1 was claimed in the insert (none is claimed while its
    /// endpoint is disabled by a 410 or while an earlier event of the record is pending there).
    claimed: Vec<Claimed>,
}

/// What an immediate attempt starts from.
pub enum Due {
    /// An event `emit` just committed (and claimed), carried in memory.
    Emitted(Box<Emitted>),
    /// A stored pending delivery, by lane and id (replay).
    Stored(Lane, String),
}

impl Due {
    /// The event id (emitted) or the delivery id (stored).
    pub fn id(&self) -> &str {
        match self {
            Due::Emitted(e) => &e.id,
            Due::Stored(_, id) => id,
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
    fn scheduled(&self, lane: Lane) -> Scheduled<'_> {
        Scheduled {
            sql: &self.sql,
            env: &self.env,
            tenant: &self.tenant,
            table: lane.table(),
            kind: match lane {
                Lane::Webhook => MsgKind::Webhook,
                Lane::Endpoint => MsgKind::Endpoint,
            },
            // A disabled endpoint's deliveries wait for its re-enable, not for the sweep.
            only: match lane {
                Lane::Webhook => "",
                Lane::Endpoint => {
                    "AND endpoint_id IN (SELECT id FROM endpoints WHERE disabled = 0)"
                }
            },
            schedule: &self.cfg.retry_schedule,
        }
    }

    /// Commit an event (synchronously: same implicit transaction as the caller's writes)
    /// and one delivery per extra endpoint whose `event_types` take it. Each delivery starts
    /// as `delivery::state::start` says; a claimed one has attempt 1 claimed under a lease in
    /// the insert, so the immediate attempt (`attempt_now`) needs no further write before its
    /// request.
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
        // Per-record order (SPEC §20): a delivery waits while an earlier one of its record is
        // pending at the same endpoint. A record.new starts its record, so nothing can be ahead.
        let ordered = match (ty, record_id) {
            (EventType::RecordNew, _) | (_, None) => None,
            (_, Some(r)) => Some(r),
        };
        let waits_for = match ordered {
            Some(r) => self.record_head(Lane::Webhook, None, r)?,
            None => None,
        };
        let start = state::start(cfg.webhook_disabled, waits_for.is_some());
        let (attempt_count, lease_until) = leased(start, at);
        self.sql
            .exec(
                "INSERT INTO events (id, type, record_id, body, state, attempt_count, next_attempt_at, lease_until, created_at, last_error) VALUES (?, ?, ?, ?, 'pending', ?, ?, ?, ?, ?)",
                vec![
                    id.clone().into(),
                    ty.as_str().into(),
                    record_id.map(str::to_string).into(),
                    body.clone().into(),
                    V::Integer(attempt_count),
                    due_at(start, at),
                    V::Integer(lease_until),
                    V::Integer(at),
                    waits_for.as_deref().map(waiting_note).into(),
                ],
            )
            .context("insert event")?;
        let mut claimed = Vec::new();
        if start == Start::Claimed {
            claimed.push(Claimed {
                row: DeliveryRow {
                    id: id.clone(),
                    event_id: id.clone(),
                    endpoint_id: None,
                    kind: ty.as_str().to_string(),
                    record_id: record_id.map(str::to_string),
                    state: "pending".into(),
                    attempt_count,
                    cycle_retries: 0,
                    next_attempt_at: Some(at),
                    lease_until,
                },
                target: Target {
                    url: cfg.webhook_url.clone(),
                    disabled: false,
                    secret: None,
                },
            });
        }
        for ep in endpoints::all(&self.sql)? {
            if !state::takes(&ep.event_types(), ty.as_str()) {
                continue;
            }
            let waits_for = match ordered {
                Some(r) => self.record_head(Lane::Endpoint, Some(&ep.id), r)?,
                None => None,
            };
            let start = state::start(ep.is_disabled(), waits_for.is_some());
            let (attempt_count, lease_until) = leased(start, at);
            let dlv = secrets::new_id("dlv_");
            self.sql
                .exec(
                    "INSERT INTO deliveries (id, event_id, endpoint_id, record_id, state, attempt_count, next_attempt_at, lease_until, created_at, last_error) VALUES (?, ?, ?, ?, 'pending', ?, ?, ?, ?, ?)",
                    vec![
                        dlv.clone().into(),
                        id.clone().into(),
                        ep.id.clone().into(),
                        record_id.map(str::to_string).into(),
                        V::Integer(attempt_count),
                        due_at(start, at),
                        V::Integer(lease_until),
                        V::Integer(at),
                        waits_for.as_deref().map(waiting_note).into(),
                    ],
                )
                .context("insert delivery")?;
            if start == Start::Claimed {
                claimed.push(Claimed {
                    row: DeliveryRow {
                        id: dlv,
                        event_id: id.clone(),
                        endpoint_id: Some(ep.id.clone()),
                        kind: ty.as_str().to_string(),
                        record_id: record_id.map(str::to_string),
                        state: "pending".into(),
                        attempt_count,
                        cycle_retries: 0,
                        next_attempt_at: Some(at),
                        lease_until,
                    },
                    target: ep.target(),
                });
            }
        }
        Ok(Due::Emitted(Box::new(Emitted { id, body, claimed })))
    }

    /// Commit an event whose first attempts wait until `until` (ms): a `record.new` held for
    /// enrichment (README "Order enrichment"). Committed like `emit` (every endpoint it goes
    /// to gets its delivery), then every delivery is given back unclaimed and due at `until`,
    /// so the sweep sends it then if `release_held` does not sooner (after a restart, too).
    pub fn emit_held(
        &self,
        ty: EventType,
        record_id: &str,
        data: Value,
        at: i64,
        until: i64,
    ) -> ApiResult<String> {
        let id = self.emit(ty, Some(record_id), data, at)?.id().to_string();
        let note = format!(
            "held until {} while the order is completed from the ATS",
            rfc3339(until)
        );
        self.sql
            .exec(
                "UPDATE events SET attempt_count = 0, lease_until = 0, next_attempt_at = ?, last_error = ? WHERE id = ? AND next_attempt_at IS NOT NULL",
                vec![V::Integer(until), note.clone().into(), id.clone().into()],
            )
            .context("hold event")?;
        self.sql
            .exec(
                "UPDATE deliveries SET attempt_count = 0, lease_until = 0, next_attempt_at = ?, last_error = ? WHERE event_id = ? AND next_attempt_at IS NOT NULL",
                vec![V::Integer(until), note.into(), id.clone().into()],
            )
            .context("hold deliveries")?;
        Ok(id)
    }

    /// Release a held event now, with `data` as its new `eventData` when given, if no attempt
    /// of any of its deliveries has been claimed yet. Returns the deliveries now due (the
    /// caller attempts them), or None when it already went (or is going) as it was, or is
    /// gone (erased). Synchronous.
    pub fn release_held(
        &self,
        id: &str,
        ty: EventType,
        data: Option<Value>,
        at: i64,
    ) -> ApiResult<Option<Vec<(Lane, String)>>> {
        let (Some(ev), Some(lane)) = (self.row(id)?, self.delivery(Lane::Webhook, id)?) else {
            return Ok(None);
        };
        #[derive(Deserialize)]
        struct N {
            n: i64,
        }
        let claimed = self
            .sql
            .exec(
                "SELECT count(*) AS n FROM deliveries WHERE event_id = ? AND (attempt_count > 0 OR lease_until > ?)",
                vec![id.into(), V::Integer(at)],
            )
            .and_then(|c| c.one::<N>())
            .context("held deliveries")?
            .n;
        if lane.attempt_count != 0 || lane.lease_until > at || claimed > 0 {
            return Ok(None);
        }
        if privacy::is_erased_body(&self.body(id)?) {
            return Ok(None);
        }
        if let Some(data) = data {
            let body = envelope(ty, id, ev.record_id.as_deref(), data, ev.created_at);
            self.sql
                .exec(
                    "UPDATE events SET body = ? WHERE id = ?",
                    vec![body.into(), id.into()],
                )
                .context("complete held event")?;
        }
        let mut due = Vec::new();
        if ev.state == "pending" {
            self.sql
                .exec(
                    "UPDATE events SET next_attempt_at = ?, last_error = NULL WHERE id = ? AND next_attempt_at IS NOT NULL",
                    vec![V::Integer(at), id.into()],
                )
                .context("release held event")?;
            due.push((Lane::Webhook, id.to_string()));
        }
        #[derive(Deserialize)]
        struct D {
            id: String,
        }
        let pending: Vec<D> = self
            .sql
            .exec(
                "SELECT id FROM deliveries WHERE event_id = ? AND state = 'pending' AND next_attempt_at IS NOT NULL",
                vec![id.into()],
            )
            .and_then(|c| c.to_array())
            .context("held deliveries")?;
        self.sql
            .exec(
                "UPDATE deliveries SET next_attempt_at = ?, last_error = NULL WHERE event_id = ? AND state = 'pending' AND next_attempt_at IS NOT NULL",
                vec![V::Integer(at), id.into()],
            )
            .context("release held deliveries")?;
        due.extend(pending.into_iter().map(|d| (Lane::Endpoint, d.id)));
        Ok(Some(due))
    }

    /// The immediate attempts: attempt 1 of every delivery `emit` just claimed, from memory
    /// (no read-back), all at once; or the next attempt of a stored one (replay).
    pub async fn attempt_now(&self, due: Due, secrets: &TenantSecrets) {
        let e = match due {
            Due::Stored(lane, id) => return self.attempt(lane, &id, None, secrets).await,
            Due::Emitted(e) => e,
        };
        let Emitted { body, claimed, .. } = *e;
        let sends = claimed.iter().map(|c| async {
            if let Err(err) = self.send(&c.row, 1, body.clone(), &c.target, secrets).await {
                worker::console_error!("outbox: attempt for {} not made: {err}", c.row.id);
            }
        });
        futures_util::future::join_all(sends).await;
    }

    /// The immediate attempts cannot be made (no secrets): give the claims made by `emit`
    /// back so the sweep makes attempt 1 once they are overdue, and say so on the event.
    pub fn unclaim(&self, due: &Due) {
        if let Due::Emitted(e) = due {
            for c in &e.claimed {
                let _ = self.sql.exec(
                    &format!(
                        "UPDATE {} SET attempt_count = 0, lease_until = 0, last_error = ? WHERE id = ? AND attempt_count = 1",
                        c.row.lane().table()
                    ),
                    vec![
                        "the signing secret could not be read for the first attempt; the alarm sweep will make it".into(),
                        c.row.id.clone().into(),
                    ],
                );
            }
        }
    }

    /// The earliest pending delivery of a record at one endpoint (the one allowed to go).
    fn record_head(
        &self,
        lane: Lane,
        endpoint_id: Option<&str>,
        record_id: &str,
    ) -> ApiResult<Option<String>> {
        Ok(self
            .record_heads(lane, endpoint_id, record_id)?
            .map(|h| h.id))
    }

    fn record_heads(
        &self,
        lane: Lane,
        endpoint_id: Option<&str>,
        record_id: &str,
    ) -> ApiResult<Option<Head>> {
        let rows: Vec<Head> = match lane {
            Lane::Webhook => self.sql.exec(
                "SELECT id, attempt_count, next_attempt_at FROM events WHERE record_id = ? AND state = 'pending' ORDER BY seq LIMIT 1",
                vec![record_id.into()],
            ),
            Lane::Endpoint => self.sql.exec(
                "SELECT id, attempt_count, next_attempt_at FROM deliveries WHERE endpoint_id = ? AND record_id = ? AND state = 'pending' ORDER BY seq LIMIT 1",
                vec![endpoint_id.unwrap_or_default().into(), record_id.into()],
            ),
        }
        .and_then(|c| c.to_array())
        .context("record head")?;
        Ok(rows.into_iter().next())
    }

    /// A delivery of `row`'s record just finished (delivered or failed for good): if the
    /// record's earliest pending delivery at the same endpoint was waiting for it, make that
    /// one due now. Returns it with its next attempt number, for an immediate queue message.
    /// Synchronous, so it commits with the finished delivery's state.
    fn release_next(&self, row: &DeliveryRow, t: i64) -> ApiResult<Option<(String, i64)>> {
        let Some(record_id) = &row.record_id else {
            return Ok(None);
        };
        let Some(head) = self
            .record_heads(row.lane(), row.endpoint_id.as_deref(), record_id)?
            .filter(|h| h.next_attempt_at.is_none())
        else {
            return Ok(None);
        };
        self.sql
            .exec(
                &format!(
                    "UPDATE {} SET next_attempt_at = ?, last_error = NULL WHERE id = ?",
                    row.lane().table()
                ),
                vec![V::Integer(t), head.id.clone().into()],
            )
            .context("release")?;
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
            .context("read event")?;
        Ok(rows.into_iter().next())
    }

    /// One delivery, by lane and id.
    fn delivery(&self, lane: Lane, id: &str) -> ApiResult<Option<DeliveryRow>> {
        let rows: Vec<DeliveryRow> = match lane {
            Lane::Webhook => self.sql.exec(
                "SELECT id, id AS event_id, NULL AS endpoint_id, type, record_id, state, attempt_count, cycle_retries, next_attempt_at, lease_until FROM events WHERE id = ?",
                vec![id.into()],
            ),
            Lane::Endpoint => self.sql.exec(
                "SELECT d.id, d.event_id, d.endpoint_id, e.type, d.record_id, d.state, d.attempt_count, d.cycle_retries, d.next_attempt_at, d.lease_until FROM deliveries d JOIN events e ON e.id = d.event_id WHERE d.id = ?",
                vec![id.into()],
            ),
        }
        .and_then(|c| c.to_array())
        .context("read delivery")?;
        Ok(rows.into_iter().next())
    }

    /// Where `row` goes now (None: its endpoint was deleted).
    fn target(&self, row: &DeliveryRow) -> ApiResult<Option<Target>> {
        Ok(match &row.endpoint_id {
            None => {
                let cfg = store::read_config(&self.sql, &self.config_cache)?;
                Some(Target {
                    url: cfg.webhook_url,
                    disabled: cfg.webhook_disabled,
                    secret: None,
                })
            }
            Some(ep) => endpoints::get(&self.sql, ep)?.map(|e| e.target()),
        })
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
            .context("read body")
    }

    /// Make one attempt for delivery `id` if it is still due. `expected_n` (from a queue
    /// message) must match the next attempt number, so duplicate or stale messages are dropped.
    pub async fn attempt(
        &self,
        lane: Lane,
        id: &str,
        expected_n: Option<i64>,
        secrets: &TenantSecrets,
    ) {
        if let Err(e) = self.try_attempt(lane, id, expected_n, secrets).await {
            worker::console_error!("outbox: attempt for {id} not made: {e}");
        }
    }

    async fn try_attempt(
        &self,
        lane: Lane,
        id: &str,
        expected_n: Option<i64>,
        secrets: &TenantSecrets,
    ) -> ApiResult<()> {
        let t0 = now();
        let Some(row) = self.delivery(lane, id)? else {
            return Ok(());
        };
        let Some(target) = self.target(&row)? else {
            return Ok(()); // endpoint deleted: its pending deliveries failed with it
        };
        let body = self.body(&row.event_id)?;
        let head = match &row.record_id {
            Some(r) => self.record_head(lane, row.endpoint_id.as_deref(), r)?,
            None => None,
        };
        let current = Current {
            id: &row.id,
            state: &row.state,
            attempt_count: row.attempt_count,
            lease_until: row.lease_until,
            // Erased: never sent again (README "Personal data").
            erased: privacy::is_erased_body(&body),
            record_head: head.as_deref(),
            endpoint_disabled: target.disabled,
        };
        match state::gate(&current, expected_n, t0) {
            // Parked: stays pending until the endpoint's URL is PATCHed (re-enabled).
            Gate::Skip | Gate::Parked => Ok(()),
            Gate::Hold { behind } => {
                // An earlier event of the record is pending at this endpoint (e.g. a replay):
                // wait for it. Its end releases this one (`release_next`).
                self.sql
                    .exec(
                        &format!(
                            "UPDATE {} SET next_attempt_at = NULL, last_error = ? WHERE id = ?",
                            lane.table()
                        ),
                        vec![waiting_note(&behind).into(), id.into()],
                    )
                    .context("hold")?;
                Ok(())
            }
            Gate::Go => {
                let n = self.scheduled(lane).claim(id, row.attempt_count, t0)?;
                self.send(&row, n, body, &target, secrets).await
            }
        }
    }

    /// Sign and send attempt `n` (already claimed), then record it.
    async fn send(
        &self,
        row: &DeliveryRow,
        n: i64,
        body: String,
        target: &Target,
        secrets: &TenantSecrets,
    ) -> ApiResult<()> {
        let t0 = now();
        let keys: Vec<&str> = match &target.secret {
            Some(s) => vec![s.as_str()],
            None => secrets.signing_secrets(t0),
        };
        // The webhook-id is the event's, the same at every endpoint and across retries.
        let headers = attempt::signed_headers(&keys, &row.event_id, &body, t0);
        let result = attempt::send(
            Method::Post,
            &target.url,
            headers,
            Some(body),
            attempt::WEBHOOK_READ_CAP,
        )
        .await;
        self.record(row, n, t0, &target.url, &result).await
    }

    /// Store the attempt and move the delivery to its next state. `url` is where it was sent.
    async fn record(
        &self,
        row: &DeliveryRow,
        n: i64,
        at: i64,
        url: &str,
        r: &AttemptResult,
    ) -> ApiResult<()> {
        let t1 = now();
        let lane = row.lane();
        let table = lane.table();
        self.sql
            .exec(
                "INSERT OR REPLACE INTO attempts (event_id, n, at, status, latency_ms, error, response, kind) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                vec![
                    row.id.clone().into(),
                    V::Integer(n),
                    V::Integer(at),
                    r.status.map(|s| V::Integer(s as i64)).unwrap_or(V::Null),
                    V::Integer(r.latency_ms),
                    r.error().into(),
                    r.snippet().into(),
                    attempt_kind(r).into(),
                ],
            )
            .context("record attempt")?;
        // Bounded storage: the first attempt and the latest ones are kept; `attempt_count`
        // stays exact. An event erased while this attempt was in flight keeps no snippet.
        if let Some((lo, hi)) = privacy::attempts_to_drop(n, ATTEMPTS_KEPT) {
            self.sql
                .exec(
                    "DELETE FROM attempts WHERE event_id = ? AND n BETWEEN ? AND ?",
                    vec![row.id.clone().into(), V::Integer(lo), V::Integer(hi)],
                )
                .context("cap attempts")?;
        }
        self.sql
            .exec(
                "UPDATE attempts SET response = NULL WHERE event_id = ? AND n = ? AND EXISTS (SELECT 1 FROM events WHERE id = ? AND body = ?)",
                vec![row.id.clone().into(), V::Integer(n), row.event_id.clone().into(), ERASED_BODY.into()],
            )
            .context("erased attempt")?;
        let error = r.error().or_else(|| {
            r.status
                .filter(|s| !(200..300).contains(s))
                .map(|s| format!("HTTP {s}"))
        });
        let next = attempt::classify(
            r,
            &self.cfg.retry_schedule,
            row.cycle_retries as usize,
            t1,
            unit_random(),
        );
        let current_url = self.target(row)?.map(|t| t.url);
        let transition =
            state::after_attempt(next, current_url.as_deref().is_none_or(|u| u == url));
        // One structured line per attempt; no URL, body or error text (they can carry tokens).
        worker::console_log!(
            "{}",
            json!({
                "msg": "delivery attempt",
                "tenant": self.tenant,
                "eventId": row.event_id,
                "endpoint": row.endpoint_id.as_deref().unwrap_or(endpoints::WEBHOOK),
                "eventType": row.kind,
                "attempt": n,
                "status": r.status,
                "latencyMs": r.latency_ms,
                "outcome": transition.outcome(),
            })
        );
        // Whatever this attempt decides is written with no await in between; queue messages
        // go out after.
        let mut enqueue: Vec<(String, i64, i64)> = Vec::new();
        let set = |cols: &str, args: Vec<V>, what: &'static str| -> ApiResult<()> {
            self.sql
                .exec(
                    &format!("UPDATE {table} SET {cols} WHERE id = ? AND state = 'pending'"),
                    args.into_iter()
                        .chain([row.id.clone().into()])
                        .collect::<Vec<_>>(),
                )
                .map(|_| ())
                .context(what)
        };
        match &transition {
            Transition::Delivered => set(
                "state = 'delivered', delivered_at = ?, next_attempt_at = NULL, lease_until = 0, last_error = NULL",
                vec![V::Integer(t1)],
                "mark delivered",
            )?,
            Transition::Failed => set(
                "state = 'failed', next_attempt_at = NULL, lease_until = 0, last_error = ?",
                vec![error.into()],
                "mark failed",
            )?,
            Transition::Retarget => {
                // The 410 came from a URL the endpoint has replaced since: the new one is
                // not disabled by it; try the delivery there now.
                set(
                    "next_attempt_at = ?, lease_until = 0, last_error = ?",
                    vec![V::Integer(t1), "HTTP 410 from the endpoint's previous URL".into()],
                    "retarget",
                )?;
                enqueue.push((row.id.clone(), n + 1, t1));
            }
            Transition::Disable => {
                match &row.endpoint_id {
                    None => {
                        let mut cfg = store::read_config(&self.sql, &self.config_cache)?;
                        cfg.webhook_disabled = true;
                        cfg.updated_at = t1;
                        store::write_config(&self.sql, &self.config_cache, &cfg)?;
                    }
                    Some(ep) => endpoints::set_disabled(&self.sql, ep, true, t1)?,
                }
                let note = match lane {
                    Lane::Webhook => "HTTP 410: endpoint disabled until webhook.url is updated",
                    Lane::Endpoint => "HTTP 410: endpoint disabled until its url is updated",
                };
                set(
                    "next_attempt_at = ?, lease_until = 0, last_error = ?",
                    vec![V::Integer(t1), note.into()],
                    "disable",
                )?;
                worker::console_warn!(
                    "{}",
                    json!({"msg": "webhook endpoint answered 410; disabled", "tenant": self.tenant, "endpoint": row.endpoint_id.as_deref().unwrap_or(endpoints::WEBHOOK)})
                );
            }
            Transition::RetryAt(when) => {
                set(
                    "next_attempt_at = ?, cycle_retries = cycle_retries + 1, lease_until = 0, last_error = ?",
                    vec![V::Integer(*when), error.into()],
                    "schedule retry",
                )?;
                enqueue.push((row.id.clone(), n + 1, *when));
            }
        }
        if transition.releases_next() {
            if let Some((id, next_n)) = self.release_next(row, t1)? {
                enqueue.push((id, next_n, t1));
            }
        }
        for (id, next_n, when) in enqueue {
            self.scheduled(lane).enqueue(&id, next_n, when, t1).await;
        }
        Ok(())
    }

    /// A queue message arrived: attempt if it is the due, current copy.
    pub async fn on_message(&self, msg: &QueueMsg, secrets: &TenantSecrets) -> ApiResult<()> {
        let Some(lane) = Lane::of(msg.kind) else {
            return Ok(());
        };
        let Some(d) = self.delivery(lane, &msg.id)? else {
            return Ok(());
        };
        let route = self
            .scheduled(lane)
            .route(msg, &d.state, d.attempt_count, d.next_attempt_at)
            .await;
        if let Route::Attempt(n) = route {
            self.attempt(lane, &d.id, Some(n), secrets).await;
        }
        Ok(())
    }

    /// The dead-letter queue gave up on a message: note it on the delivery. It stays
    /// pending, so the sweep keeps it moving; nothing is dropped silently.
    pub fn on_dead_letter(&self, msg: &QueueMsg) -> ApiResult<()> {
        let Some(lane) = Lane::of(msg.kind) else {
            return Ok(());
        };
        self.sql
            .exec(
                &format!("UPDATE {} SET last_error = ? WHERE id = ? AND state = 'pending'", lane.table()),
                vec![
                    format!("queue message for attempt {} was dead-lettered; the sweep will re-enqueue it", msg.attempt).into(),
                    msg.id.clone().into(),
                ],
            )
            .context("dead letter")?;
        Ok(())
    }

    /// Alarm sweep of both lanes (nothing to do for an endpoint disabled by a 410).
    pub async fn sweep(&self) -> ApiResult<Option<i64>> {
        let webhook = if store::read_config(&self.sql, &self.config_cache)?.webhook_disabled {
            None
        } else {
            self.scheduled(Lane::Webhook).sweep().await?
        };
        let endpoints = self.scheduled(Lane::Endpoint).sweep().await?;
        Ok(webhook.into_iter().chain(endpoints).min())
    }

    pub fn next_due(&self) -> ApiResult<Option<i64>> {
        let a = self.scheduled(Lane::Webhook).next_due()?;
        let b = self.scheduled(Lane::Endpoint).next_due()?;
        Ok(a.into_iter().chain(b).min())
    }

    /// Pending deliveries to the webhook (`endpoint_id` None) or to one endpoint to send now
    /// (after a re-enable): re-enqueued without delay.
    pub async fn flush(&self, endpoint_id: Option<&str>) -> ApiResult<usize> {
        let t = now();
        #[derive(Deserialize)]
        struct P {
            id: String,
            attempt_count: i64,
        }
        let (lane, scope, args): (Lane, &str, Vec<V>) = match endpoint_id {
            None => (Lane::Webhook, "", vec![]),
            Some(ep) => (Lane::Endpoint, "AND endpoint_id = ?", vec![ep.into()]),
        };
        let table = lane.table();
        let pending: Vec<P> = self
            .sql
            .exec(
                &format!("SELECT id, attempt_count FROM {table} WHERE state = 'pending' AND next_attempt_at IS NOT NULL AND lease_until <= ? {scope} ORDER BY seq"),
                [V::Integer(t)].into_iter().chain(args.clone()).collect::<Vec<_>>(),
            )
            .and_then(|c| c.to_array())
            .context("flush")?;
        // Deliveries waiting for an earlier one of their record (next_attempt_at NULL) keep
        // waiting: that one's end releases them.
        let _ = self.sql.exec(
            &format!("UPDATE {table} SET next_attempt_at = ? WHERE state = 'pending' AND next_attempt_at IS NOT NULL {scope}"),
            [V::Integer(t)].into_iter().chain(args).collect::<Vec<_>>(),
        );
        let rows: Vec<(String, i64)> = pending
            .into_iter()
            .map(|p| (p.id, p.attempt_count + 1))
            .collect();
        self.scheduled(lane).enqueue_now(&rows).await;
        Ok(rows.len())
    }

    /// Make a delivered or failed delivery of event `id` pending again (same `webhook-id`),
    /// with a fresh retry cycle: to the tenant's webhook (`endpoint` None or `webhook`) or to
    /// one endpoint. Returns what to attempt now.
    pub fn replay(&self, id: &str, endpoint: Option<&str>) -> ApiResult<Due> {
        let Some(_) = self.row(id)? else {
            return Err(ApiError::not_found("event"));
        };
        if privacy::is_erased_body(&self.body(id)?) {
            return Err(ApiError::conflict(
                "erased",
                "The event's personal data was erased; it cannot be sent again.",
            ));
        }
        let (lane, dlv) = match endpoint.filter(|e| *e != endpoints::WEBHOOK) {
            None => (Lane::Webhook, id.to_string()),
            Some(ep) => {
                #[derive(Deserialize)]
                struct D {
                    id: String,
                }
                let rows: Vec<D> = self
                    .sql
                    .exec(
                        "SELECT id FROM deliveries WHERE event_id = ? AND endpoint_id = ?",
                        vec![id.into(), ep.into()],
                    )
                    .and_then(|c| c.to_array())
                    .context("find delivery")?;
                let d = rows.into_iter().next().ok_or_else(|| {
                    ApiError::new(
                        404,
                        crate::error::code::NOT_FOUND,
                        format!("The event was never sent to endpoint `{ep}` (unknown endpoint, or its event_types do not take it)."),
                    )
                })?;
                if endpoints::get(&self.sql, ep)?.is_none() {
                    return Err(ApiError::not_found("endpoint"));
                }
                (Lane::Endpoint, d.id)
            }
        };
        self.sql
            .exec(
                &format!("UPDATE {} SET state = 'pending', cycle_retries = 0, next_attempt_at = ?, delivered_at = NULL, lease_until = 0 WHERE id = ?", lane.table()),
                vec![V::Integer(now()), dlv.clone().into()],
            )
            .context("replay")?;
        Ok(Due::Stored(lane, dlv))
    }

    /// `POST /events/replay`: every failed delivery — to the webhook and to each endpoint —
    /// (oldest first, at most 1,000 per lane and call) goes back to pending and into the queue
    /// at once, each keeping its `webhook-id`. Returns their event ids (each once).
    pub async fn replay_failed(&self) -> ApiResult<Vec<String>> {
        #[derive(Deserialize)]
        struct F {
            id: String,
            event_id: String,
            attempt_count: i64,
        }
        let t = now();
        let mut ids: Vec<String> = Vec::new();
        for lane in [Lane::Webhook, Lane::Endpoint] {
            let q = match lane {
                Lane::Webhook => "SELECT id, id AS event_id, attempt_count FROM events WHERE state = 'failed' AND body != ? ORDER BY seq LIMIT 1000",
                Lane::Endpoint => "SELECT d.id, d.event_id, d.attempt_count FROM deliveries d JOIN events e ON e.id = d.event_id JOIN endpoints p ON p.id = d.endpoint_id WHERE d.state = 'failed' AND e.body != ? ORDER BY d.seq LIMIT 1000",
            };
            let failed: Vec<F> = self
                .sql
                .exec(q, vec![ERASED_BODY.into()])
                .and_then(|c| c.to_array())
                .context("list failed")?;
            for f in &failed {
                self.sql
                    .exec(
                        &format!("UPDATE {} SET state = 'pending', cycle_retries = 0, next_attempt_at = ?, delivered_at = NULL, lease_until = 0 WHERE id = ? AND state = 'failed'", lane.table()),
                        vec![V::Integer(t), f.id.clone().into()],
                    )
                    .context("replay failed")?;
                if !ids.contains(&f.event_id) {
                    ids.push(f.event_id.clone());
                }
            }
            let rows: Vec<(String, i64)> = failed
                .into_iter()
                .map(|f| (f.id, f.attempt_count + 1))
                .collect();
            self.scheduled(lane).enqueue_now(&rows).await;
        }
        Ok(ids)
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
        let state = state_filter(&q)?;
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
            .context("list events")?;
        let more = rows.len() as i64 > limit;
        let page = &rows[..rows.len().min(limit as usize)];
        Ok(json!({
            "data": page.iter().map(Self::item).collect::<Vec<_>>(),
            "next_cursor": if more { page.last().map(|r| query::render_cursor(r.seq)) } else { None },
        }))
    }

    /// The attempts recorded for one delivery (an event id for the webhook, a delivery id).
    fn attempts(&self, delivery_id: &str) -> ApiResult<Vec<Value>> {
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
                vec![delivery_id.into()],
            )
            .and_then(|c| c.to_array())
            .context("list attempts")?;
        Ok(attempts
            .iter()
            .map(|a| json!({"at": rfc3339(a.at), "status": a.status, "latencyMs": a.latency_ms, "error": a.error, "kind": a.kind, "response": a.response}))
            .collect())
    }

    /// `GET /events/{id}`: the item, the exact body sent, every attempt to the webhook, and
    /// `deliveries[]`: the event's delivery to each extra endpoint, with its attempts.
    pub fn get(&self, id: &str) -> ApiResult<Value> {
        let ev = self.row(id)?.ok_or_else(|| ApiError::not_found("event"))?;
        let mut v = Self::item(&ev);
        v["body"] = json!(self.body(id)?);
        v["attempts"] = json!(self.attempts(id)?);
        let rows: Vec<EndpointDelivery> = self
            .sql
            .exec(
                &format!("SELECT {DELIVERY_COLS} FROM deliveries d JOIN events e ON e.id = d.event_id WHERE d.event_id = ? ORDER BY d.seq"),
                vec![id.into()],
            )
            .and_then(|c| c.to_array())
            .context("event deliveries")?;
        let mut deliveries = Vec::new();
        for d in &rows {
            let mut item = d.item();
            item["attempts"] = json!(self.attempts(&d.id)?);
            deliveries.push(item);
        }
        v["deliveries"] = json!(deliveries);
        Ok(v)
    }

    /// `GET /webhooks/{id}/deliveries`: one endpoint's delivery log, newest first, filter by
    /// `state`, cursor paging (README "Webhook endpoints").
    pub fn endpoint_log(&self, endpoint_id: &str, query_string: Option<&str>) -> ApiResult<Value> {
        let q = query::pairs(query_string);
        let limit = query::limit(&q)?;
        let cursor = query::cursor(&q)?.unwrap_or(i64::MAX);
        let state = state_filter(&q)?;
        let rows: Vec<EndpointDelivery> = self
            .sql
            .exec(
                &format!("SELECT {DELIVERY_COLS} FROM deliveries d JOIN events e ON e.id = d.event_id WHERE d.endpoint_id = ? AND d.seq < ? AND (? IS NULL OR d.state = ?) ORDER BY d.seq DESC LIMIT ?"),
                vec![endpoint_id.into(), V::Integer(cursor), state.clone().into(), state.into(), V::Integer(limit + 1)],
            )
            .and_then(|c| c.to_array())
            .context("list deliveries")?;
        let more = rows.len() as i64 > limit;
        let page = &rows[..rows.len().min(limit as usize)];
        Ok(json!({
            "data": page.iter().map(EndpointDelivery::item).collect::<Vec<_>>(),
            "next_cursor": if more { page.last().map(|r| query::render_cursor(r.seq)) } else { None },
        }))
    }

    /// An endpoint was deleted: its pending deliveries fail (they are never sent); the rows
    /// stay in the event's `deliveries[]`.
    pub fn fail_endpoint(&self, endpoint_id: &str) -> ApiResult<()> {
        self.sql
            .exec(
                "UPDATE deliveries SET state = 'failed', next_attempt_at = NULL, lease_until = 0, last_error = 'the endpoint was deleted' WHERE endpoint_id = ? AND state = 'pending'",
                vec![endpoint_id.into()],
            )
            .context("fail endpoint deliveries")?;
        Ok(())
    }
}

/// A `deliveries` row as listed.
#[derive(Debug, Clone, Deserialize)]
struct EndpointDelivery {
    seq: i64,
    id: String,
    event_id: String,
    endpoint_id: String,
    #[serde(rename = "type")]
    kind: String,
    record_id: Option<String>,
    state: String,
    attempt_count: i64,
    next_attempt_at: Option<i64>,
    created_at: i64,
    delivered_at: Option<i64>,
    last_error: Option<String>,
}

const DELIVERY_COLS: &str = "d.seq, d.id, d.event_id, d.endpoint_id, e.type, d.record_id, d.state, d.attempt_count, d.next_attempt_at, d.created_at, d.delivered_at, d.last_error";

impl EndpointDelivery {
    fn item(&self) -> Value {
        json!({
            "deliveryId": self.id,
            "eventId": self.event_id,
            "endpointId": self.endpoint_id,
            "eventType": self.kind,
            "recordId": self.record_id,
            "state": self.state,
            "attemptCount": self.attempt_count,
            "nextAttemptAt": if self.state == "pending" { self.next_attempt_at.map(rfc3339) } else { None },
            "createdAt": rfc3339(self.created_at),
            "deliveredAt": self.delivered_at.map(rfc3339),
            "lastError": self.last_error,
        })
    }
}

/// The `state` query filter of the event and delivery lists.
fn state_filter(q: &[(String, String)]) -> ApiResult<Option<String>> {
    match query::get(q, "state") {
        None | Some("") => Ok(None),
        Some(s @ ("pending" | "delivered" | "failed")) => Ok(Some(s.to_string())),
        Some(_) => Err(ApiError::invalid_field(
            "state",
            "must be pending, delivered or failed",
        )),
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
            link: None,
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
