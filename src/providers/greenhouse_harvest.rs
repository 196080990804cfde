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

use serde_json::{json, Map, Value};

use super::{
    basic_authorization, CredentialPart, CredentialSource, EnrichRun, Enriched, IssuedToken, Read,
    ReadAnswer, ReadApi, TokenRequest, ENRICH_BUDGET_MS,
};
use crate::error::{code, ApiError, ApiResult};
use crate::model::{
    context, CandidateAssessment, CustomField, Enrichment, EnrichmentStatus, Job, Location,
    Requester, TeamMember, TeamRole,
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

/// What the run reads next.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stage {
    Application,
    Job,
    TeamUsers,
    Requester,
    Done,
}

/// The reads for one order: application → job → hiring team's users → the `sent_by`
/// requester (Harvest v3 facts in the module doc; README "Order enrichment").
pub struct HarvestRun {
    base: String,
    application_id: Option<String>,
    sent_by: Option<String>,
    stage: Stage,
    application: Option<Value>,
    job_id: Option<String>,
    job: Option<Value>,
    /// (role, member as the job lists it) for the hiring team.
    team: Vec<(TeamRole, Value)>,
    users: Vec<Value>,
    requester: Option<Value>,
    errors: Vec<String>,
    /// Set when the run was stopped before any read (e.g. no token).
    gave_up: bool,
}

/// The reads that complete a Greenhouse order (None: Harvest is not configured).
fn enrich(
    record: &CandidateAssessment,
    c: &CredentialSource,
    insecure: bool,
) -> Option<Box<dyn EnrichRun>> {
    HarvestCredentials::of(c)?;
    let mut run = HarvestRun {
        base: String::new(),
        application_id: record.application_id.clone(),
        sent_by: record
            .requester
            .as_ref()
            .and_then(|r| text(r, "email"))
            .or_else(|| record.meta_data.as_ref().and_then(|m| text(m, "sentBy"))),
        stage: Stage::Application,
        application: None,
        job_id: None,
        job: None,
        team: vec![],
        users: vec![],
        requester: None,
        errors: vec![],
        gave_up: false,
    };
    match setting_url(c, API_BASE_SETTING, DEFAULT_API_BASE, insecure) {
        Ok(base) => run.base = base,
        Err(e) => run.give_up(&e.message),
    }
    if run.application_id.is_none() {
        run.errors.push(
            "the order's greenhouse_profile_url names no application, so the job and hiring team cannot be read".into(),
        );
        run.stage = Stage::Requester;
    }
    Some(Box::new(run))
}

impl HarvestRun {
    fn list_url(&self, resource: &str, pairs: &[(&str, &str)]) -> String {
        let q = form_urlencoded::Serializer::new(String::new())
            .extend_pairs(pairs)
            .finish();
        format!("{}/{resource}?{q}", self.base)
    }

    /// The next stage after `from` that has something to read.
    fn advance(&mut self, from: Stage) {
        self.stage = match from {
            Stage::Application if self.job_id.is_some() => Stage::Job,
            Stage::Application | Stage::Job if !self.team_ids().is_empty() => Stage::TeamUsers,
            Stage::Application | Stage::Job | Stage::TeamUsers if self.sent_by.is_some() => {
                Stage::Requester
            }
            _ => Stage::Done,
        };
    }

    /// Hiring-team user ids that still need an email.
    fn team_ids(&self) -> Vec<String> {
        self.team
            .iter()
            .filter(|(_, m)| text(m, "email").is_none())
            .filter_map(|(_, m)| member_id(m))
            .collect()
    }

    fn user(&self, id: &str) -> Option<&Value> {
        self.users.iter().find(|u| id_of(u).as_deref() == Some(id))
    }

