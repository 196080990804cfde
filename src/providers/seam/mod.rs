//! The provider seam (docs/adding-an-ats.md): what one ATS declares about itself.
//! A provider is a `static SPEC: Spec` in its own file; routing, edge authentication, the
//! tenant object, results, the admin API's credential fields, the OpenAPI parity test and the
//! fuzz seeds read these declarations and never name an ATS.

mod handlers;
mod outbound;
mod read_api;

pub use handlers::*;
pub use outbound::*;
pub use read_api::*;

use std::collections::BTreeMap;

use serde_json::Value;

use super::setup::{CredentialCheck, SetupGuide};
use crate::delivery::attempt::ProviderAnswer;
use crate::error::{ApiError, ApiResult, EdgeAuth, ErrorShape};
use crate::model::{CandidateAssessment, Catalogue, Package, ResultUpdate, Status};
use crate::routes::Method;
use crate::targets::AllowedHost;

/// Everything the bridge knows about one ATS.
// `title` and `facts` are declared for `GET /v1/providers` (README "What the recruiter sees"),
// which publishes them;
// `fixtures` are read by the tests.
#[allow(dead_code)]
pub struct Spec {
    /// The provider's name: URL segment, `provider` value in the API and events.
    pub name: &'static str,
    /// The ATS's name for people ("Greenhouse"), used in messages.
    pub title: &'static str,
    /// Prefix of the inbound keys issued for it (`gh_`), so a key pasted into the wrong ATS
    /// is refused before any lookup (README "Authentication").
    pub key_prefix: &'static str,
    /// Where the ATS calls the bridge.
    pub surface: Surface,
    /// The edge operations, each with its route and handler.
    pub operations: &'static [Operation],
    /// How its edge answers 4xx errors.
    pub error_shape: ErrorShape,
    /// How its ATS presents the key (HTTP Basic or a bearer token): the edge 401's message
    /// and `WWW-Authenticate` challenge (README "Authentication").
    pub edge_auth: EdgeAuth,
    /// The bridge keys a request presents (candidates; the front door filters by prefix and
    /// length, hashes them, and the tenant object compares hashes). Empty: 401.
    pub extract_keys: fn(&Inbound) -> Vec<String>,
    /// Request headers (lower-case) forwarded to the handlers besides the body and query.
    pub forward_headers: &'static [&'static str],
    /// Per-tenant credentials for result write-back: `PATCH /v1/tenants/{t}` takes
    /// `{"<name>": {"<field>": "…" | null}}`; `GET` shows them (secret ones as `<field>_set`).
    pub credentials: &'static [CredentialField],
    /// Deployment variables it reads (README "Configuration").
    pub settings: &'static [Setting],
    /// The credential header value of its outbound calls; None: no credentials.
    pub authorization: fn(&CredentialSource) -> Option<String>,
    /// The header `authorization` goes in: `authorization` for most ATSs (Recruitee:
    /// `RT-PARTNER-SECRET`).
    pub authorization_header: &'static str,
    /// The hosts the ATS's own URLs must be on when insecure targets are off (its callback
    /// URLs, its API base), checked with `targets::check_outbound` when an order or a setting
    /// names one and again before a call: `SubdomainOf("ats.example")` for
    /// `https://<subdomain>.ats.example`. Empty: any public host.
    pub outbound_hosts: &'static [AllowedHost],
    /// Fixed headers on every outbound call besides `Authorization`, `User-Agent`, `Accept`
    /// and `Content-Type`.
    pub call_headers: &'static [(&'static str, &'static str)],
    /// What the ATS's answer to one of its outbound calls means (docs/contract.md "Results and
    /// provider calls": decided by each provider, not by the HTTP status alone): `(status, body,
    /// complete)`, `complete` false when the body was cut at `attempt::PROVIDER_READ_CAP`.
    pub call_answer: fn(u16, &str, bool) -> ProviderAnswer,
    /// How an accepted result becomes outbound call(s). Called before anything is stored: an
    /// `Err` (422) refuses the result; an empty list sends nothing.
    pub write_back: fn(&WriteBack) -> ApiResult<Vec<OutboundCall>>,
    /// Outbound call(s) right after an order is committed (Recruitee: mark the report `sent`
    /// with the bridge's cancel URL). None: nothing. An `Err` does not undo the order; it is
    /// shown on the assessment's sync state.
    pub after_order: Option<AfterOrder>,
    /// When the idempotency key of an order is released.
    pub idempotency: Idempotency,
    /// What `GET /v1/providers` will publish about it.
    pub facts: Facts,
    /// Recorded requests (`fixtures/<name>/`): the unit tests' and fuzzers' seed corpus.
    pub fixtures: &'static [Fixture],
    /// What the customer connect page says (README "Connect links").
    pub setup: &'static SetupGuide,
    /// How credentials entered on the connect page are checked with the ATS before they are
    /// stored (`setup::no_credential_check` when they cannot be).
    pub credential_check: CredentialCheckFn,
    /// The ATS's read API, when the bridge reads more about an order there after placing it
    /// and lists the customer's jobs (README "Order enrichment"); None for most ATSs.
    pub read_api: Option<&'static ReadApi>,
}

