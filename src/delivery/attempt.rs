//! One delivery attempt: a signed POST with a 15 s timeout and no redirect following, and
//! the pure classification of its outcome into "delivered / retry at / disable / failed".

use futures_util::StreamExt;
use wasm_bindgen_futures::JsFuture;
use worker::{AbortSignal, Fetch, Headers, Method, Request, RequestInit, RequestRedirect};

use super::schedule;

/// Request timeout for webhook and provider calls (SPEC §8).
pub const TIMEOUT_MS: u64 = 15_000;
/// Attempts record at most this much of the response body (SPEC §8). Only the record is cut:
/// callers that need an answer's content read it in full up to their own cap.
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

    /// What the attempt record keeps of the answer: its first 2 KB (SPEC §8).
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

/// An HTTP status a provider call may retry on (SPEC §9): 429 and 5xx. Network errors and
/// timeouts retry too; any other answer is the provider's to judge (see `ProviderAnswer`).
pub fn is_transient_status(status: u16) -> bool {
    status == 429 || status >= 500
}

/// What an ATS's answer to an outbound result call means. Each provider decides this for its
/// own answers (SPEC §20: a body that is not what that ATS sends on success is not a success),
/// in a pure function in its file, named by its `Spec::call_answer`.
#[derive(Debug, Clone, PartialEq)]
pub enum ProviderAnswer {
    /// The ATS took the update; `warnings` it attached are kept on the assessment's sync state.
    Accepted { warnings: Vec<String> },
    /// Worth another attempt on the retry schedule (429, 5xx).
    Transient(ProviderFault),
    /// Refused for good: not retried, shown on the assessment.
    Refused(ProviderFault),
}

/// The plain HTTP reading of an answer, for ATSs whose answer is only a status code (a
/// completion callback) and as the fallback for answers an ATS's own format does not
/// explain: 2xx accepted, 429/5xx transient, anything else (3xx included) refused.
pub fn answer_from_status(status: u16, body: &str) -> ProviderAnswer {
    let fault = || ProviderFault {
        code: None,
        message: match snippet(body.trim()) {
            b if b.is_empty() => format!("HTTP {status}"),
            b => format!("HTTP {status}: {b}"),
        },
        request_id: None,
    };
    match status {
        200..=299 => ProviderAnswer::Accepted { warnings: vec![] },
        s if is_transient_status(s) => ProviderAnswer::Transient(fault()),
        _ => ProviderAnswer::Refused(fault()),
    }
}

/// `answer_from_status` in the shape of `Spec::call_answer`, for ATSs whose answer is only
/// its status code.
pub fn answer_by_status(status: u16, body: &str, _complete: bool) -> ProviderAnswer {
    answer_from_status(status, body)
}

/// The next step of a provider call: `answer` is the provider's reading of the HTTP answer
/// (None when none arrived: network error or timeout, retried). Transient failures follow the
/// retry schedule (and `Retry-After`) until it is exhausted; refusals are final.
pub fn classify_provider_call(
    r: &AttemptResult,
    answer: Option<&ProviderAnswer>,
    schedule_secs: &[u32],
    retries_done: usize,
    now_ms: i64,
    unit: f64,
) -> Next {
    match answer {
        Some(ProviderAnswer::Accepted { .. }) => Next::Delivered,
        Some(ProviderAnswer::Refused(_)) => Next::Failed,
        Some(ProviderAnswer::Transient(_)) | None => {
            // `classify` treats a 2xx as delivered; a transient answer never is.
            let as_failure = AttemptResult {
                status: r.status.filter(|s| !(200..300).contains(s)),
                ..r.clone()
            };
            match classify(&as_failure, schedule_secs, retries_done, now_ms, unit) {
                Next::Delivered | Next::Disable => Next::Failed,
                n => n,
            }
        }
    }
}

/// An ATS's account of a failed call: its own code, message and request id when it sent them.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ProviderFault {
    /// The ATS's error code (e.g. `errorInfo.code` in an answer envelope).
    pub code: Option<String>,
    /// A human sentence: the ATS's message, or what was wrong with its answer.
    pub message: String,
    /// The ATS's request id (e.g. `errorInfo.requestId`), for its support desk.
    pub request_id: Option<String>,
}

/// Cut a response body to at most 2 KB on a character boundary (what attempt records keep).
pub fn snippet(body: &str) -> String {
    cut(body, RESPONSE_SNIPPET)
}

/// Send one request. Never follows redirects; aborts after `TIMEOUT_MS`; reads at most
/// `read_cap` bytes of the answer.
pub async fn send(
    method: Method,
    url: &str,
    headers: Headers,
    body: Option<String>,
    read_cap: usize,
) -> AttemptResult {
    send_with_timeout(method, url, headers, body, TIMEOUT_MS, read_cap).await
}

