//! Greenhouse Harvest v3, the read API behind Greenhouse order enrichment and the job listing
//! (README "Order enrichment"). Every Harvest path, parameter and field name the bridge uses is
//! in this file, so a correction touches nothing else.
//!
//! Sources: harvestdocs.greenhouse.io — guides "Authentication" (custom integrations: OAuth 2.0
//! client credentials, `POST https://auth.greenhouse.io/token` with HTTP Basic
//! `client_id:client_secret` and the form body `grant_type=client_credentials&sub=<user id>`;
//! access tokens live about an hour), "List endpoints" and "Pagination" (resources are read
//! through list endpoints filtered by `ids=`; `per_page` on the first request; further pages
//! by `cursor` alone, announced in the `Link` header as `rel="next"`), "Rate limiting" (429 with
//! `Retry-After`), and the READ endpoint migration guide (v1/v2 resources and their v3
//! equivalents). Scopes are named `harvest:<resource>:list`.
//!
//! Field names are read tolerantly: a list answer may be a JSON array or `{"data": […]}`; an
//! application names its job as `job_id` or (v1 form) `jobs[0].id`; a user's email is
//! `primary_email_address` or the first of `emails`.

mod jobs;
mod reads;
mod run;
#[cfg(test)]
mod run_tests;
#[cfg(test)]
mod test_support;

use jobs::{jobs_page, jobs_request};
use run::enrich;

use serde_json::{json, Map, Value};

use crate::error::{code, ApiError, ApiResult};
use crate::model::{
    context, CandidateAssessment, CustomField, Enrichment, EnrichmentStatus, Job, Location,
    Requester, TeamMember, TeamRole,
};
use crate::providers::{
    basic_authorization, CredentialPart, CredentialSource, EnrichRun, Enriched, IssuedToken, Read,
    ReadAnswer, ReadApi, TokenRequest, ENRICH_BUDGET_MS,
};
use crate::targets::{check_allowed_host, AllowedHost};

/// Deployment variable: Harvest v3's base URL (default `https://api.greenhouse.io/v3`).
pub const API_BASE_SETTING: &str = "HARVEST_API_BASE";
/// Deployment variable: the OAuth token endpoint (default `https://auth.greenhouse.io/token`).
pub const TOKEN_URL_SETTING: &str = "HARVEST_TOKEN_URL";
pub const DEFAULT_API_BASE: &str = "https://api.greenhouse.io/v3";
pub const DEFAULT_TOKEN_URL: &str = "https://auth.greenhouse.io/token";

/// The tenant credential (`greenhouse.harvest`) and its parts.
pub const CREDENTIAL: &str = "harvest";
pub const CREDENTIAL_PARTS: &[CredentialPart] = &[
    CredentialPart {
        name: "client_id",
        required: true,
        numeric: false,
    },
    CredentialPart {
        name: "client_secret",
        required: true,
        numeric: false,
    },
    CredentialPart {
        name: "user_id",
        required: false,
        numeric: true,
    },
];

/// Harvest resources read (list endpoints) and the scope each needs.
const APPLICATIONS: &str = "applications";
const JOBS: &str = "jobs";
const USERS: &str = "users";
/// Read scopes the customer grants (README "Order enrichment"; the connect page's help and
/// the README name each, checked by a unit test).
#[cfg_attr(not(test), allow(dead_code))]
pub const SCOPES: &[&str] = &[
    "harvest:applications:list",
    "harvest:jobs:list",
    "harvest:users:list",
];
/// A job listing page: at most this many jobs.
const JOBS_PER_PAGE: u32 = 100;
/// Users (hiring team, requester) are reused for an hour.
const USER_CACHE_MS: i64 = 3_600_000;

/// Hosts the Harvest settings may name outside tests.
const HOSTS: &[AllowedHost] = &[AllowedHost::SubdomainOf("greenhouse.io")];

/// Greenhouse's read API, as the provider seam sees it.
pub static READ_API: ReadApi = ReadApi {
    not_configured: "set greenhouse.harvest {client_id, client_secret, user_id?} with PATCH /v1/tenants/{id} or a connect link (README \"Order enrichment\").",
    token_request,
    token_answer,
    enrich,
    jobs_request,
    jobs_page,
};

/// The tenant's `greenhouse.harvest` credential.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HarvestCredentials {
    pub client_id: String,
    pub client_secret: String,
    pub user_id: Option<String>,
}

