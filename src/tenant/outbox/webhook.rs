//! Webhook deliveries as a channel of the delivery engine (`tenant/engine/`): what is sent
//! (the event's body, signed per Standard Webhooks with the endpoint's secret(s)), how the
//! answer is judged (`attempt::classify`: 2xx delivered, 410 disables the endpoint, anything
//! else retried on the schedule), and where the outcome is shown (the `attempts` log, the
//! endpoint's disabled flag, the record's next held delivery).

use serde_json::json;
use worker::{Method, SqlStorageValue as V};

use super::order::RecordHead;
use super::{DeliveryRow, Lane, Outbox, Target};
use crate::admin::tenants::TenantSecrets;
use crate::delivery::attempt::{self, AttemptResult};
use crate::delivery::state::{self, Current, State, Transition};
use crate::error::{ApiResult, Context};
use crate::tenant::engine::leases::Scheduled;
use crate::tenant::engine::{waiting_note, Channel, Enqueue};
use crate::tenant::privacy::{self, ATTEMPTS_KEPT, ERASED_BODY};
use crate::tenant::{endpoints, now, store};

/// The webhook channel of one lane, signing with the tenant's secrets.
pub(super) struct WebhookChannel<'a> {
    pub(super) ob: &'a Outbox,
    pub(super) lane: Lane,
    pub(super) secrets: &'a TenantSecrets,
}

/// A delivery loaded for an attempt.
pub(super) struct Loaded {
    pub(super) row: DeliveryRow,
    /// Where it goes now.
    pub(super) target: Target,
    /// The event's body, sent as it is stored.
    pub(super) body: String,
    /// The earliest pending delivery of its record at the same endpoint (None: no record, or
    /// not looked up for an attempt `emit` claimed).
    pub(super) head: Option<RecordHead>,
}

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

