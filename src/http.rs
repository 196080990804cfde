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

pub fn error(e: &ApiError) -> Response {
    let resp = raw_json(e.status, e.body());
    if e.basic_challenge {
        let _ = resp
            .headers()
            .set("www-authenticate", "Basic realm=\"ats-bridge\"");
    }
    resp
}
