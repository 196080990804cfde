//! One error type for every answer the bridge refuses. It renders the docs/contract.md "Bad input"
//! shape
//! `{"error":{"code","message"}}` (or a provider's own, [`ErrorShape`]) and never sends
//! internals: an internal fault keeps what failed in `detail`, which the response boundary
//! (`http::error`) logs once and never renders. Every error code is in [`code`].

use serde_json::json;

/// An error answer: HTTP status, a stable snake_case code and a human sentence.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    pub status: u16,
    pub code: &'static str,
    pub message: String,
    /// The body's shape (a provider's edge may answer in its own, see [`ErrorShape`]).
    pub shape: ErrorShape,
    /// The `WWW-Authenticate` challenge to send (edge 401s: the provider's scheme, see
    /// [`EdgeAuth`]).
    pub challenge: Option<&'static str>,
    /// The `Allow` header of a 405: the methods the endpoint accepts (`GET, POST`).
    pub allow: Option<String>,
    /// What failed, for the log (internal faults only; never rendered).
    pub detail: Option<String>,
}

pub mod code;

impl ApiError {
    pub fn new(status: u16, code: &'static str, message: impl Into<String>) -> Self {
        ApiError {
            status,
            code,
            message: message.into(),
            shape: ErrorShape::Bridge,
            challenge: None,
            allow: None,
            detail: None,
        }
    }

    pub fn bad_json(detail: impl std::fmt::Display) -> Self {
        Self::new(
            400,
            code::MALFORMED_JSON,
            format!("The request body is not valid JSON: {detail}."),
        )
    }
    pub fn unauthorized_admin() -> Self {
        Self::new(
            401,
            code::UNAUTHORIZED,
            "A valid `Authorization: Bearer <ADMIN_TOKEN>` header is required.",
        )
    }
    /// The one edge 401 of a provider whose ATS authenticates as `auth` says: the same for
    /// unknown tenants, wrong providers and bad keys, so a caller cannot learn which tenants
    /// exist. Its message and `WWW-Authenticate` challenge name the scheme the ATS must use.
    pub fn unauthorized_edge(auth: EdgeAuth) -> Self {
        let mut e = Self::new(401, code::UNAUTHORIZED, auth.message());
        e.challenge = Some(auth.challenge());
        e
    }
    /// The one 401 of a link that is its own credential (`what`: `"cancel link"`, README
    /// "Authentication"): the same for a missing, malformed or unknown token and an unknown
    /// tenant.
    /// It names the link, never an `Authorization` header (such a link needs none), and sends
    /// no `WWW-Authenticate` challenge (no header scheme would help).
    pub fn invalid_link(what: &str) -> Self {
        Self::new(
            401,
            code::INVALID_LINK,
            format!("This {what} is invalid: its token is missing, altered or unknown. Use the link exactly as it was given."),
        )
    }
    pub fn not_found(what: &str) -> Self {
        Self::new(
            404,
            code::NOT_FOUND,
            format!("No {what} with that id exists."),
        )
    }
    pub fn route_not_found() -> Self {
        Self::new(404, code::ROUTE_NOT_FOUND, "No such endpoint.")
    }
    /// 405 for an endpoint that exists; `allowed` lists its methods (`"GET, POST"`) and is
    /// sent as the `Allow` header too (RFC 9110 requires it on a 405).
    pub fn method_not_allowed(allowed: &str) -> Self {
        let mut e = Self::new(
            405,
            code::METHOD_NOT_ALLOWED,
            format!("This endpoint accepts {allowed} only."),
        );
        e.allow = Some(allowed.to_string());
        e
    }
    pub fn conflict(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(409, code, message)
    }
    pub fn too_large(limit: usize) -> Self {
        Self::new(
            413,
            code::PAYLOAD_TOO_LARGE,
            format!("The request body exceeds {} KB.", limit / 1024),
        )
    }
    /// A missing or invalid field: 422 naming the field.
    pub fn invalid_field(field: &str, why: &str) -> Self {
        Self::new(422, code::INVALID_FIELD, format!("`{field}` {why}."))
    }
    pub fn admin_disabled() -> Self {
        Self::new(
            503,
            code::ADMIN_DISABLED,
            "The admin API is disabled because ADMIN_TOKEN is not configured.",
        )
    }
    pub fn upstream(message: impl Into<String>) -> Self {
        Self::new(502, code::UPSTREAM_FAILED, message)
    }
    /// A fault inside the bridge, with what failed (`"read keys: <runtime error>"`) for the
    /// log; the caller gets only the generic 500.
    pub fn internal_because(detail: impl Into<String>) -> Self {
        let mut e = Self::internal();
        e.detail = Some(detail.into());
        e
    }

