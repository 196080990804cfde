//! The delivery engine: from "an event was committed" to "the partner's webhook got it".
//! `sign` and `schedule` are pure; `attempt` performs one signed fetch; `consumer` is the
//! queue handler. The outbox itself lives in the tenant Durable Object (`tenant.rs`).

pub mod consumer;
pub mod schedule;
pub mod sign;
