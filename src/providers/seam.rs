//! The provider seam (docs/adding-an-ats.md): what one ATS declares about itself.
//! A provider is a `static SPEC: Spec` in its own file; routing, edge authentication, the
//! tenant object, results, the admin API's credential fields, the OpenAPI parity test and the
//! fuzz seeds read these declarations and never name an ATS.

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

/// A provider's read API (README "Order enrichment"): OAuth client-credentials tokens, the
/// reads that complete an order's record, and a job listing. Pure functions; the tenant object
/// makes the requests (`tenant/enrich/`), caches tokens and honours `Retry-After`.
pub struct ReadApi {
    /// How the vendor configures it, completing "…'s read API is not configured for this
    /// tenant: " (the 422 of the job listing).
    pub not_configured: &'static str,
    /// The token request for the tenant's credentials. `None`: the tenant has not configured
    /// the read API; `Err`: a deployment setting is unusable (422).
    pub token_request: fn(&CredentialSource, bool) -> Option<ApiResult<TokenRequest>>,
    /// The token endpoint's answer (status, None when it did not answer; body) → the token,
    /// or a sentence saying what is wrong (for the enrichment `error` and the connect page).
    pub token_answer: fn(Option<u16>, &str) -> Result<IssuedToken, String>,
    /// The reads that complete `record` (None: the order gives nothing to look up).
    pub enrich: fn(&CandidateAssessment, &CredentialSource, bool) -> Option<Box<dyn EnrichRun>>,
    /// The listing request for one page of jobs (`status`, `cursor` from the admin API's
    /// query, validated here: 422 naming the parameter) → the URL to GET.
    pub jobs_request: JobsRequestFn,
    /// One page of the listing's answer → `{"data": […], "next_cursor"}`, or an `ApiError`
    /// (502 naming what the ATS refused).
    pub jobs_page: fn(&ReadAnswer) -> ApiResult<Value>,
}

/// (the tenant's credentials, the admin query's `(name, value)` pairs, `ALLOW_INSECURE_TARGETS`)
/// → the URL of one page of the job listing.
pub type JobsRequestFn = fn(&CredentialSource, &[(String, String)], bool) -> ApiResult<String>;

/// A token request: `POST {url}` with `Authorization: {authorization}` and a form body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenRequest {
    pub url: String,
    pub authorization: String,
    /// `application/x-www-form-urlencoded` body.
    pub form: String,
    /// What the token is cached under (a digest of the credentials, never a secret itself).
    pub cache_key: String,
}

/// An access token and its lifetime.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IssuedToken {
    pub access_token: String,
    /// Milliseconds from issue to expiry.
    pub expires_in_ms: i64,
}

/// One GET of a read API, sent with the bearer token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Read {
    pub url: String,
    /// How long its answer may be reused for this tenant (0: never), in ms. Users change
    /// rarely; an order's application and job are read fresh.
    pub cache_ms: i64,
}

/// The answer to a `Read` (or the token request).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReadAnswer {
    /// None: no answer (network error or timeout, see `error`).
    pub status: Option<u16>,
    pub body: String,
    /// The `Link` header (cursor paging).
    pub link: Option<String>,
    /// The `Retry-After` header as sent.
    pub retry_after: Option<String>,
    /// Why there is no answer.
    pub error: Option<String>,
}

/// The reads that complete one order's record: a small state machine the tenant object
/// drives. `next` gives the next GET (None: finished), `answer` takes its answer, `outcome`
/// says what the record gains so far (`finished`: false when the budget ended it early).
pub trait EnrichRun {
    fn next(&mut self) -> Option<Read>;
    fn answer(&mut self, answer: &ReadAnswer);
    fn outcome(&self, finished: bool) -> Enriched;
    /// Stop before (or between) reads for `why` (e.g. the token was refused): `next` gives
    /// None from now on and the outcome names `why`.
    fn give_up(&mut self, why: &str);
}