    /// Something went wrong inside the bridge. The detail goes to the log, not to the caller;
    /// the status stays 4xx-free only where docs/contract.md "Bad input" allows, so this is
    /// reserved for real faults.
    pub fn internal() -> Self {
        Self::new(
            500,
            code::INTERNAL_ERROR,
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

/// How an error body looks. A provider declares the shape its ATS shows to users (docs/contract.md
/// "Bad input"; docs/adding-an-ats.md); everything else answers in the bridge's own.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorShape {
    /// `{"error":{"code","message"}}` (docs/contract.md "Bad input").
    Bridge,
    /// `{"message"}` for validation failures (422) only; other statuses keep the bridge's.
    ValidationMessage,
    /// `{"errors":["…"]}` for every 4xx.
    ErrorList,
}

/// How an ATS presents the bridge key on the edge (a provider's `Spec::edge_auth`): it
/// words the edge 401 and picks its `WWW-Authenticate` challenge (RFC 9110 §11.6.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EdgeAuth {
    /// HTTP Basic with the key as username (RFC 7617).
    Basic,
    /// `Authorization: Bearer <token>`: the key itself or a signed token carrying it
    /// (RFC 6750).
    Bearer,
}

impl EdgeAuth {
    /// The 401's sentence.
    pub fn message(self) -> &'static str {
        match self {
            EdgeAuth::Basic => {
                "Missing or invalid API key. Send HTTP Basic auth with the key as username."
            }
            EdgeAuth::Bearer => {
                "Missing or invalid API key. Send it as `Authorization: Bearer <token>`."
            }
        }
    }

    /// The `WWW-Authenticate` header value.
    pub fn challenge(self) -> &'static str {
        match self {
            EdgeAuth::Basic => "Basic realm=\"ats-bridge\"",
            EdgeAuth::Bearer => "Bearer realm=\"ats-bridge\"",
        }
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}: {}", self.status, self.code, self.message)?;
        match &self.detail {
            Some(d) => write!(f, " ({d})"),
            None => Ok(()),
        }
    }
}

pub type ApiResult<T> = Result<T, ApiError>;

/// A runtime failure (storage, KV, bindings, fetch) reaching `?` without more context is an
/// internal fault; its text is kept for the log.
impl From<worker::Error> for ApiError {
    fn from(e: worker::Error) -> Self {
        ApiError::internal_because(format!("runtime: {e}"))
    }
}

/// `?` with context: `.context("read keys")?` turns any failure into an internal fault whose
/// logged detail says what was being done (`"read keys: <error>"`).
pub trait Context<T> {
    fn context(self, what: &str) -> ApiResult<T>;
}

impl<T, E: std::fmt::Display> Context<T> for Result<T, E> {
    fn context(self, what: &str) -> ApiResult<T> {
        self.map_err(|e| ApiError::internal_because(format!("{what}: {e}")))
    }
}

