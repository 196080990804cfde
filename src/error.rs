//! One error type for every answer the bridge refuses. It renders the SPEC §5 shape
//! `{"error":{"code","message"}}` and never carries internals (stack traces, SQL, secrets).

use serde_json::json;

/// An error answer: HTTP status, a stable snake_case code and a human sentence.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    pub status: u16,
    pub code: &'static str,
    pub message: String,
    /// The body's shape (a provider's edge may answer in its own, see [`ErrorShape`]).
    pub shape: ErrorShape,
    /// Add `WWW-Authenticate: Basic` (edge 401s, SPEC §4).
    pub basic_challenge: bool,
}

impl ApiError {
    pub fn new(status: u16, code: &'static str, message: impl Into<String>) -> Self {
        ApiError {
            status,
            code,
            message: message.into(),
            shape: ErrorShape::Bridge,
            basic_challenge: false,
        }
    }

    pub fn bad_json(detail: impl std::fmt::Display) -> Self {
        Self::new(
            400,
            "malformed_json",
            format!("The request body is not valid JSON: {detail}."),
        )
    }
    pub fn unauthorized_admin() -> Self {
        Self::new(
            401,
            "unauthorized",
            "A valid `Authorization: Bearer <ADMIN_TOKEN>` header is required.",
        )
    }
    /// The one edge 401: the same for unknown tenants, wrong providers and bad keys, so a
    /// caller cannot learn which tenants exist.
    pub fn unauthorized_edge() -> Self {
        let mut e = Self::new(
            401,
            "unauthorized",
            "Missing or invalid API key. Send HTTP Basic auth with the key as username.",
        );
        e.basic_challenge = true;
        e
    }
    pub fn not_found(what: &str) -> Self {
        Self::new(404, "not_found", format!("No {what} with that id exists."))
    }
    pub fn route_not_found() -> Self {
        Self::new(404, "route_not_found", "No such endpoint.")
    }
    pub fn method_not_allowed(allowed: &str) -> Self {
        Self::new(
            405,
            "method_not_allowed",
            format!("This endpoint accepts {allowed} only."),
        )
    }
    pub fn conflict(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(409, code, message)
    }
    pub fn too_large(limit: usize) -> Self {
        Self::new(
            413,
            "payload_too_large",
            format!("The request body exceeds {} KB.", limit / 1024),
        )
    }
    /// A missing or invalid field: 422 naming the field.
    pub fn invalid_field(field: &str, why: &str) -> Self {
        Self::new(422, "invalid_field", format!("`{field}` {why}."))
    }
    pub fn unsupported_media() -> Self {
        Self::new(
            415,
            "unsupported_media_type",
            "Send the body as JSON (Content-Type: application/json).",
        )
    }
    pub fn admin_disabled() -> Self {
        Self::new(
            503,
            "admin_disabled",
            "The admin API is disabled because ADMIN_TOKEN is not configured.",
        )
    }
    pub fn upstream(message: impl Into<String>) -> Self {
        Self::new(502, "upstream_failed", message)
    }
    /// Something went wrong inside the bridge. The detail goes to the log, not to the caller;
    /// the status stays 4xx-free only where the SPEC allows, so this is reserved for real faults.
    pub fn internal() -> Self {
        Self::new(
            500,
            "internal_error",
            "The bridge could not complete the request; it has been logged.",
        )
    }

    /// Render in a provider's shape where that shape applies to this status (see
    /// [`ErrorShape`]); otherwise unchanged.
    pub fn shaped(mut self, shape: ErrorShape) -> Self {
        let applies = match shape {
            ErrorShape::Bridge => false,
            ErrorShape::ValidationMessage => self.status == 422,
            ErrorShape::ErrorList => (400..500).contains(&self.status),
        };
        if applies {
            self.shape = shape;
        }
        self
    }

    pub fn body(&self) -> String {
        match self.shape {
            ErrorShape::Bridge => {
                json!({ "error": { "code": self.code, "message": self.message } }).to_string()
            }
            ErrorShape::ValidationMessage => json!({ "message": self.message }).to_string(),
            ErrorShape::ErrorList => json!({ "errors": [self.message] }).to_string(),
        }
    }
}

/// How an error body looks. A provider declares the shape its ATS shows to users (SPEC §12);
/// everything else answers in the bridge's own.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorShape {
    /// `{"error":{"code","message"}}` (README "Errors").
    Bridge,
    /// `{"message"}` for validation failures (422) only; other statuses keep the bridge's.
    ValidationMessage,
    /// `{"errors":["…"]}` for every 4xx.
    ErrorList,
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}: {}", self.status, self.code, self.message)
    }
}

pub type ApiResult<T> = Result<T, ApiError>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_spec_shape() {
        let e = ApiError::invalid_field("webhook.url", "must be an https URL");
        let v: serde_json::Value = serde_json::from_str(&e.body()).unwrap();
        assert_eq!(v["error"]["code"], "invalid_field");
        assert!(v["error"]["message"]
            .as_str()
            .unwrap()
            .contains("webhook.url"));
        assert_eq!(e.status, 422);
    }

    #[test]
    fn message_shape_only_for_validation() {
        let e = ApiError::invalid_field("candidate.email", "is required")
            .shaped(ErrorShape::ValidationMessage);
        assert_eq!(e.body(), r#"{"message":"`candidate.email` is required."}"#);
        let e = ApiError::not_found("assessment").shaped(ErrorShape::ValidationMessage);
        assert!(e.body().starts_with(r#"{"error""#));
    }

    #[test]
    fn error_list_shape_for_every_4xx() {
        let e = ApiError::unauthorized_edge().shaped(ErrorShape::ErrorList);
        assert_eq!(
            e.body(),
            r#"{"errors":["Missing or invalid API key. Send HTTP Basic auth with the key as username."]}"#
        );
        assert!(ApiError::internal()
            .shaped(ErrorShape::ErrorList)
            .body()
            .starts_with(r#"{"error""#));
    }
}
