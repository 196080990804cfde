//! One module per ATS, each declaring itself as a [`Spec`] (see `seam/`,
//! docs/adding-an-ats.md). The [`REGISTRY`] is the only list of ATSs: routing, edge
//! authentication, the tenant object, results, the admin API and the tests read it.

pub(crate) mod listing;
mod preflight;
mod seam;
pub mod setup;

pub(crate) mod ashby;
pub(crate) mod greenhouse;
pub(crate) mod recruitee;
pub(crate) mod teamtailor;

pub use preflight::preflight;
pub use seam::*;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::Value;

use crate::error::{ApiError, ApiResult};
use crate::model::scalar_string;

/// Every provider the bridge speaks to: one line per ATS.
pub static REGISTRY: &[&Spec] = &[
    &greenhouse::SPEC,
    &ashby::SPEC,
    &recruitee::SPEC,
    &teamtailor::SPEC,
];

/// An ATS the bridge speaks to: a handle on its registered [`Spec`]. Serialized as its name
/// (`"greenhouse"`), the `provider` value of the API and events.
#[derive(Clone, Copy)]
pub struct Provider(&'static Spec);

impl Provider {
    /// The handle of a registered spec (used by a provider's own file).
    pub const fn of(spec: &'static Spec) -> Provider {
        Provider(spec)
    }
    /// Every registered provider, in registry order.
    pub fn all() -> impl Iterator<Item = Provider> {
        REGISTRY.iter().map(|s| Provider(s))
    }
    pub fn parse(name: &str) -> Option<Provider> {
        Provider::all().find(|p| p.as_str() == name)
    }
    pub fn as_str(self) -> &'static str {
        self.0.name
    }
    /// Inbound keys carry their provider in a prefix (README "Authentication").
    pub fn key_prefix(self) -> &'static str {
        self.0.key_prefix
    }
    pub fn spec(self) -> &'static Spec {
        self.0
    }
    /// The operation at `segment`, if the provider has one.
    #[cfg(test)]
    pub fn operation(self, segment: &str) -> Option<&'static Operation> {
        self.0.operations.iter().find(|o| o.segment == segment)
    }
    /// A fresh inbound key: 32 random bytes behind the prefix; partner-level keys embed the
    /// tenant id (`secrets::new_partner_key`).
    pub fn new_key(self, tenant: &str) -> String {
        match self.0.surface {
            Surface::TenantScoped => crate::secrets::new_provider_key(self.0.key_prefix),
            Surface::PartnerLevel => crate::secrets::new_partner_key(self.0.key_prefix, tenant),
        }
    }
    /// The tenant a presented partner-level key names (no lookup: the key embeds it). None for
    /// tenant-scoped providers and malformed keys.
    pub fn key_tenant(self, key: &str) -> Option<&str> {
        match self.0.surface {
            Surface::TenantScoped => None,
            Surface::PartnerLevel => crate::secrets::partner_key_tenant(self.0.key_prefix, key),
        }
    }
    /// The URL the customer gives the ATS (docs/contract.md "Admin API", `providers.*.baseUrl`).
    pub fn base_url(self, origin: &str, tenant: &str) -> String {
        match self.0.surface {
            Surface::TenantScoped => format!("{origin}/t/{tenant}/{}", self.0.name),
            Surface::PartnerLevel => format!("{origin}/p/{}", self.0.name),
        }
    }
    /// The route template of one of its operations (`/t/{tenant}/x/op`, `/p/x/op`).
    #[cfg(test)]
    pub fn template(self, op: &Operation) -> String {
        match self.0.surface {
            Surface::TenantScoped => format!("/t/{{tenant}}/{}/{}", self.0.name, op.segment),
            Surface::PartnerLevel => format!("/p/{}/{}", self.0.name, op.segment),
        }
    }
}

impl PartialEq for Provider {
    fn eq(&self, other: &Provider) -> bool {
        self.0.name == other.0.name
    }
}
impl Eq for Provider {}
impl std::hash::Hash for Provider {
    fn hash<H: std::hash::Hasher>(&self, h: &mut H) {
        self.0.name.hash(h)
    }
}
impl std::fmt::Debug for Provider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Provider({})", self.0.name)
    }
}
impl Serialize for Provider {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.0.name)
    }
}
impl<'de> Deserialize<'de> for Provider {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Provider, D::Error> {
        let name = String::deserialize(d)?;
        Provider::parse(&name)
            .ok_or_else(|| serde::de::Error::custom(format!("unknown provider `{name}`")))
    }
}

/// The registered names for a message: `a or b`, `a, b or c` (quoted when asked).
pub fn names_or(quoted: bool) -> String {
    let names: Vec<String> = Provider::all()
        .map(|p| {
            if quoted {
                format!("\"{}\"", p.as_str())
            } else {
                p.as_str().to_string()
            }
        })
        .collect();
    match names.split_last() {
        Some((last, rest)) if !rest.is_empty() => format!("{} or {last}", rest.join(", ")),
        Some((last, _)) => last.clone(),
        None => String::new(),
    }
}

