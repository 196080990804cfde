//! What the admin API shows of the outbox and does to it (README "Webhooks you receive",
//! "Webhook endpoints"): the event list and one event with its attempts, an endpoint's
//! delivery log, replays, and failing a deleted endpoint's pending deliveries.

use serde::Deserialize;
use serde_json::{json, Value};
use worker::SqlStorageValue as V;

use super::{Due, Lane, ListedRow, Outbox, DELIVERY_COLS, EVENT_COLS};
use crate::admin::query;
use crate::error::{code, ApiError, ApiResult, Context};
use crate::model::rfc3339;
use crate::tenant::privacy::{self, ERASED_BODY};
use crate::tenant::{endpoints, now, store};

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
                code::ERASED,
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
                        code::NOT_FOUND,
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

    /// `GET /events`: newest first, filter by state and `record_id` (an assessment id), cursor
    /// paging.
    pub fn list(&self, query_string: Option<&str>) -> ApiResult<Value> {
        let q = query::pairs(query_string);
        let limit = query::limit(&q)?;
        let cursor = query::page_start(&q)?;
        let state = state_filter(&q)?;
        let record_id = query::get(&q, "record_id")
            .filter(|r| !r.is_empty())
            .map(str::to_string);
        let rows: Vec<ListedRow> = self
            .sql
            .exec(
                &format!("SELECT {EVENT_COLS} FROM events WHERE seq < ? AND (? IS NULL OR state = ?) AND (? IS NULL OR record_id = ?) ORDER BY seq DESC LIMIT ?"),
                vec![V::Integer(cursor), state.clone().into(), state.into(), record_id.clone().into(), record_id.into(), V::Integer(limit + 1)],
            )
            .and_then(|c| c.to_array())
            .context("list events")?;
        let more = rows.len() as i64 > limit;
        let page = &rows[..rows.len().min(limit as usize)];
        let disabled = self.webhook_disabled()?;
        Ok(json!({
            "data": page.iter().map(|r| r.item(disabled)).collect::<Vec<_>>(),
            "next_cursor": if more { page.last().map(|r| query::render_cursor(r.seq)) } else { None },
        }))
    }

    /// Whether the tenant's `webhook` is disabled by a 410 now.
    fn webhook_disabled(&self) -> ApiResult<bool> {
        Ok(store::read_config(&self.sql, &self.config_cache)?.webhook_disabled)
    }

    /// The ids of the extra endpoints disabled by a 410 now.
    fn disabled_endpoints(&self) -> ApiResult<Vec<String>> {
        Ok(endpoints::all(&self.sql)?
            .into_iter()
            .filter(|e| e.is_disabled())
            .map(|e| e.id)
            .collect())
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
        let mut v = ev.item(self.webhook_disabled()?);
        v["body"] = json!(self.body(id)?);
        v["attempts"] = json!(self.attempts(id)?);
        let rows: Vec<ListedRow> = self
            .sql
            .exec(
                &format!("SELECT {DELIVERY_COLS} FROM deliveries d JOIN events e ON e.id = d.event_id WHERE d.event_id = ? ORDER BY d.seq"),
                vec![id.into()],
            )
            .and_then(|c| c.to_array())
            .context("event deliveries")?;
        let disabled = self.disabled_endpoints()?;
        let mut deliveries = Vec::new();
        for d in &rows {
            let mut item = d.item(d.endpoint_id.as_ref().is_some_and(|e| disabled.contains(e)));
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
        let cursor = query::page_start(&q)?;
        let state = state_filter(&q)?;
        let rows: Vec<ListedRow> = self
            .sql
            .exec(
                &format!("SELECT {DELIVERY_COLS} FROM deliveries d JOIN events e ON e.id = d.event_id WHERE d.endpoint_id = ? AND d.seq < ? AND (? IS NULL OR d.state = ?) ORDER BY d.seq DESC LIMIT ?"),
                vec![endpoint_id.into(), V::Integer(cursor), state.clone().into(), state.into(), V::Integer(limit + 1)],
            )
            .and_then(|c| c.to_array())
            .context("list deliveries")?;
        let disabled = endpoints::get(&self.sql, endpoint_id)?.is_some_and(|e| e.is_disabled());
        let more = rows.len() as i64 > limit;
        let page = &rows[..rows.len().min(limit as usize)];
        Ok(json!({
            "data": page.iter().map(|r| r.item(disabled)).collect::<Vec<_>>(),
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

/// Why a delivery is held, as its list item shows it (README "Webhook endpoints"): None while
/// it is not held. A pending delivery is held while its endpoint is disabled by a 410
/// (`endpoint_disabled`; its stored due time has passed, but nothing is sent until the
/// endpoint is re-enabled) or while it waits for an earlier event of its record (no due time;
/// its `last_error` names that event). `webhook` says which endpoint it is: the tenant's
/// `webhook` or an extra endpoint.
pub(super) fn held_reason(
    state: &str,
    next_attempt_at: Option<i64>,
    endpoint_disabled: bool,
    webhook: bool,
    last_error: Option<&str>,
) -> Option<String> {
    if state != "pending" {
        return None;
    }
    if endpoint_disabled {
        return Some(if webhook {
            "the webhook is disabled: it answered 410 Gone; a PATCH of webhook.url (the same or a new URL) re-enables it and sends what it holds".into()
        } else {
            "the endpoint is disabled: it answered 410 Gone; a PATCH of its url (the same or a new URL) re-enables it and sends what it holds".into()
        });
    }
    if next_attempt_at.is_none() {
        return Some(
            last_error
                .filter(|e| e.starts_with("waiting for "))
                .unwrap_or("waiting for an earlier event of the same record")
                .to_string(),
        );
    }
    None
}

impl ListedRow {
    /// The list item: `{eventId, eventType, recordId, state, attemptCount, nextAttemptAt,
    /// createdAt, deliveredAt, lastError, heldReason}` (README "Webhooks you receive"); a
    /// delivery to an extra endpoint also names itself and its endpoint (`deliveryId`,
    /// `endpointId`; README "Webhook endpoints"). `endpoint_disabled`: whether its endpoint is
    /// disabled by a 410 now. A held delivery ([`held_reason`]) shows no `nextAttemptAt`.
    fn item(&self, endpoint_disabled: bool) -> Value {
        let held = held_reason(
            &self.state,
            self.next_attempt_at,
            endpoint_disabled,
            self.endpoint_id.is_none(),
            self.last_error.as_deref(),
        );
        let next_attempt_at = match (&held, self.state.as_str()) {
            (None, "pending") => self.next_attempt_at.map(rfc3339),
            _ => None,
        };
        let mut v = serde_json::Map::new();
        if self.endpoint_id.is_some() {
            v.insert("deliveryId".into(), json!(self.id));
        }
        v.insert("eventId".into(), json!(self.event_id));
        if let Some(ep) = &self.endpoint_id {
            v.insert("endpointId".into(), json!(ep));
        }
        let common = json!({
            "eventType": self.kind,
            "recordId": self.record_id,
            "state": self.state,
            "attemptCount": self.attempt_count,
            "nextAttemptAt": next_attempt_at,
            "createdAt": rfc3339(self.created_at),
            "deliveredAt": self.delivered_at.map(rfc3339),
            "lastError": self.last_error,
            "heldReason": held,
        });
        if let Value::Object(m) = common {
            v.extend(m);
        }
        Value::Object(v)
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

    fn row(state: &str, next_attempt_at: Option<i64>, last_error: Option<&str>) -> ListedRow {
        ListedRow {
            seq: 1,
            id: "dlv_1".into(),
            event_id: "evt_1".into(),
            endpoint_id: Some("we_1".into()),
            kind: "record.modified".into(),
            record_id: Some("ats_ass_1".into()),
            state: state.into(),
            attempt_count: 1,
            next_attempt_at,
            created_at: 0,
            delivered_at: None,
            last_error: last_error.map(str::to_string),
        }
    }

    #[test]
    fn a_delivery_held_by_a_disabled_endpoint_shows_no_due_time_and_says_why() {
        let v = row(
            "pending",
            Some(5),
            Some("HTTP 410: endpoint disabled until its url is updated"),
        )
        .item(true);
        assert_eq!(v["nextAttemptAt"], Value::Null);
        let why = v["heldReason"].as_str().unwrap();
        assert!(
            why.contains("disabled") && why.contains("410") && why.contains("PATCH"),
            "{why}"
        );
        // The same delivery once its endpoint is re-enabled: due, not held.
        let v = row("pending", Some(5), None).item(false);
        assert_eq!(v["nextAttemptAt"], "1970-01-01T00:00:00.005Z");
        assert_eq!(v["heldReason"], Value::Null);
        // The tenant's webhook is named as such.
        let webhook = held_reason("pending", Some(5), true, true, None).unwrap();
        assert!(webhook.contains("webhook.url"), "{webhook}");
    }

    #[test]
    fn a_delivery_waiting_for_an_earlier_event_says_which() {
        let note = "waiting for evt_0, an earlier event of the same record, to be delivered to endpoint we_1 or fail";
        let v = row("pending", None, Some(note)).item(false);
        assert_eq!(v["nextAttemptAt"], Value::Null);
        assert_eq!(v["heldReason"], note);
        assert_eq!(v["deliveryId"], "dlv_1");
        assert_eq!(v["endpointId"], "we_1");
    }

    #[test]
    fn finished_deliveries_are_never_held() {
        for state in ["delivered", "failed"] {
            for disabled in [false, true] {
                let v = row(state, None, Some("x")).item(disabled);
                assert_eq!(v["heldReason"], Value::Null, "{state}");
                assert_eq!(v["nextAttemptAt"], Value::Null, "{state}");
            }
        }
    }

    #[test]
    fn an_event_item_has_no_delivery_or_endpoint_id() {
        let mut r = row("pending", Some(5), None);
        r.endpoint_id = None;
        r.id = "evt_1".into();
        let v = r.item(false);
        assert!(v.get("deliveryId").is_none() && v.get("endpointId").is_none());
        assert_eq!(v["eventId"], "evt_1");
    }
}
