//! Committing events: one delivery per endpoint that takes the event, each started as
//! `delivery::state::start` says (attempt 1 claimed in the insert, held behind an earlier
//! event of its record, or parked at a disabled endpoint); events held for enrichment and
//! their release; and the immediate first attempts, from memory.

use serde::Deserialize;
use serde_json::Value;
use worker::SqlStorageValue as V;

use super::webhook::Loaded;
use super::{DeliveryRow, Lane, Outbox, Target};
use crate::admin::tenants::TenantSecrets;
use crate::delivery::state::{self, Start};
use crate::error::{ApiResult, Context};
use crate::model::{envelope, rfc3339, EventType};
use crate::secrets;
use crate::tenant::engine::leases::LEASE_MS;
use crate::tenant::engine::{self, waiting_note};
use crate::tenant::{endpoints, privacy, store};

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

impl Outbox {
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
        // Per-record order (README "Order per record"): a delivery waits while an earlier one of
        // its record is pending at the same endpoint. A record.new starts its record, so nothing
        // can be ahead.
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
                    waits_for
                        .as_ref()
                        .map(|h| waiting_note(&h.event_id, None))
                        .into(),
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
                        waits_for
                            .as_ref()
                            .map(|h| waiting_note(&h.event_id, Some(&ep.id)))
                            .into(),
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
        let sends = claimed.into_iter().map(|c| {
            let channel = self.channel(c.row.lane(), secrets);
            let loaded = Loaded {
                row: c.row,
                target: c.target,
                body: body.clone(),
                head: None,
            };
            async move {
                let id = loaded.row.id.clone();
                if let Err(err) = engine::send_claimed(&channel, &id, &loaded, 1).await {
                    worker::console_error!("outbox: attempt for {id} not made: {err}");
                }
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
}
