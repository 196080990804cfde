//! Small helpers between our types and `worker::Response`.

use serde_json::Value;
use worker::{Headers, Response};

use crate::error::ApiError;

pub const MAX_BODY: usize = 256 * 1024;

pub fn json(status: u16, body: &Value) -> Response {
    raw_json(status, body.to_string())
}

pub fn raw_json(status: u16, body: String) -> Response {
    let headers = Headers::new();
    let _ = headers.set("content-type", "application/json; charset=utf-8");
    let _ = headers.set("cache-control", "no-store");
    Response::builder()
        .with_status(status)
        .with_headers(headers)
        .fixed(body.into_bytes())
}

pub fn empty(status: u16) -> Response {
    Response::builder().with_status(status).empty()
}

/// Carries the error code next to the body, so the front door can log it without parsing
/// answers that come back from the tenant object.
pub const H_ERROR_CODE: &str = "x-error-code";

/// The answer for an error: the response boundary. An internal fault's detail is logged here,
/// once, as one JSON line (README "Observability"); it never reaches the body.
pub fn error(e: &ApiError) -> Response {
    if let Some(detail) = &e.detail {
        worker::console_error!(
            "{}",
            serde_json::json!({"msg": "internal error", "code": e.code, "detail": detail})
        );
    }
    let resp = raw_json(e.status, e.body());
    let _ = resp.headers().set(H_ERROR_CODE, e.code);
    if let Some(challenge) = e.challenge {
        let _ = resp.headers().set("www-authenticate", challenge);
    }
    if let Some(allow) = &e.allow {
        let _ = resp.headers().set("allow", allow);
    }
    resp
}

/// Add a header to a response whose headers may be immutable (answers from the tenant
/// object are): copy the headers into a fresh set around the same body.
pub fn with_header(resp: Response, name: &str, value: &str) -> Response {
    if resp.headers().set(name, value).is_ok() {
        return resp;
    }
    let status = resp.status_code();
    let headers = Headers::new();
    for (k, v) in resp.headers().entries() {
        let _ = headers.append(&k, &v);
    }
    let _ = headers.set(name, value);
    let (_, body) = resp.into_parts();
    Response::builder()
        .with_status(status)
        .with_headers(headers)
        .body(body)
}