impl HarvestCredentials {
    /// From the stored JSON (`admin::tenants::credential_change` wrote it); None if unset.
    pub fn of(c: &CredentialSource) -> Option<Self> {
        let v: Value = serde_json::from_str(c.tenant(CREDENTIAL)?).ok()?;
        let s = |k: &str| v[k].as_str().filter(|s| !s.is_empty()).map(str::to_string);
        Some(HarvestCredentials {
            client_id: s("client_id")?,
            client_secret: s("client_secret")?,
            user_id: s("user_id"),
        })
    }
}

fn setting_url(
    c: &CredentialSource,
    env: &str,
    default: &str,
    insecure: bool,
) -> ApiResult<String> {
    let raw = c.setting(env).unwrap_or(default).trim_end_matches('/');
    check_allowed_host(raw, insecure, HOSTS, "<subdomain>.greenhouse.io")
        .map(|u| u.as_str().trim_end_matches('/').to_string())
        .map_err(|why| {
            ApiError::new(
                422,
                code::INVALID_CONFIGURATION,
                format!("The deployment's {env} {why}."),
            )
        })
}

/// `POST {HARVEST_TOKEN_URL}`, Basic `client_id:client_secret`,
/// `grant_type=client_credentials` (+ `sub=<user_id>` when given).
fn token_request(c: &CredentialSource, insecure: bool) -> Option<ApiResult<TokenRequest>> {
    let h = HarvestCredentials::of(c)?;
    Some(token_request_for(&h, c, insecure))
}

fn token_request_for(
    h: &HarvestCredentials,
    c: &CredentialSource,
    insecure: bool,
) -> ApiResult<TokenRequest> {
    let url = setting_url(c, TOKEN_URL_SETTING, DEFAULT_TOKEN_URL, insecure)?;
    let mut form = form_urlencoded::Serializer::new(String::new());
    form.append_pair("grant_type", "client_credentials");
    if let Some(sub) = &h.user_id {
        form.append_pair("sub", sub);
    }
    let digest = crate::secrets::hash_key(&format!(
        "{}\n{}\n{}\n{url}",
        h.client_id,
        h.client_secret,
        h.user_id.as_deref().unwrap_or("")
    ));
    Ok(TokenRequest {
        url,
        authorization: basic_authorization(&h.client_id, &h.client_secret),
        form: form.finish(),
        cache_key: digest,
    })
}

/// The connect page's check of entered credentials: the same token request, to the
/// configured `HARVEST_TOKEN_URL` as it stands (the page applies `targets::check_target`).
pub fn token_check_request(h: &HarvestCredentials, c: &CredentialSource) -> TokenRequest {
    token_request_for(h, c, true).unwrap_or_else(|_| TokenRequest {
        url: DEFAULT_TOKEN_URL.into(),
        authorization: basic_authorization(&h.client_id, &h.client_secret),
        form: String::new(),
        cache_key: String::new(),
    })
}

/// Whether the token endpoint accepted the credentials (the connect page's verdict; Err is
/// a sentence for the customer).
pub fn token_accepted(status: Option<u16>, body: &str) -> Result<(), String> {
    token_answer(status, body).map(|_| ())
}

/// The token endpoint's answer: `{"access_token", "expires_in" (seconds), …}`. Err: a sentence.
fn token_answer(status: Option<u16>, body: &str) -> Result<IssuedToken, String> {
    let v: Value = serde_json::from_str(body).unwrap_or(Value::Null);
    match status {
        Some(200..=299) => {
            let token = v["access_token"]
                .as_str()
                .filter(|t| !t.is_empty())
                .ok_or("Greenhouse's token endpoint answered without an access_token")?;
            let secs = v["expires_in"].as_i64().filter(|s| *s > 0).unwrap_or(3600);
            Ok(IssuedToken {
                access_token: token.to_string(),
                expires_in_ms: secs.saturating_mul(1000),
            })
        }
        Some(s @ (400 | 401 | 403)) => {
            let why = v["error_description"]
                .as_str()
                .or(v["error"].as_str())
                .map(|w| format!(": {w}"))
                .unwrap_or_default();
            Err(format!(
                "Greenhouse refused the Harvest v3 client credentials (HTTP {s}{why}); check greenhouse.harvest client_id, client_secret and user_id"
            ))
        }
        Some(s) => Err(format!("Greenhouse's token endpoint answered HTTP {s}")),
        None => Err("Greenhouse's token endpoint did not answer".into()),
    }
}

