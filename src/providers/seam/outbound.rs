//! What a provider needs to call its ATS: credential fields and settings, the credentials
//! as one source, and the calls a result or an order turns into (README "Results back to the
//! ATS").

use super::*;

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
