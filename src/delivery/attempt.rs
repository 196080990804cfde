//! One delivery attempt: a signed POST with a 15 s timeout and no redirect following, and
//! the pure classification of its outcome into "delivered / retry at / disable / failed".

use wasm_bindgen_futures::JsFuture;
use worker::{AbortSignal, Fetch, Headers, Method, Request, RequestInit, RequestRedirect};

use super::schedule;

/// Request timeout for webhook and provider calls (SPEC §8).
pub const TIMEOUT_MS: u64 = 15_000;
/// Attempts record at most this much of the response body (SPEC §8).
pub const RESPONSE_SNIPPET: usize = 2048;

/// What happened on the wire.
#[derive(Debug, Clone, PartialEq)]
pub struct AttemptResult {
    /// HTTP status, or None for a network error / timeout.
    pub status: Option<u16>,
    pub latency_ms: i64,
    pub error: Option<String>,
    pub response: Option<String>,
    pub retry_after: Option<String>,
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

/// `User-Agent` of every outbound request (Ashby's CDN refuses empty ones).
pub const USER_AGENT: &str = concat!("ats-bridge/", env!("CARGO_PKG_VERSION"));

/// Headers of a Standard Webhooks request: `webhook-id`, `webhook-timestamp` (seconds of this
/// attempt) and one `v1,` signature per active secret (the current one first).
pub fn signed_headers(
    secrets: &crate::admin::tenants::TenantSecrets,
    msg_id: &str,
    body: &str,
    now_ms: i64,
) -> Headers {
    let ts = now_ms / 1000;
    let keys: Vec<Vec<u8>> = secrets
        .signing_secrets(now_ms)
        .into_iter()
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

/// Outbound provider calls (Greenhouse PATCH, Ashby `assessment.update`): 2xx done;
/// 429, 5xx and network errors retry on the schedule; any other answer is final (SPEC §9).
pub fn classify_provider_call(
    r: &AttemptResult,
    schedule_secs: &[u32],
    retries_done: usize,
    now_ms: i64,
    unit: f64,
) -> Next {
    match r.status {
        Some(s) if (200..300).contains(&s) => Next::Delivered,
        Some(s) if s == 429 || s >= 500 => classify(r, schedule_secs, retries_done, now_ms, unit),
        Some(_) => Next::Failed,
        None => classify(r, schedule_secs, retries_done, now_ms, unit),
    }
}

/// Cut a response body to at most 2 KB on a character boundary.
pub fn snippet(body: &str) -> String {
    if body.len() <= RESPONSE_SNIPPET {
        return body.to_string();
    }
    let mut end = RESPONSE_SNIPPET;
    while !body.is_char_boundary(end) {
        end -= 1;
    }
    body[..end].to_string()
}

/// Send one request. Never follows redirects; aborts after `TIMEOUT_MS`.
pub async fn send(
    method: Method,
    url: &str,
    headers: Headers,
    body: Option<String>,
) -> AttemptResult {
    send_with_timeout(method, url, headers, body, TIMEOUT_MS).await
}

/// `send` with another timeout (the vendor's `packages_url` gets 10 s).
pub async fn send_with_timeout(
    method: Method,
    url: &str,
    headers: Headers,
    body: Option<String>,
    timeout_ms: u64,
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
        Err(e) => return failure(elapsed(), format!("invalid request: {e}")),
    };
    // The runtime's own timeout signal aborts the request and the body read alike; cheaper
    // than racing a timer future against the fetch.
    let signal = AbortSignal::from(web_sys::AbortSignal::timeout_with_u32(timeout_ms as u32));
    let outcome = async {
        let resp = Fetch::Request(req).send_with_signal(&signal).await?;
        let status = resp.status_code();
        let retry_after = resp.headers().get("retry-after").ok().flatten();
        // The runtime's own Response.text() reads the body natively (invalid UTF-8 becomes
        // U+FFFD); the worker crate's reader pulls it through wasm chunk by chunk.
        let raw: web_sys::Response = resp.into();
        let text = match raw.text() {
            Ok(p) => JsFuture::from(p).await.ok().and_then(|v| v.as_string()),
            Err(_) => None,
        };
        // The status line counts even if the body then breaks off.
        let text = text.unwrap_or_default();
        Ok::<_, worker::Error>((status, retry_after, text))
    }
    .await;
    match outcome {
        Ok((status, retry_after, text)) => AttemptResult {
            status: Some(status),
            latency_ms: elapsed(),
            error: None,
            response: Some(snippet(&text)),
            retry_after,
        },
        Err(_) if signal.aborted() => failure(
            elapsed(),
            format!("timed out after {} s", timeout_ms / 1000),
        ),
        Err(e) => failure(elapsed(), format!("network error: {e}")),
    }
}

fn failure(latency_ms: i64, error: String) -> AttemptResult {
    AttemptResult {
        status: None,
        latency_ms,
        error: Some(error),
        response: None,
        retry_after: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn res(status: Option<u16>, retry_after: Option<&str>) -> AttemptResult {
        AttemptResult {
            status,
            latency_ms: 1,
            error: None,
            response: None,
            retry_after: retry_after.map(String::from),
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
        let c = |st| classify_provider_call(&res(st, None), &s, 0, 0, 0.5);
        assert_eq!(c(Some(204)), Next::Delivered);
        assert_eq!(c(Some(500)), Next::RetryAt(10_000));
        assert_eq!(c(Some(429)), Next::RetryAt(10_000));
        assert_eq!(c(None), Next::RetryAt(10_000));
        assert_eq!(c(Some(401)), Next::Failed);
        assert_eq!(c(Some(403)), Next::Failed);
        assert_eq!(c(Some(404)), Next::Failed);
        assert_eq!(c(Some(410)), Next::Failed);
        assert_eq!(
            classify_provider_call(&res(Some(503), None), &s, 1, 0, 0.5),
            Next::Failed
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