/// The default `extract_keys`: the key as HTTP Basic username (or password), README
/// "Authentication".
pub fn basic_keys(inbound: &Inbound) -> Vec<String> {
    crate::secrets::basic_candidates(inbound.authorization)
}

/// What the front door forwards to the tenant object to authenticate an edge call: the tenant
/// and the hashes of the presented keys that may belong to `provider` (its prefix, shorter
/// than `secrets::MAX_KEY_LEN`). Tenant-scoped providers take the tenant from the path;
/// partner-level ones from the first key that embeds one, and only keys naming that tenant
/// are forwarded. None: nothing usable was presented (the one edge 401).
pub fn edge_credentials(
    provider: Provider,
    path_tenant: Option<&str>,
    inbound: &Inbound,
) -> Option<(String, Vec<String>)> {
    let keys: Vec<String> = (provider.spec().extract_keys)(inbound)
        .into_iter()
        .filter(|k| k.starts_with(provider.key_prefix()) && k.len() < crate::secrets::MAX_KEY_LEN)
        .collect();
    let tenant = match (provider.spec().surface, path_tenant) {
        (Surface::TenantScoped, Some(t)) => t.to_string(),
        (Surface::PartnerLevel, None) => keys
            .iter()
            .find_map(|k| provider.key_tenant(k))?
            .to_string(),
        _ => return None,
    };
    let hashes: Vec<String> = keys
        .iter()
        .filter(|k| match provider.spec().surface {
            Surface::TenantScoped => true,
            Surface::PartnerLevel => provider.key_tenant(k) == Some(tenant.as_str()),
        })
        .map(|k| crate::secrets::hash_key(k))
        .collect();
    (!hashes.is_empty()).then_some((tenant, hashes))
}

/// Prefix of cancel-link tokens: `cl_<tenant>.<43 url-safe base64 chars>` (32 random bytes),
/// the same shape as partner-level keys, so the tenant is read from the token without a lookup
/// (README "Cancel links").
pub const CANCEL_LINK_PREFIX: &str = "cl_";

/// A fresh cancel-link token for an assessment of `tenant`; the tenant object stores only its
/// hash, bound to that assessment.
pub fn new_cancel_link_token(tenant: &str) -> String {
    crate::secrets::new_partner_key(CANCEL_LINK_PREFIX, tenant)
}

/// The one 401 of a cancel link whose token is missing, malformed or unknown, or whose tenant
/// does not exist (README "Recruitee"): it names the link, not a header.
pub fn invalid_cancel_link() -> crate::error::ApiError {
    crate::error::ApiError::invalid_link("cancel link")
}

/// What the front door forwards to authorize a `CancelLink` operation: the tenant the link's
/// `token` query parameter names and the token's hash. None: no well-formed token (the one
/// [`invalid_cancel_link`] 401, so tenants cannot be probed). A link the bridge mints has one
/// `token`; a query with several is not such a link, and is refused the same way.
pub fn link_credentials(query: Option<&str>) -> Option<(String, Vec<String>)> {
    let q = crate::admin::query::pairs(query);
    if q.iter().filter(|(k, _)| k == "token").count() > 1 {
        return None;
    }
    let token = crate::admin::query::get(&q, "token")?;
    let tenant = crate::secrets::partner_key_tenant(CANCEL_LINK_PREFIX, token)?;
    Some((tenant.to_string(), vec![crate::secrets::hash_key(token)]))
}

/// `Authorization: Basic` for an outbound call.
pub fn basic_authorization(user: &str, password: &str) -> String {
    use base64::Engine;
    let raw = format!("{user}:{password}");
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(raw)
    )
}

/// A required string (or number, rendered as a string) at `path` in a JSON body.
pub(crate) fn required(v: &Value, path: &[&str]) -> ApiResult<String> {
    let field = path.join(".");
    let mut cur = v;
    for p in path {
        cur = cur.get(p).unwrap_or(&Value::Null);
    }
    scalar_string(Some(cur))
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .ok_or_else(|| ApiError::invalid_field(&field, "is required"))
}

/// An optional string (numbers accepted); anything else is treated as absent.
pub(crate) fn optional(v: &Value, path: &[&str]) -> Option<String> {
    let mut cur = v;
    for p in path {
        cur = cur.get(p)?;
    }
    scalar_string(Some(cur))
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
}

/// Drop null entries from a JSON object; None when nothing is left.
pub(crate) fn compact(v: Value) -> Option<Value> {
    match v {
        Value::Object(m) => {
            let m: serde_json::Map<_, _> = m.into_iter().filter(|(_, v)| !v.is_null()).collect();
            (!m.is_empty()).then_some(Value::Object(m))
        }
        other => Some(other),
    }
}

#[cfg(test)]
mod credential_tests;
#[cfg(test)]
mod registry_tests;
#[cfg(test)]
pub(crate) mod test_support;
