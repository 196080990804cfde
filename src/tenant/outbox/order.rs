//! Order per record and endpoint (README "Webhooks you receive", "Order per record"): the earliest
//! pending delivery of a record at an endpoint is the one allowed to go; the others are held and
//! the end of that one releases the next.

use serde::Deserialize;
use worker::SqlStorageValue as V;

use super::{DeliveryRow, Lane, Outbox};
use crate::error::{ApiResult, Context};

/// The head of a record's pending deliveries at one endpoint.
#[derive(Deserialize)]
struct Head {
    id: String,
    event_id: String,
    attempt_count: i64,
    next_attempt_at: Option<i64>,
}

/// The earliest pending delivery of a record at one endpoint: its delivery id (the event id
/// on the webhook lane, `dlv_…` at an extra endpoint) and the event it carries (`evt_…`),
/// which is what a delivery held behind it names (README "Order per record").
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct RecordHead {
    pub(super) delivery_id: String,
    pub(super) event_id: String,
}

impl Outbox {
    /// The earliest pending delivery of a record at one endpoint (the one allowed to go).
    pub(super) fn record_head(
        &self,
        lane: Lane,
        endpoint_id: Option<&str>,
        record_id: &str,
    ) -> ApiResult<Option<RecordHead>> {
        Ok(self
            .record_heads(lane, endpoint_id, record_id)?
            .map(|h| RecordHead {
                delivery_id: h.id,
                event_id: h.event_id,
            }))
    }

    fn record_heads(
        &self,
        lane: Lane,
        endpoint_id: Option<&str>,
        record_id: &str,
    ) -> ApiResult<Option<Head>> {
        let rows: Vec<Head> = match lane {
            Lane::Webhook => self.sql.exec(
                "SELECT id, id AS event_id, attempt_count, next_attempt_at FROM events WHERE record_id = ? AND state = 'pending' ORDER BY seq LIMIT 1",
                vec![record_id.into()],
            ),
            Lane::Endpoint => self.sql.exec(
                "SELECT id, event_id, attempt_count, next_attempt_at FROM deliveries WHERE endpoint_id = ? AND record_id = ? AND state = 'pending' ORDER BY seq LIMIT 1",
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
    pub(super) fn release_next(
        &self,
        row: &DeliveryRow,
        t: i64,
    ) -> ApiResult<Option<(String, i64)>> {
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
}
