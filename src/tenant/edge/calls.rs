//! The provider calls an edge operation or a result causes: stored in the caller's
//! transaction, attempted right after the answer, retried by the delivery engine (README
//! "Results back to the ATS"; `Tenant::store_calls` and `Tenant::send_after_answer` are in
//! `tenant/provider_calls/`). Here: what the assessment shows when the provider refused to
//! build its calls.

use serde_json::{json, Value};

use crate::error::ApiError;

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
