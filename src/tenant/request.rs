//! The request as the tenant object gets it from the front door: method, path, query, the
//! bridge's public origin (`x-bridge-origin`), the presented key hashes (`x-bridge-key-hashes`),
//! the forwarded headers and the body.

use serde_json::Value;

use crate::error::{ApiError, ApiResult};
use crate::routes::Method;

/// What a handler needs from the incoming request.
pub(crate) struct TenantRequest {
    pub(super) method: Method,
    pub(super) path: String,
    pub(super) query: Option<String>,
    pub(super) origin: String,
    pub(super) key_hashes: Vec<String>,
    /// The request's headers (the front door forwards only what the provider declared).
    pub(super) headers: Vec<(String, String)>,
    pub(super) body: Vec<u8>,
}

impl TenantRequest {
    /// A request header's value (names compared case-insensitively).
    pub(super) fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
    pub(super) fn json(&self) -> ApiResult<Value> {
        if self.body.is_empty() {
            return Err(ApiError::bad_json("the body is empty"));
        }
        serde_json::from_slice(&self.body).map_err(ApiError::bad_json)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(body: &[u8]) -> TenantRequest {
        TenantRequest {
            method: Method::Post,
            path: "/v1/tenants".into(),
            query: None,
            origin: "https://b.example".into(),
            key_hashes: vec![],
            headers: vec![("Idempotency-Key".into(), "k1".into())],
            body: body.to_vec(),
        }
    }

    #[test]
    fn bodies_must_be_json_and_headers_match_any_case() {
        for bad in [&b""[..], b"{", b"not json"] {
            let e = request(bad).json().unwrap_err();
            assert_eq!(
                (e.status, e.code),
                (400, crate::error::code::MALFORMED_JSON)
            );
        }
        assert_eq!(request(br#"{"a":1}"#).json().unwrap()["a"], 1);
        let r = request(b"");
        assert_eq!(r.header("idempotency-key"), Some("k1"));
        assert_eq!(r.header("IDEMPOTENCY-KEY"), Some("k1"));
        assert_eq!(r.header("x-other"), None);
        assert_eq!((r.method, r.path.as_str()), (Method::Post, "/v1/tenants"));
        assert!(r.query.is_none() && r.key_hashes.is_empty() && !r.origin.is_empty());
    }
}
