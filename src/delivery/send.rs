//! Sending one request: never following redirects, aborted after the timeout, reading at
//! most a cap of the answer.

use futures_util::StreamExt;
use wasm_bindgen_futures::JsFuture;
use worker::{AbortSignal, Fetch, Headers, Method, Request, RequestInit, RequestRedirect};

use super::attempt::{cut, AttemptResult, FailureKind, TIMEOUT_MS};

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
        // The answer is the status line and its body (up to the cap): a body that breaks
        // off or does not arrive in time fails the attempt like a timeout or a network
        // error, to be retried, whatever the status said.
        let (text, over) = read_capped(resp, declared, read_cap).await.ok_or_else(|| {
            worker::Error::RustError(format!(
                "the answer broke off after its status line (HTTP {status})"
            ))
        })?;
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

/// Read an answer's body up to `cap` bytes: Some((text, whether it was longer)), or None when
/// the body broke off or was aborted (the timeout) before its end or the cap. A body whose
/// declared length fits is read natively in one call (the runtime's `Response.text()`, invalid
/// UTF-8 becoming U+FFFD); any other is streamed and cut at the cap, so a huge answer never
/// fills memory.
async fn read_capped(
    mut resp: worker::Response,
    declared: Option<usize>,
    cap: usize,
) -> Option<(String, bool)> {
    if declared.is_some_and(|len| len <= cap) {
        let raw: web_sys::Response = resp.into();
        let text = JsFuture::from(raw.text().ok()?).await.ok()?.as_string()?;
        let over = text.len() > cap;
        return Some((if over { cut(&text, cap) } else { text }, over));
    }
    let Ok(mut stream) = resp.stream() else {
        return Some((String::new(), false)); // no body (e.g. 204)
    };
    let mut buf: Vec<u8> = Vec::new();
    let mut over = false;
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.ok()?;
        if buf.len() + chunk.len() > cap {
            buf.extend_from_slice(&chunk[..cap - buf.len()]);
            over = true;
            break;
        }
        buf.extend_from_slice(&chunk);
    }
    Some((String::from_utf8_lossy(&buf).into_owned(), over))
}