/// The items of a list answer: a JSON array, or `{"data": […]}`.
fn items(body: &str) -> Option<Vec<Value>> {
    match serde_json::from_str::<Value>(body).ok()? {
        Value::Array(a) => Some(a),
        Value::Object(mut m) => match m.remove("data") {
            Some(Value::Array(a)) => Some(a),
            _ => None,
        },
        _ => None,
    }
}

fn id_of(v: &Value) -> Option<String> {
    crate::model::scalar_string(v.get("id"))
}

fn text(v: &Value, k: &str) -> Option<String> {
    v.get(k)
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
}

/// Why a read failed, in words naming what is missing (the enrichment `error`).
fn read_failure(what: &str, resource: &str, a: &ReadAnswer) -> String {
    match a.status {
        Some(401) => format!("Harvest v3 did not accept the access token reading {what} (HTTP 401)"),
        Some(403) => format!(
            "Harvest v3 refused reading {what} (HTTP 403): the credentials need the `harvest:{resource}:list` scope"
        ),
        Some(429) => format!(
            "Harvest v3 rate limit reading {what} (HTTP 429, Retry-After {}) outlasted the enrichment budget",
            a.retry_after.as_deref().unwrap_or("not given")
        ),
        Some(s) => format!("Harvest v3 answered HTTP {s} reading {what}"),
        None => format!(
            "Harvest v3 did not answer reading {what} ({})",
            a.error.as_deref().unwrap_or("no answer")
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::test_support::*;
    use super::*;
    use crate::providers::Settings;

    #[test]
    fn token_request_is_client_credentials_with_sub() {
        let t = token_request(&full(), true).unwrap().unwrap();
        assert_eq!(t.url, "http://127.0.0.1:9/token");
        assert_eq!(t.authorization, basic_authorization("id", "sec"));
        assert_eq!(t.form, "grant_type=client_credentials&sub=42");
        assert!(!t.cache_key.contains("sec"));
        let other = token_request(
            &creds(json!({"client_id": "id", "client_secret": "sec2"})),
            true,
        )
        .unwrap()
        .unwrap();
        assert_eq!(other.form, "grant_type=client_credentials");
        assert_ne!(other.cache_key, t.cache_key, "new credentials, new token");
        assert!(token_request(&CredentialSource::default(), true).is_none());
        // Outside tests the token URL must be a Greenhouse host over https.
        let e = token_request(&full(), false).unwrap().unwrap_err();
        assert_eq!((e.status, e.code), (422, "invalid_configuration"));
        assert!(e.message.contains(TOKEN_URL_SETTING), "{}", e.message);
        let mut real = full();
        real.settings = Settings::default();
        assert_eq!(
            token_request(&real, false).unwrap().unwrap().url,
            DEFAULT_TOKEN_URL
        );
    }

    #[test]
    fn the_scopes_are_named_where_the_customer_reads_them() {
        let readme = include_str!("../../../../README.md");
        let help = crate::providers::greenhouse::SETUP.fields[0].help;
        for s in SCOPES {
            assert!(help.contains(s), "connect page help lacks {s}");
            assert!(readme.contains(s), "README lacks {s}");
        }
    }

    #[test]
    fn token_answers() {
        let t = token_answer(
            Some(200),
            r#"{"access_token":"at","expires_in":3599,"token_type":"bearer"}"#,
        )
        .unwrap();
        assert_eq!(
            t,
            IssuedToken {
                access_token: "at".into(),
                expires_in_ms: 3_599_000
            }
        );
        assert_eq!(
            token_answer(Some(200), r#"{"access_token":"at"}"#)
                .unwrap()
                .expires_in_ms,
            3_600_000
        );
        assert!(token_answer(Some(200), "{}").is_err());
        let e = token_answer(Some(401), r#"{"error":"invalid_client"}"#).unwrap_err();
        assert!(
            e.contains("HTTP 401: invalid_client") && e.contains("client_secret"),
            "{e}"
        );
        assert!(token_answer(Some(503), "").unwrap_err().contains("503"));
        assert!(token_answer(None, "")
            .unwrap_err()
            .contains("did not answer"));
    }
}
