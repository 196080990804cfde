//! The delivery engine's pure parts and its I/O edges: from "an event was committed" or "a
//! result must go back to the ATS" to "the endpoint took it". `state` (the one state machine
//! of every delivery), `sign`, `schedule`, the classification in `attempt` and the reading of
//! an ATS's answer in `answer` are pure and host-tested; `send` performs one fetch;
//! `consumer` is the queue handler. The engine that drives deliveries (rows, leases, the
//! attempt path, the alarm sweep) lives in the tenant Durable Object (`tenant/engine/`), with
//! its two channels: webhooks (`tenant/outbox/`) and provider calls (`tenant/provider_calls/`).

pub mod answer;
pub mod attempt;
pub mod consumer;
pub mod schedule;
pub mod send;
pub mod sign;
pub mod state;

use serde::{Deserialize, Serialize};

/// The body of a `DELIVERIES` message. The attempt number travels in the body because the
/// SDK's `Message` has no attempts counter; it also lets the tenant object drop stale copies.
/// On the wire the fields keep their one-letter names (`{"t","e","n","k"}`), so messages
/// queued by an earlier build still read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct QueueMsg {
    /// Tenant id (`t`).
    #[serde(rename = "t")]
    pub tenant: String,
    /// What it delivers (`e`): the event id (webhooks), the outbound call id (provider calls)
    /// or the delivery id (`dlv_…`, extra endpoints).
    #[serde(rename = "e")]
    pub id: String,
    /// The attempt number this message performs (`n`; 1-based, counted over the delivery's
    /// life).
    #[serde(rename = "n")]
    pub attempt: i64,
    /// What to deliver (`k`).
    #[serde(default, rename = "k")]
    pub kind: MsgKind,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MsgKind {
    /// A delivery to the tenant's `webhook` (`id` is the event id).
    #[default]
    Webhook,
    /// An outbound call to an ATS (`id` is the call id).
    Provider,
    /// A delivery to one of the tenant's extra endpoints (`id` is the delivery id, `dlv_…`).
    Endpoint,
}

/// Cloudflare Queues delay messages by at most 12 hours.
pub const MAX_QUEUE_DELAY_SECS: i64 = 43_200;

/// Seconds to ask the queue to wait so that a message arrives at `at_ms` (never early by more
/// than the rounding; longer waits are re-queued on arrival).
pub fn queue_delay_secs(at_ms: i64, now_ms: i64) -> u32 {
    let ms = (at_ms - now_ms).max(0);
    ((ms + 999) / 1000).min(MAX_QUEUE_DELAY_SECS) as u32
}

/// How long past its due time a pending event may sit before the alarm sweep re-enqueues it.
/// Short schedules (tests) get a short grace; production waits up to 30 s for the queue.
pub fn sweep_grace_ms(schedule: &[u32]) -> i64 {
    let first = schedule.first().copied().unwrap_or(5) as i64 * 1000;
    first.clamp(2_000, 30_000)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queue_message_round_trip() {
        let m: QueueMsg = serde_json::from_str(r#"{"t":"acme","e":"evt_1","n":2}"#).unwrap();
        assert_eq!(m.kind, MsgKind::Webhook);
        assert_eq!(
            (m.tenant.as_str(), m.id.as_str(), m.attempt),
            ("acme", "evt_1", 2)
        );
        let back = serde_json::to_string(&m).unwrap();
        // The wire keeps the one-letter names.
        assert_eq!(back, r#"{"t":"acme","e":"evt_1","n":2,"k":"webhook"}"#);
        assert_eq!(serde_json::from_str::<QueueMsg>(&back).unwrap(), m);
        assert!(serde_json::from_str::<QueueMsg>(r#"{"t":"acme"}"#).is_err());
    }

    #[test]
    fn delays() {
        assert_eq!(queue_delay_secs(1_500, 0), 2);
        assert_eq!(queue_delay_secs(0, 10), 0);
        assert_eq!(queue_delay_secs(100 * 3600 * 1000, 0), 43_200);
        assert_eq!(sweep_grace_ms(&[1, 1]), 2_000);
        assert_eq!(sweep_grace_ms(&[5, 30]), 5_000);
        assert_eq!(sweep_grace_ms(&[600]), 30_000);
        assert_eq!(sweep_grace_ms(&[]), 5_000);
    }
}