/// (the connect page's fields as (name, value), deployment settings) → the check to make.
pub type CredentialCheckFn = fn(&[(&'static str, String)], &Settings) -> Option<CredentialCheck>;

/// The two edge surfaces (README "What the ATSs call"; docs/architecture.md "The pieces").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Surface {
    /// `/t/{tenant}/{provider}/{operation}`: the customer pastes a per-tenant URL into the ATS.
    TenantScoped,
    /// `/p/{provider}/{operation}`: one URL for the whole vendor; the tenant comes from the
    /// presented key, which embeds it (`secrets::new_partner_key`).
    PartnerLevel,
}

/// One edge operation: route and behaviour.
pub struct Operation {
    /// The last path segment (`send_test`, `assessment.start`).
    pub segment: &'static str,
    pub method: Method,
    pub handler: Handler,
}

impl Operation {
    /// Whether the front door reads a body for it (every non-GET operation).
    pub fn takes_body(&self) -> bool {
        self.method != Method::Get
    }
}

/// What an edge handler sees of the request. (`tenant`, `headers` and `settings` are for
/// providers that verify signed requests or tokens, docs/adding-an-ats.md.)
#[allow(dead_code)]
pub struct EdgeRequest<'a> {
    /// The tenant the request belongs to.
    pub tenant: &'a str,
    pub body: &'a [u8],
    /// The raw query string, without `?`.
    pub query: Option<&'a str>,
    /// The provider's `forward_headers` that were present (lower-case names).
    pub headers: &'a [(String, String)],
    /// `ALLOW_INSECURE_TARGETS` (README "Configuration").
    pub allow_insecure: bool,
    pub settings: &'a Settings,
}

impl EdgeRequest<'_> {
    /// The body as JSON; 400 `malformed_json` when empty or invalid.
    pub fn json(&self) -> ApiResult<Value> {
        if self.body.is_empty() {
            return Err(ApiError::bad_json("the body is empty"));
        }
        serde_json::from_slice(self.body).map_err(ApiError::bad_json)
    }
    /// A forwarded header's value.
    #[allow(dead_code)]
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
    /// A query parameter's value (first occurrence, percent-decoded).
    pub fn query_param(&self, name: &str) -> Option<String> {
        let q = crate::admin::query::pairs(self.query);
        crate::admin::query::get(&q, name).map(str::to_string)
    }
}

/// A parsed order.
pub struct Order {
    /// One active assessment per key (per provider): a repeated order gets the same id.
    pub idempotency_key: String,
    /// Build the normalized assessment (see [`Normalize`]).
    pub normalize: Normalize,
}

