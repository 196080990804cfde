//! One delivery attempt: what happened on the wire (`AttemptResult`), the pure classification
//! of a webhook delivery's outcome into "delivered / retry at / disable / failed", and the
//! signed headers of a Standard Webhooks request. The fetch itself is `send.rs`; how an ATS's
//! answer to a provider call is read is `answer.rs` (both re-exported here).

use worker::Headers;

pub use super::answer::{
    answer_by_status, answer_from_status, classify_provider_call, ProviderAnswer, ProviderFault,
};
use super::schedule;
pub use super::send::{send, send_with_timeout};

/// Request timeout for webhook and provider calls (docs/contract.md "Delivery").
pub const TIMEOUT_MS: u64 = 15_000;
/// Attempts record at most this much of the response body (README "Webhooks you receive").
/// Only the record is cut: callers that need an answer's content read it in full up to their
/// own cap.
pub const RESPONSE_SNIPPET: usize = 2048;
/// How much of an answer a webhook delivery reads: the receiver's answer only matters for the
/// attempt record.
pub const WEBHOOK_READ_CAP: usize = RESPONSE_SNIPPET;
/// How much of an ATS's answer to a result call is read (answer envelopes are a few hundred
/// bytes; a larger answer is not one an ATS sends on success).
pub const PROVIDER_READ_CAP: usize = 256 * 1024;

/// Why an attempt got no HTTP answer. Every failure carries one, so nothing is told apart by
/// its latency or by a missing status alone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailureKind {
    /// No answer within the timeout (`TIMEOUT_MS`, or the caller's).
    Timeout,
    /// Connection refused or reset, DNS failure, or a body that broke off.
    Network,
    /// The runtime refused to build the request (e.g. an unusable URL).
    InvalidRequest,
}

impl FailureKind {
    /// The snake_case name shown in sync states and logs.
    pub fn as_str(self) -> &'static str {
        match self {
            FailureKind::Timeout => "timeout",
            FailureKind::Network => "network",
            FailureKind::InvalidRequest => "invalid_request",
        }
    }
}

/// What happened on the wire.
#[derive(Debug, Clone, PartialEq)]
pub struct AttemptResult {
    /// HTTP status, or None when `failure` says why no answer came.
    pub status: Option<u16>,
    pub latency_ms: i64,
    /// Set exactly when `status` is None: the kind of failure and a human detail.
    pub failure: Option<(FailureKind, String)>,
    /// The answer's body, read in full up to the caller's cap (lossy UTF-8).
    pub body: String,
    /// The body was longer than the cap; `body` holds its first bytes only.
    pub body_over_cap: bool,
    pub retry_after: Option<String>,
    /// The `Link` header (cursor paging of read APIs, README "Order enrichment").
    pub link: Option<String>,
}

impl AttemptResult {
    /// A failure with no HTTP answer.
    pub fn failed(kind: FailureKind, latency_ms: i64, detail: impl Into<String>) -> Self {
        AttemptResult {
            status: None,
            latency_ms,
            failure: Some((kind, detail.into())),
            body: String::new(),
            body_over_cap: false,
            retry_after: None,
            link: None,
        }
    }

    /// The failure's text, for attempt records (None when an answer arrived).
    pub fn error(&self) -> Option<String> {
        self.failure.as_ref().map(|(_, d)| d.clone())
    }

    /// What the attempt record keeps of the answer: its first 2 KB (docs/contract.md "Delivery").
    pub fn snippet(&self) -> Option<String> {
        self.status.map(|_| snippet(&self.body))
    }
}

/// What to do next.
#[derive(Debug, Clone, PartialEq)]
pub enum Next {
    Delivered,
    /// Receiver answered 410 Gone: stop sending to this endpoint until it is re-enabled.
    Disable,
    /// Try again at this time (ms).
    RetryAt(i64),
    /// Schedule exhausted.
    Failed,
}

