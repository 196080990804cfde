//! The provider calls an edge operation or a result causes: stored in the caller's
//! transaction, attempted right after the answer, retried by the delivery engine (README
//! "Results back to the ATS").

use serde_json::{json, Value};

use crate::admin::tenants::Credentials;
use crate::error::{ApiError, ApiResult};
use crate::model::Provider;
use crate::providers::OutboundCall;
use crate::tenant::provider_calls::NewCall;
use crate::tenant::Tenant;

impl Tenant {
    /// Store a provider's outbound calls for one assessment (in the caller's synchronous
    /// block, so they commit with what caused them); their ids, in order.
    pub(in crate::tenant) fn store_calls(
        &self,
        provider: Provider,
        assessment_id: &str,
        outbound: Vec<OutboundCall>,
        t: i64,
    ) -> ApiResult<Vec<String>> {
        if outbound.is_empty() {
            return Ok(Vec::new());
        }
        let calls = self.provider_calls()?;
        outbound
            .into_iter()
            .map(|c| {
                calls.insert(
                    NewCall {
                        assessment_id: assessment_id.to_string(),
                        provider,
                        label: c.label,
                        method: c.method,
                        url: c.url,
                        body: c.body,
                    },
                    t,
                )
            })
            .collect()
    }

    /// Attempt stored calls once right after the answer (in `wait_until`), with `creds`;
    /// the delivery engine retries what fails.
    pub(in crate::tenant) fn send_after_answer(
        &self,
        call_ids: Vec<String>,
        creds: Credentials,
    ) -> ApiResult<()> {
        if call_ids.is_empty() {
            return Ok(());
        }
        let calls = self.provider_calls()?;
        let auth = move |p: Provider| creds.authorization(p);
        self.state.wait_until(async move {
            for call_id in call_ids {
                calls.attempt(&call_id, None, &auth).await;
            }
        });
        Ok(())
    }
}

/// The assessment's sync state (`providerSync`, README "Results back to the ATS") when the
/// provider refused to build its calls at all: failed, no attempts, the refusal's code and
/// message, at `t` (ms).
pub(super) fn sync_failure(call: &str, e: &ApiError, t: i64) -> Value {
    json!({"state": "failed", "call": call,
        "attempts": 0, "lastStatus": null,
        "error": {"code": e.code, "message": e.message},
        "updatedAt": crate::model::rfc3339(t)})
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_refused_call_shows_as_failed_without_attempts() {
        let e = ApiError::invalid_field("callbackUrl", "is missing");
        assert_eq!(
            sync_failure("X cancellation", &e, 0),
            json!({"state": "failed", "call": "X cancellation", "attempts": 0,
                "lastStatus": null,
                "error": {"code": "invalid_field", "message": "`callbackUrl` is missing."},
                "updatedAt": "1970-01-01T00:00:00.000Z"})
        );
    }
}