/// How long an order's `record.new` waits for enrichment before it goes out without it (README
/// "Order enrichment"): 3 s.
pub const ENRICH_BUDGET_MS: i64 = 3_000;

/// What enrichment adds to `candidateAssessment` (README "Webhooks you receive"): the
/// order-context values (as `model::context` JSON; None leaves the order's own value) and the
/// `enrichment` object.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Enriched {
    pub job_id: Option<String>,
    pub job: Option<Value>,
    pub hiring_team: Option<Value>,
    pub requester: Option<Value>,
    pub custom_fields: Option<Value>,
    pub enrichment: Value,
}

impl Enriched {
    /// Write it into a record: only the enrichment keys change.
    pub fn apply(&self, record: &mut CandidateAssessment) {
        if self.job_id.is_some() {
            record.job_id = self.job_id.clone();
        }
        for (slot, v) in [
            (&mut record.job, &self.job),
            (&mut record.hiring_team, &self.hiring_team),
            (&mut record.requester, &self.requester),
            (&mut record.custom_fields, &self.custom_fields),
        ] {
            if v.is_some() {
                *slot = v.clone();
            }
        }
        record.enrichment = Some(self.enrichment.clone());
    }
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

/// The kind of an operation with its functions; the tenant object has one match over it.
/// (`Config` and `Activation` are the kinds partner-level ATSs use, docs/adding-an-ats.md; no
/// registered provider has them yet.)
/// Every answer is `200` JSON with the rendered value; errors are `ApiError`s in the
/// provider's `error_shape`.
#[allow(dead_code)]
pub enum Handler {
    /// Answer the tenant's packages (sources in docs/contract.md "Admin API").
    ListPackages {
        render: fn(&EdgeRequest, &[Package]) -> ApiResult<Value>,
    },
    /// Place an order: store it and emit `record.new`, idempotent on the key.
    Order {
        parse: fn(&EdgeRequest) -> ApiResult<Order>,
        render: fn(&str) -> Value,
    },
    /// Report an assessment's status; `parse` gives its id, `not_found` names it in the 404.
    Status {
        parse: fn(&EdgeRequest) -> ApiResult<String>,
        not_found: &'static str,
        render: fn(&StatusView) -> Value,
    },
    /// Cancel an assessment (`record.deleted`). An assessment that was already final is left
    /// as it is (no event, no write-back): `render` gets its real status
    /// ([`Cancellation`]) and answers what happened, or refuses in the provider's error shape
    /// (e.g. Ashby's 422 `{"message"}` for an assessment that was already completed).
    Cancel {
        parse: fn(&EdgeRequest) -> ApiResult<String>,
        not_found: &'static str,
        render: fn(&Cancellation) -> ApiResult<Value>,
    },
    /// Cancel the one assessment a cancel link is bound to (README "Cancel links"): the
    /// request is authorized by the link's `token` query parameter, not by a provider key, and
    /// the bridge hands the link to the ATS itself (`PlacedOrder::cancel_url`). An assessment
    /// that was already final (a repeat included) is left as it is, without a second
    /// `record.deleted` or write-back; `render` gets its real status ([`Cancellation`]), and
    /// the link's page in a browser says it too (`web::CancelLinkPage`).
    CancelLink { render: fn(&Cancellation) -> Value },
    /// The ATS reports an error about a call of ours (`provider.error` event).
    ReportError {
        parse: fn(&EdgeRequest) -> ApiResult<ReportedError>,
        render: fn() -> Value,
    },
    /// A configuration form or document built from the tenant's packages.
    Config {
        /// What the vendor's `packages_url` is told about this request besides the tenant and
        /// the provider (e.g. Teamtailor's `job_id`, `stage_id`): merged into the body it is
        /// POSTed, and part of the 5-minute cache key. Empty: the plain question.
        context: fn(&EdgeRequest) -> Vec<(&'static str, String)>,
        render: fn(&EdgeRequest, &[Package]) -> ApiResult<Value>,
    },
    /// An activation form or check that needs no tenant data. `public`: answered by the front
    /// door without any credential or tenant (an ATS fetches it before the customer has a key;
    /// the request's `tenant` is empty); otherwise the key is checked like any edge call.
    Activation {
        render: fn(&EdgeRequest) -> ApiResult<Value>,
        public: bool,
    },
}

/// Operation kinds (docs/adding-an-ats.md "Checklist"), as `GET /v1/providers` and the docs name
/// them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OperationKind {
    ListPackages,
    Order,
    Status,
    Cancel,
    ReportError,
    Config,
    Activation,
}

impl OperationKind {
    pub fn as_str(self) -> &'static str {
        match self {
            OperationKind::ListPackages => "list_packages",
            OperationKind::Order => "order",
            OperationKind::Status => "status",
            OperationKind::Cancel => "cancel",
            OperationKind::ReportError => "report_error",
            OperationKind::Config => "config",
            OperationKind::Activation => "activation",
        }
    }
}