    fn job_value(&self) -> Option<Job> {
        let j = self.job.as_ref()?;
        let names = |k: &str| -> Option<Vec<String>> {
            j.get(k)?
                .as_array()
                .map(|a| a.iter().filter_map(|d| text(d, "name")).collect())
        };
        Some(Job {
            id: id_of(j).or_else(|| self.job_id.clone()),
            name: text(j, "name"),
            requisition_id: text(j, "requisition_id"),
            url: None,
            locations: j.get("offices").and_then(Value::as_array).map(|a| {
                a.iter()
                    .map(|o| Location {
                        name: text(o, "name"),
                        address: o.get("location").and_then(|l| text(l, "name")),
                    })
                    .collect()
            }),
            departments: names("departments"),
        })
    }

    fn hiring_team(&self) -> Option<Vec<TeamMember>> {
        self.job.as_ref()?;
        Some(
            self.team
                .iter()
                .map(|(role, m)| {
                    let id = member_id(m);
                    let u = id.as_deref().and_then(|id| self.user(id));
                    let pick = |k: &str| text(m, k).or_else(|| u.and_then(|u| text(u, k)));
                    TeamMember {
                        id,
                        first_name: pick("first_name"),
                        last_name: pick("last_name"),
                        email: text(m, "email").or_else(|| u.and_then(user_email)),
                        role: *role,
                    }
                })
                .collect(),
        )
    }

    fn custom_fields(&self) -> Option<Value> {
        let app = self.application.as_ref()?;
        let mut out = Map::new();
        if let Some(Value::Object(keyed)) = app.get("keyed_custom_fields") {
            for (k, f) in keyed {
                out.insert(
                    k.clone(),
                    context(CustomField {
                        label: text(f, "name"),
                        kind: text(f, "type"),
                        value: f.get("value").cloned().unwrap_or(Value::Null),
                    }),
                );
            }
        } else if let Some(Value::Object(plain)) = app.get("custom_fields") {
            for (k, v) in plain {
                out.insert(
                    k.clone(),
                    context(CustomField {
                        label: None,
                        kind: None,
                        value: v.clone(),
                    }),
                );
            }
        }
        (!out.is_empty()).then_some(Value::Object(out))
    }
}

/// A hiring-team member's user id (`id`, or `user_id`).
fn member_id(m: &Value) -> Option<String> {
    crate::model::scalar_string(m.get("user_id")).or_else(|| id_of(m))
}

fn user_email(u: &Value) -> Option<String> {
    text(u, "primary_email_address").or_else(|| {
        u.get("emails")?
            .as_array()?
            .iter()
            .find_map(|e| e.as_str().map(str::to_string).or_else(|| text(e, "value")))
    })
}

/// The hiring team as a Harvest job lists it: `hiring_team.{hiring_managers, recruiters,
/// coordinators, sourcers}`.
fn team_of(job: &Value) -> Vec<(TeamRole, Value)> {
    let Some(t) = job.get("hiring_team") else {
        return vec![];
    };
    [
        ("hiring_managers", TeamRole::HiringManager),
        ("recruiters", TeamRole::Recruiter),
        ("coordinators", TeamRole::Coordinator),
        ("sourcers", TeamRole::Sourcer),
    ]
    .into_iter()
    .flat_map(|(k, role)| {
        t.get(k)
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .map(move |m| (role, m.clone()))
    })
    .collect()
}

impl EnrichRun for HarvestRun {
    fn next(&mut self) -> Option<Read> {
        let read = |url, cache_ms| Some(Read { url, cache_ms });
        match self.stage {
            Stage::Done => None,
            Stage::Application => {
                let id = self.application_id.clone()?;
                read(self.list_url(APPLICATIONS, &[("ids", &id)]), 0)
            }
            Stage::Job => {
                let id = self.job_id.clone()?;
                read(self.list_url(JOBS, &[("ids", &id)]), 0)
            }
            Stage::TeamUsers => {
                let ids = self.team_ids().join(",");
                read(self.list_url(USERS, &[("ids", &ids)]), USER_CACHE_MS)
            }
            Stage::Requester => {
                let email = self.sent_by.clone()?;
                read(self.list_url(USERS, &[("email", &email)]), USER_CACHE_MS)
            }
        }
    }