/// (new assessment id, tenant id, the tenant's catalogue: packages if known and the default
/// order kind) → the normalized assessment.
pub type Normalize = Box<dyn FnOnce(&str, &str, Catalogue<'_>) -> CandidateAssessment>;

/// What a status answer is rendered from.
pub struct StatusView {
    pub status: Status,
    pub result: Option<ResultUpdate>,
}

/// An error the ATS reported about a call of ours.
pub struct ReportedError {
    /// The assessment it concerns, if the ATS named one we know.
    pub assessment_id: Option<String>,
    /// The `providerError` object of the event (the bridge adds `provider` and `receivedAt`).
    pub detail: Value,
}

/// When an order's idempotency key is released.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Idempotency {
    /// Held for good (e.g. keyed on a callback URL that never repeats for a new order).
    KeyHeldForever,
    /// Freed once a final result is accepted, so a new order with the same key can start.
    KeyFreedWhenFinal,
}

/// What an inbound request presents, for `extract_keys` (`header` and `settings` serve
/// providers whose key travels in a signed token, docs/adding-an-ats.md).
#[allow(dead_code)]
pub struct Inbound<'a> {
    pub authorization: Option<&'a str>,
    pub header: &'a dyn Fn(&str) -> Option<String>,
    pub settings: &'a Settings,
}

/// What the ATS does with a result: published by `GET /v1/providers` (README "What the
/// recruiter sees") and read by the pre-flight (`providers::preflight`), so both say the same.
pub struct Facts {
    /// Where the recruiter sees each result field: (field of the `POST …/result` body, where
    /// the ATS shows it). A field of the body not listed here is dropped (pre-flight warning).
    pub result_fields: &'static [(&'static str, &'static str)],
    /// Other limits the ATS imposes: (what, limit), for people.
    pub limits: &'static [(&'static str, &'static str)],
    /// Bridge status → the ATS's word for it.
    pub status_mapping: &'static [(Status, &'static str)],
    /// How the ATS takes `score`.
    pub score: ScoreShape,
    /// Most attachments the ATS shows; 0: it cannot show any.
    pub attachments: usize,
    /// Whether a final result, once sent, can still be changed through the bridge: what
    /// `POST …/result` does after a final one (README "What the recruiter sees"). Today every
    /// ATS's is `false`: a second final result is refused with 409 `assessment_final`
    /// (`tenant::results::accept`, whose unit test keeps the two equal).
    pub final_result_changeable: bool,
    /// How many levels of nesting the ATS shows in a result's `metadata`: 0 = flat labels only
    /// (a nested value is flattened to dotted labels, `a.b`, `list.0`; see
    /// `model::flatten_metadata`), 1 = one level (deeper values are sent as JSON text).
    /// Pre-flight warns for every entry it reshapes.
    pub metadata_levels: u8,
}

/// How an ATS takes a result's `score`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScoreShape {
    /// A JSON number, as sent (no range).
    Number,
    /// A number from 0 to 100: `score / max_score × 100` (as sent without `max_score`), so
    /// a score outside `0..=max_score` (or `0..=100` without one) is refused with 422.
    Percent,
    /// Free text: `score/max_score`, e.g. `87.5/100`.
    Text,
}

impl ScoreShape {
    /// Its name in `GET /v1/providers` (`number`, `percent`, `text`).
    pub fn as_str(self) -> &'static str {
        match self {
            ScoreShape::Number => "number",
            ScoreShape::Percent => "percent",
            ScoreShape::Text => "text",
        }
    }
}

/// One recorded request of an operation (read by the tests).
#[cfg_attr(not(test), allow(dead_code))]
pub struct Fixture {
    /// The operation's `segment`.
    pub operation: &'static str,
    /// The query string (empty when none).
    pub query: &'static str,
    /// The body (empty when none).
    pub body: &'static str,
}
