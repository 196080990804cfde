//! Calls from this worker's own queue consumer (`/internal/deliver`, `/internal/dead-letter`):
//! a delivery's next attempt or its dead letter, for a webhook event or an outbound provider
//! call.

use serde_json::json;
use worker::Response;

use super::{Tenant, TenantRequest};
use crate::delivery::{MsgKind, QueueMsg};
use crate::error::{ApiError, ApiResult};
use crate::http;

impl Tenant {
    /// Calls from this worker's own queue consumer (never routed from the public internet:
    /// the front door only forwards `/v1` and `/t` paths).
    pub(super) async fn internal_call(
        &self,
        op: &str,
        call: &TenantRequest,
    ) -> ApiResult<Response> {
        let msg: QueueMsg = serde_json::from_slice(&call.body).map_err(ApiError::bad_json)?;
        if !self.exists() {
            return Err(ApiError::not_found("tenant"));
        }
        let ob = self.outbox()?;
        match op {
            "deliver" => {
                let next = match msg.kind {
                    MsgKind::Webhook | MsgKind::Endpoint => {
                        let secrets = self.load_secrets(&ob.tenant).await?;
                        ob.on_message(&msg, &secrets).await?;
                        ob.next_due()?
                    }
                    MsgKind::Provider => {
                        let calls = self.provider_calls()?;
                        let creds = self.credentials().await?;
                        calls.on_message(&msg, &|p| creds.authorization(p)).await?;
                        calls.next_due()?
                    }
                };
                if let Some(next) = next {
                    self.arm(next).await;
                }
            }
            "dead-letter" => match msg.kind {
                MsgKind::Webhook | MsgKind::Endpoint => ob.on_dead_letter(&msg)?,
                MsgKind::Provider => self.provider_calls()?.on_dead_letter(&msg)?,
            },
            _ => return Err(ApiError::route_not_found()),
        }
        Ok(http::json(200, &json!({"ok": true})))
    }
}