    fn answer(&mut self, a: &ReadAnswer) {
        let stage = self.stage;
        let ok = matches!(a.status, Some(200..=299));
        let found = if ok { items(&a.body) } else { None };
        let (what, resource) = match stage {
            Stage::Application => (
                format!(
                    "application {}",
                    self.application_id.as_deref().unwrap_or("")
                ),
                APPLICATIONS,
            ),
            Stage::Job => (
                format!("job {}", self.job_id.as_deref().unwrap_or("")),
                JOBS,
            ),
            Stage::TeamUsers => ("the hiring team's users".to_string(), USERS),
            Stage::Requester => ("the requester (sent_by)".to_string(), USERS),
            Stage::Done => return,
        };
        match (found, ok) {
            (None, true) => self.errors.push(format!(
                "Harvest v3 answered {what} with an unreadable list"
            )),
            (None, false) => {
                self.errors.push(read_failure(&what, resource, a));
                // The token is refused everywhere once it is refused here: stop.
                if a.status == Some(401) {
                    self.stage = Stage::Done;
                    return;
                }
            }
            (Some(list), true) => match stage {
                Stage::Application => {
                    let wanted = self.application_id.clone();
                    match list.into_iter().find(|x| id_of(x) == wanted) {
                        Some(app) => {
                            self.job_id = crate::model::scalar_string(app.get("job_id")).or_else(
                                || {
                                    app.get("jobs")
                                        .and_then(|j| j.get(0))
                                        .and_then(id_of)
                                },
                            );
                            if self.job_id.is_none() {
                                self.errors
                                    .push(format!("Harvest v3's {what} names no job"));
                            }
                            self.application = Some(app);
                        }
                        None => self.errors.push(format!(
                            "Harvest v3 has no {what} (unknown to Greenhouse, or not visible to these credentials)"
                        )),
                    }
                }
                Stage::Job => {
                    let wanted = self.job_id.clone();
                    match list.into_iter().find(|x| id_of(x) == wanted) {
                        Some(job) => {
                            self.team = team_of(&job);
                            self.job = Some(job);
                        }
                        None => self.errors.push(format!("Harvest v3 has no {what}")),
                    }
                }
                Stage::TeamUsers => self.users.extend(list),
                Stage::Requester => {
                    let email = self.sent_by.clone().unwrap_or_default();
                    self.requester = list.into_iter().find(|u| {
                        user_email(u).is_some_and(|e| e.eq_ignore_ascii_case(&email))
                            || u.get("emails").and_then(Value::as_array).is_some_and(|a| {
                                a.iter().any(|e| {
                                    e.as_str().is_some_and(|e| e.eq_ignore_ascii_case(&email))
                                })
                            })
                    });
                    if self.requester.is_none() {
                        self.errors
                            .push(format!("Harvest v3 has no user with the email {email}"));
                    }
                }
                Stage::Done => {}
            },
            (Some(_), false) => {}
        }
        self.advance(stage);
    }