/// `send` with another timeout (the vendor's `packages_url` gets 10 s).
pub async fn send_with_timeout(
    method: Method,
    url: &str,
    headers: Headers,
    body: Option<String>,
    timeout_ms: u64,
    read_cap: usize,
) -> AttemptResult {
    let started = worker::Date::now().as_millis() as i64;
    let elapsed = || worker::Date::now().as_millis() as i64 - started;
    let mut init = RequestInit::new();
    init.with_method(method)
        .with_headers(headers)
        .with_redirect(RequestRedirect::Manual);
    if let Some(b) = body {
        init.with_body(Some(b.into()));
    }
    let req = match Request::new_with_init(url, &init) {
        Ok(r) => r,
        Err(e) => {
            return AttemptResult::failed(
                FailureKind::InvalidRequest,
                elapsed(),
                format!("invalid request: {e}"),
            )
        }
    };
    // The runtime's own timeout signal aborts the request and the body read alike; cheaper
    // than racing a timer future against the fetch.
    let signal = AbortSignal::from(web_sys::AbortSignal::timeout_with_u32(timeout_ms as u32));
    let outcome = async {
        let resp = Fetch::Request(req).send_with_signal(&signal).await?;
        let status = resp.status_code();
        let retry_after = resp.headers().get("retry-after").ok().flatten();
        let link = resp.headers().get("link").ok().flatten();
        let declared = resp
            .headers()
            .get("content-length")
            .ok()
            .flatten()
            .and_then(|l| l.trim().parse::<usize>().ok());
        // The status line counts even if the body then breaks off.
        let (text, over) = read_capped(resp, declared, read_cap).await;
        Ok::<_, worker::Error>((status, retry_after, link, text, over))
    }
    .await;
    match outcome {
        Ok((status, retry_after, link, body, body_over_cap)) => AttemptResult {
            status: Some(status),
            latency_ms: elapsed(),
            failure: None,
            body,
            body_over_cap,
            retry_after,
            link,
        },
        Err(_) if signal.aborted() => AttemptResult::failed(
            FailureKind::Timeout,
            elapsed(),
            format!("timed out after {} s", timeout_ms / 1000),
        ),
        Err(e) => AttemptResult::failed(
            FailureKind::Network,
            elapsed(),
            format!("network error: {e}"),
        ),
    }
}

/// Read an answer's body up to `cap` bytes: (text, whether it was longer). A body whose
/// declared length fits is read natively in one call (the runtime's `Response.text()`, invalid
/// UTF-8 becoming U+FFFD); any other is streamed and cut at the cap, so a huge answer never
/// fills memory.
async fn read_capped(
    mut resp: worker::Response,
    declared: Option<usize>,
    cap: usize,
) -> (String, bool) {
    if declared.is_some_and(|len| len <= cap) {
        let raw: web_sys::Response = resp.into();
        let text = match raw.text() {
            Ok(p) => JsFuture::from(p).await.ok().and_then(|v| v.as_string()),
            Err(_) => None,
        };
        let text = text.unwrap_or_default();
        let over = text.len() > cap;
        return (if over { cut(&text, cap) } else { text }, over);
    }
    let Ok(mut stream) = resp.stream() else {
        return (String::new(), false); // no body (e.g. 204)
    };
    let mut buf: Vec<u8> = Vec::new();
    let mut over = false;
    while let Some(chunk) = stream.next().await {
        let Ok(chunk) = chunk else { break };
        if buf.len() + chunk.len() > cap {
            buf.extend_from_slice(&chunk[..cap - buf.len()]);
            over = true;
            break;
        }
        buf.extend_from_slice(&chunk);
    }
    (String::from_utf8_lossy(&buf).into_owned(), over)
}

/// The first `max` bytes of `s`, on a character boundary.
fn cut(s: &str, max: usize) -> String {
    let mut end = max.min(s.len());
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    s[..end].to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn res(status: Option<u16>, retry_after: Option<&str>) -> AttemptResult {
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
    fn provider_call_classification() {
        let s = [10u32];
        let c = |st: Option<u16>| {
            let answer = st.map(|s| answer_from_status(s, ""));
            classify_provider_call(&res(st, None), answer.as_ref(), &s, 0, 0, 0.5)
        };
        assert_eq!(c(Some(204)), Next::Delivered);
        assert_eq!(c(Some(500)), Next::RetryAt(10_000));
        assert_eq!(c(Some(429)), Next::RetryAt(10_000));
        assert_eq!(c(None), Next::RetryAt(10_000));
        assert_eq!(c(Some(401)), Next::Failed);
        assert_eq!(c(Some(403)), Next::Failed);
        assert_eq!(c(Some(404)), Next::Failed);
        assert_eq!(c(Some(410)), Next::Failed);
        assert_eq!(c(Some(302)), Next::Failed, "redirects are not followed");
        assert_eq!(
            classify_provider_call(
                &res(Some(503), None),
                Some(&answer_from_status(503, "")),
                &s,
                1,
                0,
                0.5
            ),
            Next::Failed
        );
        // The provider's reading wins over the status: a 200 it refuses is final, a 200 it
        // calls transient is retried, and Retry-After still stretches the wait.
        let refused = ProviderAnswer::Refused(ProviderFault::default());
        assert_eq!(
            classify_provider_call(&res(Some(200), None), Some(&refused), &s, 0, 0, 0.5),
            Next::Failed
        );
        let transient = ProviderAnswer::Transient(ProviderFault::default());
        assert_eq!(
            classify_provider_call(&res(Some(200), None), Some(&transient), &s, 0, 0, 0.5),
            Next::RetryAt(10_000)
        );
        assert_eq!(
            classify_provider_call(&res(Some(429), Some("60")), Some(&transient), &s, 0, 0, 0.5),
            Next::RetryAt(60_000)
        );
    }

    #[test]
    fn status_answers() {
        assert_eq!(
            answer_from_status(204, ""),
            ProviderAnswer::Accepted { warnings: vec![] }
        );
        match answer_from_status(403, "nope") {
            ProviderAnswer::Refused(f) => assert_eq!(f.message, "HTTP 403: nope"),
            other => panic!("{other:?}"),
        }
        match answer_from_status(502, "") {
            ProviderAnswer::Transient(f) => assert_eq!(f.message, "HTTP 502"),
            other => panic!("{other:?}"),
        }
        // What the record keeps is cut; the body itself is not.
        let long = "x".repeat(5000);
        match answer_from_status(400, &long) {
            ProviderAnswer::Refused(f) => assert!(f.message.len() < 2100),
            other => panic!("{other:?}"),
        }
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
