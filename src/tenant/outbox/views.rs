//! What the admin API shows of the outbox and does to it (README "Webhooks you receive",
//! "Webhook endpoints"): the event list and one event with its attempts, an endpoint's
//! delivery log, replays, and failing a deleted endpoint's pending deliveries.

use serde::Deserialize;
use serde_json::{json, Value};
use worker::SqlStorageValue as V;

use super::{Due, EventRow, Lane, Outbox, EVENT_COLS};
use crate::admin::query;
use crate::error::{ApiError, ApiResult, Context};
use crate::model::rfc3339;
use crate::tenant::privacy::{self, ERASED_BODY};
use crate::tenant::{endpoints, now};

impl Outbox {
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

    /// `GET /events`: newest first, filter by state and `record_id` (an assessment id), cursor
    /// paging.
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