    fn outcome(&self, finished: bool) -> Enriched {
        let job = self.job_value();
        let team = self.hiring_team();
        let requester = self.requester.as_ref().map(|u| Requester {
            id: id_of(u),
            name: text(u, "name").or_else(|| {
                let n = [text(u, "first_name"), text(u, "last_name")]
                    .into_iter()
                    .flatten()
                    .collect::<Vec<_>>()
                    .join(" ");
                (!n.is_empty()).then_some(n)
            }),
            email: user_email(u).or_else(|| self.sent_by.clone()),
        });
        let mut missing: Vec<String> = Vec::new();
        if job.as_ref().is_none_or(|j| j.name.is_none()) {
            missing.push("job".into());
        }
        if team.as_ref().is_none_or(|t| t.is_empty()) {
            missing.push("hiringTeam".into());
        }
        if self.sent_by.is_none() {
            missing.push("requester".into());
        }
        let mut errors = self.errors.clone();
        if !finished {
            errors.push(format!(
                "Harvest v3 had not finished when this event was sent (the {} s budget); a record.modified with the completed record follows",
                ENRICH_BUDGET_MS / 1000
            ));
        }
        let gained = job.is_some() || requester.is_some() || self.application.is_some();
        let status = if !finished {
            EnrichmentStatus::Partial
        } else if missing.is_empty() && errors.is_empty() {
            EnrichmentStatus::Complete
        } else if gained && !self.gave_up {
            EnrichmentStatus::Partial
        } else {
            EnrichmentStatus::Failed
        };
        let error = (!errors.is_empty()).then(|| errors.join("; "));
        Enriched {
            job_id: job.as_ref().and_then(|j| j.id.clone()),
            job: job.map(context),
            hiring_team: team.filter(|t| !t.is_empty()).map(context),
            requester: requester.map(context),
            custom_fields: self.custom_fields(),
            enrichment: context(Enrichment {
                status,
                missing,
                error,
            }),
        }
    }

    fn give_up(&mut self, why: &str) {
        self.errors.push(why.to_string());
        self.gave_up = true;
        self.stage = Stage::Done;
    }
}

/// `GET /v1/tenants/{t}/greenhouse/jobs?status=&cursor=` → the Harvest listing URL: the first
/// page `jobs?per_page=100[&status=open|closed|draft]`, a later one `jobs?cursor=…` alone.
fn jobs_request(
    c: &CredentialSource,
    query: &[(String, String)],
    insecure: bool,
) -> ApiResult<String> {
    let get = |k: &str| {
        query
            .iter()
            .find(|(n, _)| n == k)
            .map(|(_, v)| v.as_str())
            .filter(|v| !v.is_empty())
    };
    let base = setting_url(c, API_BASE_SETTING, DEFAULT_API_BASE, insecure)?;
    let mut q = form_urlencoded::Serializer::new(String::new());
    if let Some(cursor) = get("cursor") {
        if cursor.len() > 2048
            || !cursor
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-_.~=+/%".contains(&b))
        {
            return Err(ApiError::invalid_field(
                "cursor",
                "must be a next_cursor value from an earlier page",
            ));
        }
        q.append_pair("cursor", cursor);
    } else {
        q.append_pair("per_page", &JOBS_PER_PAGE.to_string());
        match get("status") {
            None => {}
            Some(s @ ("open" | "closed" | "draft")) => {
                q.append_pair("status", s);
            }
            Some(_) => {
                return Err(ApiError::invalid_field(
                    "status",
                    "must be open, closed or draft",
                ))
            }
        }
    }
    Ok(format!("{base}/{JOBS}?{}", q.finish()))
}

/// The `cursor` of the `Link` header's `rel="next"` URL.
pub fn next_cursor(link: &str) -> Option<String> {
    link.split(',').find_map(|part| {
        let (url, params) = part.split_once(';')?;
        if !params
            .split(';')
            .any(|p| p.trim().trim_start_matches("rel=").trim_matches('"') == "next")
        {
            return None;
        }
        let url = url.trim().trim_start_matches('<').trim_end_matches('>');
        let u = crate::weburl::WebUrl::parse(url)?;
        let found = u
            .query_pairs()
            .find(|(k, _)| k == "cursor")
            .map(|(_, v)| v.into_owned());
        found
    })
}