impl Handler {
    pub fn kind(&self) -> OperationKind {
        match self {
            Handler::ListPackages { .. } => OperationKind::ListPackages,
            Handler::Order { .. } => OperationKind::Order,
            Handler::Status { .. } => OperationKind::Status,
            Handler::Cancel { .. } | Handler::CancelLink { .. } => OperationKind::Cancel,
            Handler::ReportError { .. } => OperationKind::ReportError,
            Handler::Config { .. } => OperationKind::Config,
            Handler::Activation { .. } => OperationKind::Activation,
        }
    }

    /// Run only the request parser (no storage): what the fuzzers and fixture checks call.
    /// None when the kind parses nothing.
    #[cfg(test)]
    pub fn parse_only(&self, req: &EdgeRequest) -> Option<ApiResult<()>> {
        match self {
            Handler::Order { parse, .. } => Some(parse(req).map(|_| ())),
            Handler::Status { parse, .. } | Handler::Cancel { parse, .. } => {
                Some(parse(req).map(|_| ()))
            }
            Handler::ReportError { parse, .. } => Some(parse(req).map(|_| ())),
            Handler::ListPackages { .. }
            | Handler::Config { .. }
            | Handler::Activation { .. }
            | Handler::CancelLink { .. } => None,
        }
    }
}

