//! A provider's read API as the seam sees it (README "Order enrichment"): token requests,
//! the reads that complete an order's record, and what they came to.

use super::*;

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