/// Decide the next step. `retries_done` counts retries already made in this delivery cycle
/// (0 after the first attempt); `unit` ∈ [0,1) drives the ±20 % jitter.
pub fn classify(
    r: &AttemptResult,
    schedule_secs: &[u32],
    retries_done: usize,
    now_ms: i64,
    unit: f64,
) -> Next {
    match r.status {
        Some(s) if (200..300).contains(&s) => return Next::Delivered,
        Some(410) => return Next::Disable,
        _ => {}
    }
    let Some(mut delay) = schedule::retry_delay_ms(schedule_secs, retries_done + 1, unit) else {
        return Next::Failed;
    };
    if matches!(r.status, Some(429) | Some(503)) {
        if let Some(ra) = r
            .retry_after
            .as_deref()
            .and_then(|v| schedule::retry_after_ms(v, now_ms))
        {
            delay = delay.max(ra);
        }
    }
    Next::RetryAt(now_ms + delay)
}

/// `User-Agent` of every outbound request (some ATSs' CDNs refuse empty ones).
pub const USER_AGENT: &str = concat!("ats-bridge/", env!("CARGO_PKG_VERSION"));

/// Headers of a Standard Webhooks request: `webhook-id`, `webhook-timestamp` (seconds of this
/// attempt) and one `v1,` signature per active secret (the current one first).
pub fn signed_headers(secrets: &[&str], msg_id: &str, body: &str, now_ms: i64) -> Headers {
    let ts = now_ms / 1000;
    let keys: Vec<Vec<u8>> = secrets
        .iter()
        .copied()
        .filter_map(super::sign::secret_bytes)
        .collect();
    let headers = Headers::new();
    let _ = headers.set("content-type", "application/json");
    let _ = headers.set("user-agent", USER_AGENT);
    let _ = headers.set("webhook-id", msg_id);
    let _ = headers.set("webhook-timestamp", &ts.to_string());
    let _ = headers.set(
        "webhook-signature",
        &super::sign::signature_header(&keys, msg_id, ts, body),
    );
    headers
}

/// Cut a response body to at most 2 KB on a character boundary (what attempt records keep).
pub fn snippet(body: &str) -> String {
    cut(body, RESPONSE_SNIPPET)
}

/// The first `max` bytes of `s`, on a character boundary.
pub(super) fn cut(s: &str, max: usize) -> String {
    let mut end = max.min(s.len());
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    s[..end].to_string()
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;

    pub(in crate::delivery) fn res(
        status: Option<u16>,
        retry_after: Option<&str>,
    ) -> AttemptResult {
        AttemptResult {
            status,
            latency_ms: 1,
            failure: status
                .is_none()
                .then(|| (FailureKind::Network, "network error".to_string())),
            body: String::new(),
            body_over_cap: false,
            retry_after: retry_after.map(String::from),
            link: None,
        }
    }

    #[test]
    fn classification() {
        let s = [10u32, 20];
        assert_eq!(
            classify(&res(Some(200), None), &s, 0, 0, 0.5),
            Next::Delivered
        );
        assert_eq!(
            classify(&res(Some(204), None), &s, 0, 0, 0.5),
            Next::Delivered
        );
        assert_eq!(
            classify(&res(Some(410), None), &s, 0, 0, 0.5),
            Next::Disable
        );
        assert_eq!(
            classify(&res(Some(500), None), &s, 0, 0, 0.5),
            Next::RetryAt(10_000)
        );
        assert_eq!(
            classify(&res(Some(302), None), &s, 0, 0, 0.5),
            Next::RetryAt(10_000)
        );
        assert_eq!(
            classify(&res(None, None), &s, 1, 0, 0.5),
            Next::RetryAt(20_000)
        );
        assert_eq!(classify(&res(Some(500), None), &s, 2, 0, 0.5), Next::Failed);
        // Retry-After pushes the next attempt out, never earlier than the schedule.
        assert_eq!(
            classify(&res(Some(429), Some("60")), &s, 0, 0, 0.5),
            Next::RetryAt(60_000)
        );
        assert_eq!(
            classify(&res(Some(503), Some("1")), &s, 0, 0, 0.5),
            Next::RetryAt(10_000)
        );
        // Only 429/503 carry meaning for Retry-After.
        assert_eq!(
            classify(&res(Some(500), Some("60")), &s, 0, 0, 0.5),
            Next::RetryAt(10_000)
        );
    }

    #[test]
    fn snippets() {
        assert_eq!(snippet("short"), "short");
        let long = "é".repeat(2000);
        let s = snippet(&long);
        assert!(s.len() <= RESPONSE_SNIPPET);
        assert!(s.chars().all(|c| c == 'é'));
    }
}