impl Handler {
    /// Whether the handler reads nothing of the request (no body, no query): such an
    /// operation needs no fixture.
    #[cfg(test)]
    pub fn parse_only_reads_nothing(&self) -> bool {
        matches!(
            self,
            Handler::ListPackages { .. }
                | Handler::Config { .. }
                | Handler::Activation { .. }
                | Handler::CancelLink { .. }
        )
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

/// One credential field of a provider.
pub struct CredentialField {
    pub name: &'static str,
    /// Secret fields are kept in the `SECRETS` KV namespace and never shown.
    pub secret: bool,
    /// Longest accepted value, in characters (of each part, for an object).
    pub max_len: usize,
    /// The parts of an object-valued credential (`{"client_id", "client_secret", "user_id"?}`),
    /// stored as one JSON string; empty: the credential is a string.
    pub parts: &'static [CredentialPart],
}

/// One part of an object-valued credential.
pub struct CredentialPart {
    pub name: &'static str,
    pub required: bool,
    /// Digits only (a numeric id; a JSON number is accepted too).
    pub numeric: bool,
}

/// A deployment variable a provider reads.
pub struct Setting {
    pub env: &'static str,
    pub default: Option<&'static str>,
}

/// Deployment variables declared by providers, read once per isolate (`Config`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Settings(pub BTreeMap<String, String>);

impl Settings {
    pub fn get(&self, env: &str) -> Option<&str> {
        self.0.get(env).map(String::as_str)
    }
}

/// A provider's credentials for one tenant: its own field values and the deployment's
/// settings.
#[derive(Debug, Clone, Default)]
pub struct CredentialSource {
    pub values: BTreeMap<&'static str, String>,
    pub settings: Settings,
}

impl CredentialSource {
    /// The tenant's value of one of the provider's `credentials` fields.
    pub fn tenant(&self, field: &str) -> Option<&str> {
        self.values.get(field).map(String::as_str)
    }
    /// A deployment variable the provider declared in `settings`.
    pub fn setting(&self, env: &str) -> Option<&str> {
        self.settings.get(env)
    }
}

/// What `write_back` sees of an accepted result.
pub struct WriteBack<'a> {
    pub assessment_id: &'a str,
    pub record: &'a CandidateAssessment,
    /// The order's idempotency key as stored with it (`Order::idempotency_key`; None for
    /// assessments stored without one). Unlike `record.originData` it survives erasure and
    /// retention (README "Personal data"): an ATS whose orders are keyed by its own order id
    /// (a report id, a partner-result id) reads that id here.
    pub order_key: Option<&'a str>,
    pub result: &'a ResultUpdate,
    /// Milliseconds, strictly increasing per assessment (for ATSs that order updates by it).
    pub update_ts: i64,
    pub credentials: &'a CredentialSource,
    pub allow_insecure: bool,
}

/// What a cancel did (`Handler::Cancel`, `Handler::CancelLink`), for the provider's answer
/// (README "Edge endpoints", "Cancel links").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cancellation<'a> {
    /// The bridge's assessment id (`ats_ass_…`).
    pub assessment_id: &'a str,
    /// The assessment's status after the call: `CANCELLED` when this call cancelled it,
    /// otherwise the final status it already had (`COMPLETED`, `REJECTED`, `EXPIRED`, or
    /// `CANCELLED` for a repeat).
    pub status: Status,
    /// True when this call cancelled it; false when it was already final and nothing changed.
    pub cancelled: bool,
}

impl Cancellation<'_> {
    /// The sentence for an assessment that was already final (None when this call cancelled
    /// it), e.g. "The assessment was already completed; nothing was canceled."
    pub fn already_final(&self) -> Option<String> {
        if self.cancelled {
            return None;
        }
        Some(format!(
            "The assessment was already {}; nothing was canceled.",
            final_word(self.status)
        ))
    }
}

/// A final status as a past participle for people ("completed", "rejected", "expired",
/// "canceled"; anything else "final").
pub fn final_word(status: Status) -> &'static str {
    match status {
        Status::Completed => "completed",
        Status::Rejected => "rejected",
        Status::Expired => "expired",
        Status::Cancelled => "canceled",
        _ => "final",
    }
}

/// Outbound call(s) right after an order is committed (`Spec::after_order`).
pub type AfterOrder = fn(&PlacedOrder) -> ApiResult<Vec<OutboundCall>>;

/// What `after_order` sees of an order just committed.
pub struct PlacedOrder<'a> {
    /// Like `WriteBack::assessment_id`; no registered provider's `after_order` reads it yet.
    #[allow(dead_code)]
    pub assessment_id: &'a str,
    pub record: &'a CandidateAssessment,
    /// The URL that cancels this assessment, when the provider has a `CancelLink` operation:
    /// minted for this order, stored hashed (README "Cancel links").
    pub cancel_url: Option<&'a str>,
    pub credentials: &'a CredentialSource,
    pub allow_insecure: bool,
}

/// An outbound call to the ATS, stored and retried by the delivery engine.
#[derive(Debug, Clone, PartialEq)]
pub struct OutboundCall {
    /// What the call is, for people (shown on the assessment's sync state).
    pub label: &'static str,
    pub method: worker::Method,
    pub url: String,
    pub body: Option<String>,
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
    /// Whether a final result, once sent, can still be changed in the ATS (the bridge refuses
    /// a second final result either way: 409 `assessment_final`).
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