/// One page of jobs → `{"data": [{id, name, requisitionId, status, departments[], offices[]}],
/// "next_cursor"}`; Harvest's refusals become 502s naming the scope or the credentials.
fn jobs_page(a: &ReadAnswer) -> ApiResult<Value> {
    if !matches!(a.status, Some(200..=299)) {
        return Err(ApiError::new(
            502,
            "harvest_refused",
            format!("{}.", read_failure("jobs", JOBS, a)),
        ));
    }
    let list = items(&a.body).ok_or_else(|| {
        ApiError::upstream(
            "Harvest v3 answered the job listing with something other than a list of jobs.",
        )
    })?;
    let names = |j: &Value, k: &str| -> Vec<Value> {
        j.get(k)
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(|d| text(d, "name"))
                    .map(Value::from)
                    .collect()
            })
            .unwrap_or_default()
    };
    let data: Vec<Value> = list
        .iter()
        .map(|j| {
            json!({
                "id": id_of(j),
                "name": text(j, "name"),
                "requisitionId": text(j, "requisition_id"),
                "status": text(j, "status"),
                "departments": names(j, "departments"),
                "offices": names(j, "offices"),
            })
        })
        .collect();
    Ok(json!({
        "data": data,
        "next_cursor": a.link.as_deref().and_then(next_cursor),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::providers::Settings;

    fn creds(v: Value) -> CredentialSource {
        let mut c = CredentialSource::default();
        c.values.insert(CREDENTIAL, v.to_string());
        c.settings = Settings(
            [
                (
                    API_BASE_SETTING.to_string(),
                    "http://127.0.0.1:9/v3/".to_string(),
                ),
                (
                    TOKEN_URL_SETTING.to_string(),
                    "http://127.0.0.1:9/token".to_string(),
                ),
            ]
            .into(),
        );
        c
    }

    fn ok(body: Value) -> ReadAnswer {
        ReadAnswer {
            status: Some(200),
            body: body.to_string(),
            ..Default::default()
        }
    }

    fn status(s: u16) -> ReadAnswer {
        ReadAnswer {
            status: Some(s),
            ..Default::default()
        }
    }

    fn record(app: Option<&str>, sent_by: Option<&str>) -> CandidateAssessment {
        let mut v = json!({"partner_test_id": "p", "candidate": {"email": "c@example.com"},
            "url": "https://app.greenhouse.io/x/1", "sent_by": sent_by});
        if let Some(app) = app {
            v["candidate"]["greenhouse_profile_url"] = json!(format!(
                "https://app.greenhouse.io/people/9?application_id={app}"
            ));
        }
        let o = super::super::greenhouse::parse_send_test(&v, false).unwrap();
        super::super::greenhouse::normalize(&o, "ats_ass_1", "acme", Default::default(), v)
    }

    fn full() -> CredentialSource {
        creds(json!({"client_id": "id", "client_secret": "sec", "user_id": "42"}))
    }

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
        let readme = include_str!("../../README.md");
        let help = super::super::greenhouse::SETUP.fields[0].help;
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

    fn application() -> Value {
        json!([{"id": 77, "candidate_id": 9, "job_id": 501,
            "keyed_custom_fields": {"salary_band": {"name": "Salary band", "type": "short_text", "value": "B"}}}])
    }

    fn job() -> Value {
        json!({"data": [{"id": 501, "name": "Backend Engineer", "requisition_id": "REQ-7",
            "departments": [{"id": 1, "name": "Engineering"}],
            "offices": [{"id": 2, "name": "Berlin", "location": {"name": "Berlin, Germany"}}],
            "hiring_team": {
                "hiring_managers": [{"id": 11, "first_name": "Hana", "last_name": "M"}],
                "recruiters": [{"user_id": 12, "first_name": "Rita", "last_name": "R", "email": "rita@example.com"}],
                "coordinators": [], "sourcers": []}}]})
    }

    #[test]
    fn happy_path_reads_application_job_team_and_requester() {
        let mut run = enrich(&record(Some("77"), Some("req@example.com")), &full(), true).unwrap();
        let before = run.outcome(false);
        assert_eq!(before.enrichment["status"], "partial");
        assert!(before.enrichment["error"]
            .as_str()
            .unwrap()
            .contains("a record.modified with the completed record follows"));
        let r = run.next().unwrap();
        assert_eq!(
            r,
            Read {
                url: "http://127.0.0.1:9/v3/applications?ids=77".into(),
                cache_ms: 0
            }
        );
        run.answer(&ok(application()));
        assert_eq!(
            run.next().unwrap().url,
            "http://127.0.0.1:9/v3/jobs?ids=501"
        );
        run.answer(&ok(job()));
        // Only the member without an email is looked up; users are cached.
        let r = run.next().unwrap();
        assert_eq!(
            r,
            Read {
                url: "http://127.0.0.1:9/v3/users?ids=11".into(),
                cache_ms: USER_CACHE_MS
            }
        );
        run.answer(&ok(
            json!([{"id": 11, "primary_email_address": "hana@example.com"}]),
        ));
        assert_eq!(
            run.next().unwrap().url,
            "http://127.0.0.1:9/v3/users?email=req%40example.com"
        );
        run.answer(&ok(json!([{"id": 13, "first_name": "Req", "last_name": "Uester", "emails": ["req@example.com"]}])));
        assert_eq!(run.next(), None);
        let out = run.outcome(true);
        assert_eq!(
            out.enrichment,
            json!({"status": "complete", "missing": [], "error": null})
        );
        assert_eq!(out.job_id.as_deref(), Some("501"));
        assert_eq!(
            out.job.unwrap(),
            json!({"id": "501", "name": "Backend Engineer", "requisitionId": "REQ-7", "url": null,
            "locations": [{"name": "Berlin", "address": "Berlin, Germany"}], "departments": ["Engineering"]})
        );
        assert_eq!(
            out.hiring_team.unwrap(),
            json!([
            {"id": "11", "firstName": "Hana", "lastName": "M", "email": "hana@example.com", "role": "HIRING_MANAGER"},
            {"id": "12", "firstName": "Rita", "lastName": "R", "email": "rita@example.com", "role": "RECRUITER"}])
        );
        assert_eq!(
            out.requester.unwrap(),
            json!({"id": "13", "name": "Req Uester", "email": "req@example.com"})
        );
        assert_eq!(
            out.custom_fields.unwrap(),
            json!({"salary_band": {"label": "Salary band", "type": "short_text", "value": "B"}})
        );

        // Applied to a record: only the enrichment keys change, jobId equals job.id.
        let mut rec = record(Some("77"), Some("req@example.com"));
        let candidate = rec.candidate.clone();
        run.outcome(true).apply(&mut rec);
        assert_eq!(rec.job_id.as_deref(), Some("501"));
        assert_eq!(rec.job.as_ref().unwrap()["id"], "501");
        assert_eq!(rec.candidate, candidate);
    }

    #[test]
    fn a_missing_scope_is_named_and_the_rest_still_read() {
        let mut run = enrich(&record(Some("77"), Some("req@example.com")), &full(), true).unwrap();
        run.next();
        run.answer(&ok(application()));
        run.next();
        run.answer(&status(403));
        // No job: straight to the requester.
        assert!(run.next().unwrap().url.contains("users?email="));
        run.answer(&ok(
            json!([{"id": 13, "primary_email_address": "req@example.com"}]),
        ));
        assert_eq!(run.next(), None);
        let out = run.outcome(true);
        assert_eq!(out.enrichment["status"], "partial");
        assert_eq!(out.enrichment["missing"], json!(["job", "hiringTeam"]));
        let e = out.enrichment["error"].as_str().unwrap();
        assert!(
            e.contains("HTTP 403") && e.contains("harvest:jobs:list"),
            "{e}"
        );
        assert!(out.custom_fields.is_some(), "the application was read");
    }

    #[test]
    fn unknown_application_rate_limits_and_refused_tokens() {
        let mut run = enrich(&record(Some("404"), None), &full(), true).unwrap();
        run.next();
        run.answer(&ok(json!([])));
        assert_eq!(run.next(), None);
        let out = run.outcome(true);
        assert_eq!(out.enrichment["status"], "failed");
        assert_eq!(
            out.enrichment["missing"],
            json!(["job", "hiringTeam", "requester"])
        );
        assert!(out.enrichment["error"]
            .as_str()
            .unwrap()
            .contains("no application 404"));
        assert!(out.job.is_none() && out.job_id.is_none());

        let mut run = enrich(&record(Some("77"), None), &full(), true).unwrap();
        run.next();
        run.answer(&ReadAnswer {
            status: Some(429),
            retry_after: Some("120".into()),
            ..Default::default()
        });
        let e = run.outcome(true).enrichment["error"]
            .as_str()
            .unwrap()
            .to_string();
        assert!(e.contains("HTTP 429, Retry-After 120"), "{e}");

        let mut run = enrich(&record(Some("77"), Some("a@b.c")), &full(), true).unwrap();
        run.next();
        run.answer(&status(401));
        assert_eq!(run.next(), None, "a refused token stops the run");

        let mut run = enrich(&record(Some("77"), Some("a@b.c")), &full(), true).unwrap();
        run.give_up("Greenhouse refused the Harvest v3 client credentials (HTTP 401)");
        assert_eq!(run.next(), None);
        let out = run.outcome(true);
        assert_eq!(out.enrichment["status"], "failed");
        assert!(out.requester.is_none());

        // Not configured: no run at all. No application in the order: only the requester.
        assert!(enrich(
            &record(Some("77"), None),
            &CredentialSource::default(),
            true
        )
        .is_none());
        let mut run = enrich(&record(None, Some("a@b.c")), &full(), true).unwrap();
        assert!(run.next().unwrap().url.contains("users?email=a%40b.c"));
    }

    #[test]
    fn job_listing_requests_and_pages() {
        let q = |pairs: &[(&str, &str)]| -> Vec<(String, String)> {
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect()
        };
        assert_eq!(
            jobs_request(&full(), &q(&[("status", "open")]), true).unwrap(),
            "http://127.0.0.1:9/v3/jobs?per_page=100&status=open"
        );
        assert_eq!(
            jobs_request(&full(), &q(&[("status", "open"), ("cursor", "abc=")]), true).unwrap(),
            "http://127.0.0.1:9/v3/jobs?cursor=abc%3D"
        );
        for bad in [q(&[("status", "opened")]), q(&[("cursor", "a b")])] {
            assert_eq!(jobs_request(&full(), &bad, true).unwrap_err().status, 422);
        }
        let page = jobs_page(&ReadAnswer {
            link: Some(r#"<https://api.greenhouse.io/v3/jobs?cursor=n3xt>; rel="next", <https://api.greenhouse.io/v3/jobs?cursor=pr3v>; rel="prev""#.into()),
            ..ok(job())
        })
        .unwrap();
        assert_eq!(page["next_cursor"], "n3xt");
        assert_eq!(
            page["data"],
            json!([{"id": "501", "name": "Backend Engineer", "requisitionId": "REQ-7",
            "status": null, "departments": ["Engineering"], "offices": ["Berlin"]}])
        );
        assert!(jobs_page(&ok(json!([]))).unwrap()["next_cursor"].is_null());
        let e = jobs_page(&status(403)).unwrap_err();
        assert_eq!((e.status, e.code), (502, "harvest_refused"));
        assert!(e.message.contains("harvest:jobs:list"), "{}", e.message);
        assert_eq!(
            next_cursor(r#"<https://x.example/jobs?cursor=a>; rel="prev""#),
            None
        );
    }

    proptest::proptest! {
        #[test]
        fn answers_never_panic(body in ".{0,200}", s in 0u16..600) {
            let mut run = enrich(&record(Some("77"), Some("a@b.c")), &full(), true).unwrap();
            while run.next().is_some() {
                run.answer(&ReadAnswer { status: Some(s), body: body.clone(), ..Default::default() });
            }
            let _ = run.outcome(true);
            let _ = token_answer(Some(s), &body);
            let _ = jobs_page(&ReadAnswer { status: Some(s), body: body.clone(), link: Some(body.clone()), ..Default::default() });
            let _ = next_cursor(&body);
        }
    }
}
