//! The outbox: events committed with the change that caused them, then delivered to the
//! partner's webhook and to every extra endpoint whose filter takes them (README "Webhook
//! endpoints") — first attempt to each at once, retries through `DELIVERIES`, and an alarm
//! sweep that re-enqueues anything overdue so a lost message or a crash only delays delivery.
//!
//! A *delivery* is one event on its way to one endpoint ([`Lane`]): to the tenant's `webhook`
//! its state lives on the `events` row itself; to an extra endpoint, on a `deliveries` row
//! (id `dlv_…`). Both go through the delivery engine (`tenant/engine/`) as the channel in
//! `webhook.rs` (what is signed and sent, how the answer is judged, the attempt log); each
//! delivery retries, fails, is disabled by a 410 and is replayed on its own.
//!
//! Order per record and endpoint (README "Webhooks you receive", "Order per record"): a delivery
//! whose record has an earlier pending delivery at the same endpoint is held (`next_attempt_at`
//! NULL, so neither the sweep nor a flush picks it up) and released — made due at once — in the
//! same write that marks the earlier one delivered or failed (`emit.rs`). Events without a record
//! (`ping`) never wait.
//!
//! Files: `schema.rs` (tables), `emit.rs` (commit, hold, release, first attempts),
//! `order.rs` (per-record order), `webhook.rs` (the engine channel), `views.rs` (admin lists,
//! replays).

mod emit;
mod order;
mod schema;
mod views;
mod webhook;

use serde::Deserialize;
use worker::{Env, SqlStorage, SqlStorageValue as V};

use super::engine::leases::{Ended, Scheduled};
use super::engine::{self};
use super::{endpoints, now, store};
use crate::admin::tenants::TenantSecrets;
use crate::config::Config;
use crate::delivery::{MsgKind, QueueMsg};
use crate::error::{ApiResult, Context};
use crate::secrets;

pub use emit::Due;
pub use schema::DELIVERIES_SCHEMA;
use webhook::WebhookChannel;

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

/// A delivery as the admin API lists it: an event's delivery to the tenant's `webhook` (an
/// `events` row, [`EVENT_COLS`]: its id is the event id, no endpoint) or to an extra endpoint
/// (a `deliveries` row, [`DELIVERY_COLS`]).
#[derive(Debug, Clone, Deserialize)]
struct ListedRow {
    seq: i64,
    id: String,
    event_id: String,
    endpoint_id: Option<String>,
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

/// The [`ListedRow`] columns of `events`.
const EVENT_COLS: &str = "seq, id, id AS event_id, NULL AS endpoint_id, type, record_id, state, attempt_count, next_attempt_at, created_at, delivered_at, last_error";
/// The [`ListedRow`] columns of `deliveries d JOIN events e ON e.id = d.event_id`.
const DELIVERY_COLS: &str = "d.seq, d.id, d.event_id, d.endpoint_id, e.type, d.record_id, d.state, d.attempt_count, d.next_attempt_at, d.created_at, d.delivered_at, d.last_error";

/// Uniform randomness in [0, 1) for the retry jitter.
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
    fn scheduled(&self, lane: Lane) -> Scheduled<'_> {
        Scheduled {
            sql: &self.sql,
            env: &self.env,
            tenant: &self.tenant,
            table: lane.table(),
            ended: Ended::DeliveredAt,
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

    /// The engine channel of one lane, signing with `secrets`.
    fn channel<'a>(&'a self, lane: Lane, secrets: &'a TenantSecrets) -> WebhookChannel<'a> {
        WebhookChannel {
            ob: self,
            lane,
            secrets,
        }
    }

    fn row(&self, id: &str) -> ApiResult<Option<ListedRow>> {
        let rows: Vec<ListedRow> = self
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

    /// Make one attempt for delivery `id` if it is still due (`engine::attempt`).
    pub async fn attempt(
        &self,
        lane: Lane,
        id: &str,
        expected_n: Option<i64>,
        secrets: &TenantSecrets,
    ) {
        engine::attempt(&self.channel(lane, secrets), id, expected_n).await
    }

    /// A queue message arrived: attempt if it is the due, current copy.
    pub async fn on_message(&self, msg: &QueueMsg, secrets: &TenantSecrets) -> ApiResult<()> {
        let Some(lane) = Lane::of(msg.kind) else {
            return Ok(());
        };
        engine::on_message(&self.channel(lane, secrets), msg).await
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
}
