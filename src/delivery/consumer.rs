//! Queue consumer for `DELIVERIES` (retries) and `DELIVERIES_DLQ` (messages given up on).

use worker::{Context, Env, MessageBatch, Result};

pub async fn handle_queue(
    batch: MessageBatch<serde_json::Value>,
    _env: Env,
    _ctx: Context,
) -> Result<()> {
    batch.ack_all();
    Ok(())
}