impl Channel for WebhookChannel<'_> {
    type Item = Loaded;
    type Sent = AttemptResult;

    fn scheduled(&self) -> Scheduled<'_> {
        self.ob.scheduled(self.lane)
    }

    fn load(&self, id: &str) -> ApiResult<Option<Loaded>> {
        let Some(row) = self.ob.delivery(self.lane, id)? else {
            return Ok(None);
        };
        let Some(target) = self.ob.target(&row)? else {
            return Ok(None); // endpoint deleted: its pending deliveries failed with it
        };
        let body = self.ob.body(&row.event_id)?;
        let head = match &row.record_id {
            Some(r) => self
                .ob
                .record_head(self.lane, row.endpoint_id.as_deref(), r)?,
            None => None,
        };
        Ok(Some(Loaded {
            row,
            target,
            body,
            head,
        }))
    }

    fn current<'a>(&self, d: &'a Loaded) -> Current<'a> {
        Current {
            id: &d.row.id,
            state: State::parse(&d.row.state),
            attempt_count: d.row.attempt_count,
            lease_until: d.row.lease_until,
            // Erased: never sent again (README "Personal data").
            erased: privacy::is_erased_body(&d.body),
            record_head: d.head.as_ref().map(|h| h.delivery_id.as_str()),
            endpoint_disabled: d.target.disabled,
        }
    }

    fn due(&self, d: &Loaded) -> (Option<i64>, i64) {
        (d.row.next_attempt_at, d.row.cycle_retries)
    }

    async fn send(&self, d: &Loaded, _n: i64) -> AttemptResult {
        let t0 = now();
        let keys: Vec<&str> = match &d.target.secret {
            Some(s) => vec![s.as_str()],
            None => self.secrets.signing_secrets(t0),
        };
        // The webhook-id is the event's, the same at every endpoint and across retries.
        let headers = attempt::signed_headers(&keys, &d.row.event_id, &d.body, t0);
        attempt::send(
            Method::Post,
            &d.target.url,
            headers,
            Some(d.body.clone()),
            attempt::WEBHOOK_READ_CAP,
        )
        .await
    }

    fn judge(
        &self,
        d: &Loaded,
        r: &AttemptResult,
        t1: i64,
    ) -> ApiResult<(Transition, Option<String>)> {
        let next = attempt::classify(
            r,
            &self.ob.cfg.retry_schedule,
            d.row.cycle_retries as usize,
            t1,
            super::unit_random(),
        );
        let current_url = self.ob.target(&d.row)?.map(|t| t.url);
        let transition = state::after_attempt(
            next,
            current_url.as_deref().is_none_or(|u| u == d.target.url),
        );
        let failed = || {
            r.error().or_else(|| {
                r.status
                    .filter(|s| !(200..300).contains(s))
                    .map(|s| format!("HTTP {s}"))
            })
        };
        let error = match &transition {
            Transition::Delivered => None,
            Transition::Failed | Transition::RetryAt(_) => failed(),
            Transition::Disable => Some(
                match self.lane {
                    Lane::Webhook => "HTTP 410: endpoint disabled until webhook.url is updated",
                    Lane::Endpoint => "HTTP 410: endpoint disabled until its url is updated",
                }
                .to_string(),
            ),
            // The 410 came from a URL the endpoint has replaced since: the new one is not
            // disabled by it; the delivery is tried there now.
            Transition::Retarget => Some("HTTP 410 from the endpoint's previous URL".to_string()),
        };
        Ok((transition, error))
    }

    fn show(
        &self,
        d: &Loaded,
        n: i64,
        t0: i64,
        r: &AttemptResult,
        transition: &Transition,
        t1: i64,
    ) -> ApiResult<Vec<Enqueue>> {
        let ob = self.ob;
        let row = &d.row;
        // The attempt's record; an event erased while this attempt was in flight keeps no
        // snippet (decided in the same statement).
        ob.sql
            .exec(
                "INSERT OR REPLACE INTO attempts (event_id, n, at, status, latency_ms, error, response, kind) VALUES (?, ?, ?, ?, ?, ?, CASE WHEN EXISTS (SELECT 1 FROM events WHERE id = ? AND body = ?) THEN NULL ELSE ? END, ?)",
                vec![
                    row.id.clone().into(),
                    V::Integer(n),
                    V::Integer(t0),
                    r.status.map(|s| V::Integer(s as i64)).unwrap_or(V::Null),
                    V::Integer(r.latency_ms),
                    r.error().into(),
                    row.event_id.clone().into(),
                    ERASED_BODY.into(),
                    r.snippet().into(),
                    attempt_kind(r).into(),
                ],
            )
            .context("record attempt")?;
        // Bounded storage: the first attempt and the latest ones are kept; `attempt_count`
        // stays exact.
        if let Some((lo, hi)) = privacy::attempts_to_drop(n, ATTEMPTS_KEPT) {
            ob.sql
                .exec(
                    "DELETE FROM attempts WHERE event_id = ? AND n BETWEEN ? AND ?",
                    vec![row.id.clone().into(), V::Integer(lo), V::Integer(hi)],
                )
                .context("cap attempts")?;
        }
        // One structured line per attempt; no URL, body or error text (they can carry tokens).
        worker::console_log!(
            "{}",
            json!({
                "msg": "delivery attempt",
                "tenant": ob.tenant,
                "eventId": row.event_id,
                "endpoint": row.endpoint_id.as_deref().unwrap_or(endpoints::WEBHOOK),
                "eventType": row.kind,
                "attempt": n,
                "status": r.status,
                "latencyMs": r.latency_ms,
                "outcome": transition.outcome(),
            })
        );
        if *transition == Transition::Disable {
            match &row.endpoint_id {
                None => {
                    let mut cfg = store::read_config(&ob.sql, &ob.config_cache)?;
                    cfg.webhook_disabled = true;
                    cfg.updated_at = t1;
                    store::write_config(&ob.sql, &ob.config_cache, &cfg)?;
                }
                Some(ep) => endpoints::set_disabled(&ob.sql, ep, true, t1)?,
            }
            worker::console_warn!(
                "{}",
                json!({"msg": "webhook endpoint answered 410; disabled", "tenant": ob.tenant, "endpoint": row.endpoint_id.as_deref().unwrap_or(endpoints::WEBHOOK)})
            );
        }
        let mut enqueue = Vec::new();
        if transition.releases_next() {
            if let Some((id, next_n)) = ob.release_next(row, t1)? {
                enqueue.push((id, next_n, t1));
            }
        }
        Ok(enqueue)
    }

    /// A held delivery names the event it waits for and, at an extra endpoint, the endpoint.
    fn waiting_note(&self, d: &Loaded, behind: &str) -> String {
        let event = d
            .head
            .as_ref()
            .filter(|h| h.delivery_id == behind)
            .map_or(behind, |h| h.event_id.as_str());
        waiting_note(event, d.row.endpoint_id.as_deref())
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