impl<T> Context<T> for Option<T> {
    fn context(self, what: &str) -> ApiResult<T> {
        self.ok_or_else(|| ApiError::internal_because(format!("{what}: missing")))
    }
}

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
    fn internal_faults_keep_their_context_out_of_the_body() {
        let r: Result<(), String> = Err("disk on fire".into());
        let e = r.context("save config").unwrap_err();
        assert_eq!((e.status, e.code), (500, code::INTERNAL_ERROR));
        assert_eq!(e.detail.as_deref(), Some("save config: disk on fire"));
        assert!(!e.body().contains("disk"), "{}", e.body());
        assert!(e.to_string().ends_with("(save config: disk on fire)"));
        let none: Option<u8> = None;
        assert_eq!(
            none.context("secrets").unwrap_err().detail.as_deref(),
            Some("secrets: missing")
        );
        let w: ApiError = worker::Error::RustError("boom".into()).into();
        assert_eq!(w.status, 500);
        assert!(w.detail.unwrap().contains("boom"));
    }

    /// Error codes are snake_case, unique, and nothing outside error/ and the providers'
    /// files spells one out.
    #[test]
    fn codes_live_in_one_place() {
        let all = [
            code::MALFORMED_JSON,
            code::UNREADABLE_BODY,
            code::UNAUTHORIZED,
            code::INVALID_LINK,
            code::NOT_FOUND,
            code::ROUTE_NOT_FOUND,
            code::METHOD_NOT_ALLOWED,
            code::TENANT_EXISTS,
            code::ASSESSMENT_FINAL,
            code::PAYLOAD_TOO_LARGE,
            code::INVALID_FIELD,
            code::INVALID_CONFIGURATION,
            code::CREDENTIALS_REJECTED,
            code::CONNECT_LINK_USED,
            code::UPSTREAM_FAILED,
            code::ADMIN_DISABLED,
            code::INTERNAL_ERROR,
        ];
        let unique: std::collections::BTreeSet<_> = all.iter().collect();
        assert_eq!(unique.len(), all.len());
        for c in all {
            assert!(
                c.bytes().all(|b| b.is_ascii_lowercase() || b == b'_'),
                "{c}"
            );
        }
        // Every source file but the catalogue and this one: providers declare only their own codes, never
        // spell out the catalogue's.
        fn sources(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
            for entry in std::fs::read_dir(dir).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    sources(&path, out);
                } else if path.extension().is_some_and(|e| e == "rs") {
                    out.push(path);
                }
            }
        }
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
        let mut files = Vec::new();
        sources(&root, &mut files);
        assert!(files.len() > 20, "{files:?}");
        for path in files
            .iter()
            .filter(|p| !p.ends_with("error/code.rs") && !p.ends_with("error/mod.rs"))
        {
            let file = path.strip_prefix(&root).unwrap().display();
            let text = std::fs::read_to_string(path).unwrap();
            // The code, not its tests (which assert the wire value).
            let text = text.split("#[cfg(test)]").next().unwrap();
            for c in all {
                assert!(
                    !text.contains(&format!("\"{c}\"")),
                    "{file} spells out the code {c}; use error::code"
                );
            }
        }
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
        let e = ApiError::unauthorized_edge(EdgeAuth::Basic).shaped(ErrorShape::ErrorList);
        assert_eq!(
            e.body(),
            r#"{"errors":["Missing or invalid API key. Send HTTP Basic auth with the key as username."]}"#
        );
        assert!(ApiError::internal()
            .shaped(ErrorShape::ErrorList)
            .body()
            .starts_with(r#"{"error""#));
    }

    #[test]
    fn the_edge_401_names_the_scheme_the_ats_uses() {
        let basic = ApiError::unauthorized_edge(EdgeAuth::Basic);
        assert_eq!(basic.challenge, Some("Basic realm=\"ats-bridge\""));
        assert!(basic.message.contains("HTTP Basic"));
        let bearer = ApiError::unauthorized_edge(EdgeAuth::Bearer);
        assert_eq!(bearer.challenge, Some("Bearer realm=\"ats-bridge\""));
        assert!(bearer.message.contains("Bearer"), "{}", bearer.message);
        assert!(!bearer.message.contains("Basic"), "{}", bearer.message);
        assert_eq!((bearer.status, bearer.code), (401, code::UNAUTHORIZED));
        assert_eq!(ApiError::internal().challenge, None);
    }

    #[test]
    fn a_link_401_names_the_link_not_a_header() {
        let e = ApiError::invalid_link("cancel link");
        assert_eq!((e.status, e.code), (401, code::INVALID_LINK));
        assert!(
            e.message.contains("cancel link is invalid"),
            "{}",
            e.message
        );
        for header_advice in ["Bearer", "Basic", "Authorization", "API key"] {
            assert!(!e.message.contains(header_advice), "{}", e.message);
        }
        assert_eq!(e.challenge, None);
    }
}
