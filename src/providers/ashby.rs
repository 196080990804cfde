//! Ashby assessment partner API (README "Ashby"; Ashby's public "Assessment Partner"
//! integration documentation): `assessment.list`, `assessment.start`, `assessment.cancel`, and
//! `assessment.update` back to Ashby. Validation failures use Ashby's `{"message"}` shape,
//! which Ashby shows to its user. Tenant-scoped: the customer pastes
//! `/t/{tenant}/ashby` and an `ab_` key (HTTP Basic username) into Ashby.

use serde_json::{json, Map, Value};

use super::setup::{CredentialCheck, CredentialField as ConnectField, SetupGuide, SetupUrl};
use super::Settings;
use super::{
    basic_authorization, basic_keys, compact, optional, CredentialField, CredentialSource,
    EdgeRequest, Facts, Fixture, Handler, Idempotency, Operation, OutboundCall, ScoreShape,
    Setting, Spec, Surface, WriteBack,
};
use crate::delivery::attempt::{answer_from_status, ProviderAnswer, ProviderFault};
use crate::error::{code, ApiError, ApiResult, EdgeAuth, ErrorShape};
use crate::model::{
    context, parse_rfc3339, scalar_string, AssessmentPackage, Candidate, CandidateAssessment,
    Catalogue, Email, Job, Package, Provider, ResultUpdate, Status, TeamMember, TeamRole,
};
use crate::routes::Method;
use crate::targets;

/// Ashby, as the registry sees it.
pub static SPEC: Spec = Spec {
    name: "ashby",
    title: "Ashby",
    key_prefix: "ab_",
    surface: Surface::TenantScoped,
    operations: &[
        Operation {
            segment: "assessment.list",
            method: Method::Post,
            handler: Handler::ListPackages {
                render: render_list,
            },
        },
        Operation {
            segment: "assessment.start",
            method: Method::Post,
            handler: Handler::Order {
                parse: parse_order,
                render: started,
            },
        },
        Operation {
            segment: "assessment.cancel",
            method: Method::Post,
            handler: Handler::Cancel {
                parse: parse_cancel_request,
                not_found: "assessment",
                render: started,
            },
        },
    ],
    error_shape: ErrorShape::ValidationMessage,
    edge_auth: EdgeAuth::Basic,
    extract_keys: basic_keys,
    forward_headers: &[],
    credentials: &[CredentialField {
        name: "api_key",
        secret: true,
        max_len: 512,
    }],
    settings: &[Setting {
        env: "ASHBY_API_BASE",
        default: Some("https://api.ashbyhq.com"),
    }],
    authorization,
    authorization_header: "authorization",
    call_headers: &[],
    call_answer: update_answer,
    write_back,
    after_order: None,
    // One active assessment per application and type; a final result frees the key.
    idempotency: Idempotency::KeyFreedWhenFinal,
    facts: Facts {
        result_fields: &[
            ("status", "assessment_status"),
            ("score", "assessment_result (numeric_score)"),
            ("result_url", "assessment_profile_url"),
            ("reason", "cancelled_reason"),
            ("max_score", "metadata \"Max Score\""),
            ("started_at", "metadata \"Duration\" (with completed_at)"),
            ("completed_at", "metadata \"Duration\" (with started_at)"),
            (
                "summary",
                "assessment_result, or metadata \"Summary\" when a score is sent",
            ),
            ("metadata", "metadata (one DataValue per key)"),
        ],
        limits: &[
            ("key length", "under 171 characters"),
            (
                "metadata identifier",
                "lowercase letters, digits and _, at most 60",
            ),
        ],
        status_mapping: &[
            (Status::NotSpecified, "Pending"),
            (Status::Pending, "Pending"),
            (Status::Started, "Started"),
            (Status::InProgress, "In Progress"),
            (Status::Completed, "Completed"),
            (Status::Rejected, "Rejected"),
            (Status::Expired, "Expired"),
            (Status::Cancelled, "Cancelled"),
        ],
        score: ScoreShape::Number,
        attachments: 0,
        // Every assessment.update replaces what Ashby shows.
        final_result_changeable: true,
    },
    setup: &SETUP,
    credential_check,
    fixtures: &[
        Fixture {
            operation: "assessment.list",
            query: "",
            body: include_str!("../../fixtures/ashby/assessment.list.json"),
        },
        Fixture {
            operation: "assessment.start",
            query: "",
            body: include_str!("../../fixtures/ashby/assessment.start.json"),
        },
        Fixture {
            operation: "assessment.cancel",
            query: "",
            body: include_str!("../../fixtures/ashby/assessment.cancel.json"),
        },
    ],
};

/// What the connect page tells a customer (README "Connect links"); the results key is
/// checked with `POST /apiKey.info` before it is stored.
pub(crate) const SETUP: SetupGuide = SetupGuide {
    display_name: "Ashby",
    steps: &[
        "Sign in to Ashby as an admin and open Admin → Integrations, then this vendor's assessment integration.",
        "Paste the base URL and the API key below. Ashby calls the base URL with the key on every assessment.",
        "Create an Ashby API key for results (Admin → API Keys) with the Candidates write permission and paste it below, so scores and statuses reach Ashby.",
    ],
    urls: &[SetupUrl { label: "Base URL", suffix: "" }],
    key_label: "API key",
    fields: &[ConnectField {
        name: "api_key",
        label: "Ashby API key (Candidates write)",
        help: "Checked with Ashby before it is stored; never shown again.",
    }],
    note: None,
};

/// The connect page's check of a results key: `POST {ASHBY_API_BASE}/apiKey.info` with the
/// key as Basic username answers `{"success":true}` for a valid key.
fn credential_check(
    fields: &[(&'static str, String)],
    settings: &Settings,
) -> Option<CredentialCheck> {
    let key = fields.iter().find(|(n, _)| *n == "api_key")?;
    let base = settings.get("ASHBY_API_BASE").unwrap_or_default();
    Some(CredentialCheck {
        url: format!("{}/apiKey.info", base.trim_end_matches('/')),
        basic_user: key.1.clone(),
        body: json!({}),
        accept: key_accepted,
    })
}

/// Whether Ashby accepted the key: Ashby answers many errors with HTTP 200 and
/// `"success": false` (`errorInfo.message`, or the older `errors[]`); 401/403 mean a missing,
/// wrong or under-privileged key. Err is a sentence for the customer.
fn key_accepted(status: Option<u16>, body: &str) -> Result<(), String> {
    let v: Value = serde_json::from_str(body).unwrap_or(Value::Null);
    match status {
        Some(200) if v["success"] == json!(true) => Ok(()),
        Some(401 | 403) => Err("Ashby did not accept this API key.".into()),
        Some(200) => Err(format!(
            "Ashby did not accept this API key: {}",
            v["errorInfo"]["message"]
                .as_str()
                .or(v["errors"][0].as_str())
                .unwrap_or("no reason given")
        )),
        Some(s) => Err(format!("Ashby answered HTTP {s}; try again in a minute.")),
        None => Err("Ashby could not be reached; try again in a minute.".into()),
    }
}

fn render_list(_: &EdgeRequest, packages: &[Package]) -> ApiResult<Value> {
    Ok(list(packages))
}

fn parse_order(req: &EdgeRequest) -> ApiResult<super::Order> {
    let v = req.json()?;
    let start = parse_start(&v)?;
    Ok(super::Order {
        // Idempotent while active: Ashby may retry a start; the same id comes back.
        idempotency_key: start.dedupe_key(),
        normalize: Box::new(move |id, tenant, catalogue| {
            normalize(&start, id, tenant, catalogue, v)
        }),
    })
}

fn parse_cancel_request(req: &EdgeRequest) -> ApiResult<String> {
    parse_cancel(&req.json()?)
}

/// The tenant's Ashby API key as the Basic username (Ashby's API authentication).
fn authorization(c: &CredentialSource) -> Option<String> {
    c.tenant("api_key").map(|k| basic_authorization(k, ""))
}

/// Every accepted result is forwarded as an `assessment.update` (README "Results").
fn write_back(w: &WriteBack) -> ApiResult<Vec<OutboundCall>> {
    if authorization(w.credentials).is_none() {
        return Err(ApiError::new(
            422,
            "ashby_api_key_missing",
            "The tenant has no Ashby API key: set it with PATCH /v1/tenants/{id} {\"ashby\":{\"api_key\":\"…\"}} before sending results.",
        ));
    }
    let base = w
        .credentials
        .setting("ASHBY_API_BASE")
        .unwrap_or_default()
        .trim_end_matches('/');
    let url = targets::check_ashby_api(&format!("{base}/assessment.update"), w.allow_insecure)
        .map_err(|why| {
            ApiError::new(
                422,
                code::INVALID_CONFIGURATION,
                format!("ASHBY_API_BASE {why}."),
            )
        })?;
    Ok(vec![OutboundCall {
        label: "Ashby assessment.update",
        method: worker::Method::Post,
        url: url.to_string(),
        body: Some(update_body(w.assessment_id, w.update_ts, w.result).to_string()),
    }])
}

/// A validated `assessment.start`.
#[derive(Debug, Clone, PartialEq)]
pub struct Start {
    pub assessment_type_id: String,
    pub candidate_id: String,
    pub email: String,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub profile_url: Option<String>,
    pub application_id: String,
    pub application_status: Option<String>,
    pub job_id: Option<String>,
    pub job_name: Option<String>,
    pub req_id: Option<String>,
    pub job_url: Option<String>,
    pub hiring_team: Option<Value>,
}

impl Start {
    /// Idempotency key: one active assessment per application and assessment type.
    pub fn dedupe_key(&self) -> String {
        format!("{}\u{1f}{}", self.application_id, self.assessment_type_id)
    }
}

/// A 422 in Ashby's shape whose message names the field in words and in JSON terms.
fn missing(what: &str, field: &str) -> ApiError {
    let mut e = ApiError::new(
        422,
        code::INVALID_FIELD,
        format!("The assessment could not be started: {what} is missing (`{field}`)."),
    );
    e.shape = ErrorShape::ValidationMessage;
    e
}

fn need(v: &Value, path: &[&str], what: &str) -> ApiResult<String> {
    optional(v, path).ok_or_else(|| missing(what, &path.join(".")))
}

pub fn parse_start(v: &Value) -> ApiResult<Start> {
    if !v.is_object() {
        return Err(ApiError::invalid_field("body", "must be a JSON object")
            .shaped(ErrorShape::ValidationMessage));
    }
    let email = need(v, &["candidate", "email"], "the candidate's email address")?;
    if !email.contains('@') {
        let mut e = ApiError::new(
            422,
            code::INVALID_FIELD,
            format!("The candidate's email address `{email}` is not valid (`candidate.email`)."),
        );
        e.shape = ErrorShape::ValidationMessage;
        return Err(e);
    }
    Ok(Start {
        assessment_type_id: need(v, &["assessment_type_id"], "the assessment type")?,
        candidate_id: need(v, &["candidate", "ashby_id"], "the candidate's Ashby id")?,
        email,
        first_name: optional(v, &["candidate", "first_name"]),
        last_name: optional(v, &["candidate", "last_name"]),
        profile_url: optional(v, &["candidate", "ashby_profile_url"]),
        application_id: need(
            v,
            &["application", "ashby_id"],
            "the application's Ashby id",
        )?,
        application_status: optional(v, &["application", "status"]),
        job_id: optional(v, &["job", "ashby_id"]),
        job_name: optional(v, &["job", "name"]),
        req_id: optional(v, &["job", "req_id"]),
        job_url: optional(v, &["job", "ashby_job_url"]),
        hiring_team: v
            .get("job")
            .and_then(|j| j.get("hiringTeam"))
            .filter(|h| h.is_array())
            .cloned(),
    })
}

/// `assessment.cancel` → the assessment id.
pub fn parse_cancel(v: &Value) -> ApiResult<String> {
    if !v.is_object() {
        return Err(ApiError::invalid_field("body", "must be a JSON object")
            .shaped(ErrorShape::ValidationMessage));
    }
    scalar_string(v.get("assessment_id"))
        .filter(|s| !s.is_empty())
        .ok_or_else(|| {
            let mut e = ApiError::new(
                422,
                code::INVALID_FIELD,
                "The assessment could not be cancelled: the assessment id is missing (`assessment_id`).",
            );
            e.shape = ErrorShape::ValidationMessage;
            e
        })
}

pub fn normalize(
    s: &Start,
    id: &str,
    tenant: &str,
    catalogue: Catalogue<'_>,
    origin: Value,
) -> CandidateAssessment {
    CandidateAssessment {
        id: id.to_string(),
        application_id: Some(s.application_id.clone()),
        assessment_package: AssessmentPackage::from_catalogue(&s.assessment_type_id, catalogue),
        callback_url: None,
        candidate: Candidate {
            emails: Some(vec![Email {
                email: s.email.clone(),
                kind: "PRIMARY".into(),
            }]),
            first_name: s.first_name.clone(),
            last_name: s.last_name.clone(),
            id: Some(s.candidate_id.clone()),
            links: s.profile_url.clone().map(|u| vec![u]),
            location: None,
            phones: None,
        },
        job_id: s.job_id.clone(),
        job: (s.job_id.is_some() || s.job_name.is_some()).then(|| {
            context(Job {
                id: s.job_id.clone(),
                name: s.job_name.clone(),
                requisition_id: s.req_id.clone(),
                url: s.job_url.clone(),
                locations: None,
                departments: None,
            })
        }),
        hiring_team: s.hiring_team.as_ref().map(|t| context(hiring_team(t))),
        requester: None,
        custom_fields: None,
        enrichment: None,
        meta_data: compact(json!({
            "jobName": s.job_name,
            "jobReqId": s.req_id,
            "jobUrl": s.job_url,
            "applicationStatus": s.application_status,
            "hiringTeam": s.hiring_team,
        })),
        origin_data: origin,
        status: Status::NotSpecified,
        provider: Provider::of(&SPEC),
        tenant_id: tenant.to_string(),
    }
}

/// `job.hiringTeam[{userId, firstName, lastName, email, role}]` → `hiringTeam` (README "Webhooks you receive");
/// entries that are not objects are skipped, Ashby's role labels map to the nearest role.
fn hiring_team(team: &Value) -> Vec<TeamMember> {
    team.as_array()
        .into_iter()
        .flatten()
        .filter(|m| m.is_object())
        .map(|m| TeamMember {
            id: optional(m, &["userId"]),
            first_name: optional(m, &["firstName"]),
            last_name: optional(m, &["lastName"]),
            email: optional(m, &["email"]),
            role: optional(m, &["role"])
                .map(|r| TeamRole::from_label(&r))
                .unwrap_or(TeamRole::Other),
        })
        .collect()
}

pub fn list(packages: &[Package]) -> Value {
    json!({
        "success": true,
        "results": packages.iter().map(|p| json!({
            "assessment_type_id": p.id,
            "name": p.name,
            "description": p.description.clone().unwrap_or_default(),
        })).collect::<Vec<_>>(),
    })
}

pub fn started(id: &str) -> Value {
    json!({ "success": true, "results": { "assessment_id": id } })
}

fn data_value(identifier: &str, label: &str, kind: &str, value: Value) -> Value {
    json!({ "identifier": identifier, "label": label, "type": kind, "value": value })
}

/// Ashby's display word for a status; `"Started"` makes Ashby record the start time.
fn status_word(s: Status) -> &'static str {
    match s {
        Status::NotSpecified | Status::Pending => "Pending",
        Status::Started => "Started",
        Status::InProgress => "In Progress",
        Status::Completed => "Completed",
        Status::Rejected => "Rejected",
        Status::Expired => "Expired",
        Status::Cancelled => "Cancelled",
    }
}

/// A metadata identifier: lowercase letters, digits and `_`.
fn ident(s: &str) -> String {
    let mut out: String = s
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '_'
            }
        })
        .collect();
    out.truncate(60);
    out
}

/// The `assessment.update` body for a result (SPEC §9, PROVIDERS.md DataValue shapes).
pub fn update_body(assessment_id: &str, timestamp_ms: i64, r: &ResultUpdate) -> Value {
    let mut body = Map::new();
    body.insert("assessment_id".into(), json!(assessment_id));
    body.insert("timestamp".into(), json!(timestamp_ms));
    body.insert(
        "assessment_status".into(),
        data_value("status", "Status", "string", json!(status_word(r.status))),
    );
    let mut meta: Vec<Value> = Vec::new();
    match r.status {
        Status::Completed => {
            let result = match r.score {
                Some(score) => data_value("score", "Score", "numeric_score", json!(score)),
                None => data_value(
                    "result",
                    "Result",
                    "string",
                    json!(r.summary.clone().unwrap_or_else(|| "Completed".into())),
                ),
            };
            body.insert("assessment_result".into(), result);
            if let Some(url) = &r.result_url {
                body.insert(
                    "assessment_profile_url".into(),
                    data_value("result_url", "Results", "url", json!(url)),
                );
            }
        }
        Status::Cancelled | Status::Expired => {
            let reason = r.reason.clone().unwrap_or_else(|| {
                if r.status == Status::Expired {
                    "The assessment expired before the candidate completed it".into()
                } else {
                    "The assessment was cancelled".into()
                }
            });
            body.insert(
                "cancelled_reason".into(),
                data_value("cancelled_reason", "Reason", "string", json!(reason)),
            );
        }
        _ => {}
    }
    if let Some(max) = r.max_score {
        meta.push(data_value(
            "max_score",
            "Max Score",
            "numeric_score",
            json!(max),
        ));
    }
    if let (Some(a), Some(b)) = (
        r.started_at.as_deref().and_then(parse_rfc3339),
        r.completed_at.as_deref().and_then(parse_rfc3339),
    ) {
        if b >= a {
            let minutes = ((b - a) as f64 / 60_000.0 * 10.0).round() / 10.0;
            meta.push(data_value(
                "duration",
                "Duration",
                "numeric_duration_minutes",
                json!(minutes),
            ));
        }
    }
    if let Some(summary) = &r.summary {
        if r.score.is_some() || r.status != Status::Completed {
            meta.push(data_value("summary", "Summary", "string", json!(summary)));
        }
    }
    let mut used: Vec<String> = meta
        .iter()
        .filter_map(|m| m["identifier"].as_str().map(String::from))
        .collect();
    for (k, v) in &r.metadata {
        let (kind, value) = match v {
            Value::Bool(b) => ("boolean_success", json!(b)),
            Value::Number(n) => ("numeric_score", json!(n)),
            Value::String(s) => ("string", json!(s)),
            _ => continue,
        };
        let mut id = format!("meta_{}", ident(k));
        while used.contains(&id) {
            id.push('_');
        }
        used.push(id.clone());
        meta.push(data_value(&id, k, kind, value));
    }
    if !meta.is_empty() {
        body.insert("metadata".into(), Value::Array(meta));
    }
    Value::Object(body)
}

/// What Ashby's answer to `assessment.update` means (SPEC §20). Ashby answers many errors with
/// HTTP 200 and `{"success": false, "errorInfo": {"code", "message", "requestId"}}` (older
/// form: `"errors": ["…"]`), so the status alone decides nothing: only `"success": true` is a
/// success, and its `warnings` are kept. Any other 2xx body — not JSON, cut at the read cap
/// (`complete` false), or without the envelope — is not what Ashby sends on success and is a
/// final failure. 429 and 5xx are retried; every other status is final. Ashby's error shape:
/// <https://developers.ashbyhq.com/reference> (responses of every endpoint).
pub fn update_answer(status: u16, body: &str, complete: bool) -> ProviderAnswer {
    let v: Option<Value> = if complete {
        serde_json::from_str(body).ok()
    } else {
        None
    };
    let envelope_fault = v.as_ref().and_then(ashby_fault);
    if (200..300).contains(&status) {
        return match v.as_ref().and_then(|v| v.get("success")) {
            Some(Value::Bool(true)) => ProviderAnswer::Accepted {
                warnings: warnings(v.as_ref()),
            },
            Some(Value::Bool(false)) => {
                ProviderAnswer::Refused(envelope_fault.unwrap_or_else(|| ProviderFault {
                    code: None,
                    message: "Ashby answered \"success\": false without saying why".into(),
                    request_id: None,
                }))
            }
            _ => ProviderAnswer::Refused(ProviderFault {
                code: None,
                message: format!(
                    "Ashby answered HTTP {status} without its success envelope{}",
                    if complete {
                        ""
                    } else {
                        " (the answer exceeds the read cap)"
                    }
                ),
                request_id: None,
            }),
        };
    }
    match (answer_from_status(status, body), envelope_fault) {
        (ProviderAnswer::Transient(_), Some(f)) => ProviderAnswer::Transient(f),
        (ProviderAnswer::Refused(_), Some(f)) => ProviderAnswer::Refused(f),
        (plain, _) => plain,
    }
}

/// Ashby's account of an error: `errorInfo{code, message, requestId}`, else the older
/// `errors[]` (joined). None when the body carries neither.
fn ashby_fault(v: &Value) -> Option<ProviderFault> {
    let text = |x: Option<&Value>| {
        x.and_then(|x| match x {
            Value::String(s) if !s.trim().is_empty() => Some(s.trim().to_string()),
            Value::Number(n) => Some(n.to_string()),
            _ => None,
        })
    };
    let info = v.get("errorInfo").filter(|i| i.is_object());
    let errors: Vec<String> = v
        .get("errors")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|e| match e {
                    Value::String(s) => Some(s.clone()),
                    Value::Null => None,
                    other => Some(other.to_string()),
                })
                .collect()
        })
        .unwrap_or_default();
    let code = info.and_then(|i| text(i.get("code")));
    let message = info
        .and_then(|i| text(i.get("message")))
        .or_else(|| (!errors.is_empty()).then(|| errors.join("; ")));
    let request_id = info.and_then(|i| text(i.get("requestId")));
    if code.is_none() && message.is_none() && request_id.is_none() {
        return None;
    }
    Some(ProviderFault {
        message: message
            .or_else(|| code.clone())
            .unwrap_or_else(|| "Ashby reported an error".into()),
        code,
        request_id,
    })
}

/// `warnings` of a successful Ashby answer, as strings.
fn warnings(v: Option<&Value>) -> Vec<String> {
    v.and_then(|v| v.get("warnings"))
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|w| match w {
                    Value::String(s) => Some(s.clone()),
                    Value::Null => None,
                    other => Some(other.to_string()),
                })
                .collect()
        })
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::OrderKind;

    #[test]
    fn connect_page_key_check() {
        let settings = Settings(
            [(
                "ASHBY_API_BASE".to_string(),
                "https://api.ashbyhq.com/".to_string(),
            )]
            .into(),
        );
        let c = credential_check(&[("api_key", "k1".into())], &settings).unwrap();
        assert_eq!(c.url, "https://api.ashbyhq.com/apiKey.info");
        assert_eq!(c.basic_user, "k1");
        assert!(credential_check(&[], &settings).is_none());
        let accept = c.accept;
        assert!(accept(Some(200), r#"{"success":true,"results":{}}"#).is_ok());
        let e = accept(
            Some(200),
            r#"{"success":false,"errorInfo":{"code":"x","message":"Key revoked"}}"#,
        )
        .unwrap_err();
        assert!(e.contains("Key revoked"), "{e}");
        assert!(
            accept(Some(200), r#"{"success":false,"errors":["old form"]}"#)
                .unwrap_err()
                .contains("old form")
        );
        assert!(accept(Some(401), "")
            .unwrap_err()
            .contains("did not accept"));
        assert!(accept(None, "")
            .unwrap_err()
            .contains("could not be reached"));
        assert!(accept(Some(500), "").is_err());
    }

    fn start_json() -> Value {
        json!({
            "assessment_type_id": "pkg_456",
            "candidate": {"ashby_id": "cand_789xyz", "first_name": "Alex", "last_name": "Chen", "email": "alex@example.com", "ashby_profile_url": "https://app.ashbyhq.com/candidates/cand_789xyz"},
            "application": {"ashby_id": "app_123abc", "status": "Active"},
            "job": {"ashby_id": "job_456def", "name": "Senior Frontend Engineer", "req_id": "R-7", "ashby_job_url": "https://app.ashbyhq.com/jobs/job_456def", "hiringTeam": [{"userId": "u1", "firstName": "Sam", "lastName": "Lee", "email": "sam@example.com", "role": "Recruiter"}]}
        })
    }

    #[test]
    fn normalizes_start() {
        let v = start_json();
        let s = parse_start(&v).unwrap();
        let cat = vec![Package {
            id: "pkg_456".into(),
            name: "Frontend".into(),
            description: Some("Skills".into()),
            package_type: Some("SKILLS_TEST".into()),
            kind: Some(OrderKind::ReferenceCheck),
            criteria: vec![],
        }];
        let catalogue = Catalogue {
            packages: Some(&cat),
            default_kind: OrderKind::Assessment,
        };
        let a = normalize(&s, "ats_ass_1", "acme", catalogue, v.clone());
        let out = serde_json::to_value(&a).unwrap();
        assert_eq!(out["applicationId"], "app_123abc");
        assert_eq!(out["jobId"], "job_456def");
        assert_eq!(out["candidate"]["id"], "cand_789xyz");
        assert_eq!(
            out["candidate"]["emails"][0],
            json!({"email": "alex@example.com", "type": "PRIMARY"})
        );
        assert_eq!(
            out["candidate"]["links"][0],
            "https://app.ashbyhq.com/candidates/cand_789xyz"
        );
        assert_eq!(out["assessmentPackage"]["name"], "Frontend");
        assert_eq!(out["assessmentPackage"]["description"], "Skills");
        assert_eq!(out["assessmentPackage"]["type"], "SKILLS_TEST");
        assert_eq!(out["assessmentPackage"]["kind"], "reference_check");
        assert_eq!(out["metaData"]["jobName"], "Senior Frontend Engineer");
        assert!(out["callbackUrl"].is_null());
        assert_eq!(out["originData"], v);
        assert_eq!(out["provider"], "ashby");
        assert_eq!(
            out["job"],
            json!({"id": "job_456def", "name": "Senior Frontend Engineer", "requisitionId": "R-7", "url": "https://app.ashbyhq.com/jobs/job_456def", "locations": null, "departments": null})
        );
        assert_eq!(
            out["hiringTeam"],
            json!([{"id": "u1", "firstName": "Sam", "lastName": "Lee", "email": "sam@example.com", "role": "RECRUITER"}])
        );
        for k in ["requester", "customFields", "enrichment"] {
            assert!(out[k].is_null(), "{k} is present and null");
            assert!(out.as_object().unwrap().contains_key(k), "{k} is present");
        }
        assert_eq!(s.dedupe_key(), "app_123abc\u{1f}pkg_456");
    }

    #[test]
    fn validation_messages_name_the_field_in_ashby_shape() {
        for (path, field) in [
            (vec!["candidate", "email"], "candidate.email"),
            (vec!["candidate", "ashby_id"], "candidate.ashby_id"),
            (vec!["application", "ashby_id"], "application.ashby_id"),
            (vec!["assessment_type_id"], "assessment_type_id"),
        ] {
            let mut v = start_json();
            let (last, parents) = path.split_last().unwrap();
            let mut cur = &mut v;
            for p in parents {
                cur = cur.get_mut(*p).unwrap();
            }
            cur.as_object_mut().unwrap().remove(*last);
            let e = parse_start(&v).unwrap_err();
            assert_eq!(e.status, 422);
            let body: Value = serde_json::from_str(&e.body()).unwrap();
            assert!(
                body["message"].as_str().unwrap().contains(field),
                "{}",
                e.body()
            );
        }
        assert_eq!(parse_cancel(&json!({"assessment_id": "x"})).unwrap(), "x");
        assert!(parse_cancel(&json!({}))
            .unwrap_err()
            .body()
            .contains("assessment_id"));
    }

    #[test]
    fn update_bodies() {
        let done = ResultUpdate {
            attachments: vec![],
            status: Status::Completed,
            score: Some(87.5),
            max_score: Some(100.0),
            result_url: Some("https://v.example/r/1".into()),
            started_at: Some("2026-11-01T10:00:00Z".into()),
            completed_at: Some("2026-11-01T11:30:00Z".into()),
            summary: Some("Strong".into()),
            metadata: json!({"Plagiarism": false, "Language": "Rust"})
                .as_object()
                .unwrap()
                .clone(),
            reason: None,
        };
        let b = update_body("ats_ass_1", 1000, &done);
        assert_eq!(b["assessment_id"], "ats_ass_1");
        assert_eq!(b["timestamp"], 1000);
        assert_eq!(b["assessment_status"]["value"], "Completed");
        assert_eq!(
            b["assessment_result"],
            json!({"identifier":"score","label":"Score","type":"numeric_score","value":87.5})
        );
        assert_eq!(b["assessment_profile_url"]["type"], "url");
        let meta = b["metadata"].as_array().unwrap();
        let find = |id: &str| {
            meta.iter()
                .find(|m| m["identifier"] == id)
                .cloned()
                .unwrap()
        };
        assert_eq!(find("max_score")["value"], 100.0);
        assert_eq!(find("duration")["type"], "numeric_duration_minutes");
        assert_eq!(find("duration")["value"], 90.0);
        assert_eq!(find("meta_plagiarism")["type"], "boolean_success");
        assert_eq!(find("meta_language")["label"], "Language");
        let ids: std::collections::HashSet<_> =
            meta.iter().map(|m| m["identifier"].clone()).collect();
        assert_eq!(ids.len(), meta.len(), "identifiers are unique");

        let started = ResultUpdate {
            attachments: vec![],
            status: Status::Started,
            score: None,
            max_score: None,
            result_url: None,
            started_at: None,
            completed_at: None,
            summary: None,
            metadata: Map::new(),
            reason: None,
        };
        let b = update_body("a", 1, &started);
        assert_eq!(b["assessment_status"]["value"], "Started");
        assert!(b.get("assessment_result").is_none());
        assert!(b.get("metadata").is_none());

        let expired = ResultUpdate {
            status: Status::Expired,
            reason: Some("No show".into()),
            ..started.clone()
        };
        let b = update_body("a", 2, &expired);
        assert_eq!(b["cancelled_reason"]["value"], "No show");
        assert!(b.get("assessment_result").is_none());
    }

    #[test]
    fn update_answers_are_read_by_their_envelope_not_their_status() {
        let ok = update_answer(200, r#"{"success":true,"results":{}}"#, true);
        assert_eq!(ok, ProviderAnswer::Accepted { warnings: vec![] });
        let warned = update_answer(
            200,
            r#"{"success":true,"results":{},"warnings":["metadata identifier reused"]}"#,
            true,
        );
        assert_eq!(
            warned,
            ProviderAnswer::Accepted {
                warnings: vec!["metadata identifier reused".into()]
            }
        );
        // HTTP 200 with success:false is a final failure carrying Ashby's own words.
        let refused = update_answer(
            200,
            r#"{"success":false,"errorInfo":{"code":"assessment_not_found","message":"Assessment not found","requestId":"r-1"}}"#,
            true,
        );
        assert_eq!(
            refused,
            ProviderAnswer::Refused(ProviderFault {
                code: Some("assessment_not_found".into()),
                message: "Assessment not found".into(),
                request_id: Some("r-1".into()),
            })
        );
        // The older form: errors[] only.
        match update_answer(
            200,
            r#"{"success":false,"errors":["invalid_input","timestamp is required"]}"#,
            true,
        ) {
            ProviderAnswer::Refused(f) => {
                assert_eq!(f.message, "invalid_input; timestamp is required");
                assert_eq!(f.code, None);
            }
            other => panic!("{other:?}"),
        }
        // Not Ashby's success envelope: not a success.
        for body in ["ok", "", "{}", r#"{"results":{}}"#, r#"{"success":"true"}"#] {
            assert!(
                matches!(update_answer(200, body, true), ProviderAnswer::Refused(_)),
                "{body:?}"
            );
        }
        // An answer cut at the read cap is never taken for a success.
        assert!(matches!(
            update_answer(200, r#"{"success":true"#, false),
            ProviderAnswer::Refused(_)
        ));
        // Statuses: 5xx/429 retried (with Ashby's words when given), other 4xx final.
        match update_answer(
            503,
            r#"{"success":false,"errorInfo":{"code":"unavailable","message":"Try later","requestId":"r-2"}}"#,
            true,
        ) {
            ProviderAnswer::Transient(f) => assert_eq!(f.request_id.as_deref(), Some("r-2")),
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            update_answer(429, "", true),
            ProviderAnswer::Transient(_)
        ));
        match update_answer(
            403,
            r#"{"success":false,"errorInfo":{"code":"forbidden","message":"Missing candidatesWrite"}}"#,
            true,
        ) {
            ProviderAnswer::Refused(f) => {
                assert_eq!(f.code.as_deref(), Some("forbidden"));
                assert_eq!(f.message, "Missing candidatesWrite");
            }
            other => panic!("{other:?}"),
        }
        match update_answer(401, "Unauthorized", true) {
            ProviderAnswer::Refused(f) => assert_eq!(f.message, "HTTP 401: Unauthorized"),
            other => panic!("{other:?}"),
        }
    }

    // --- as the registry sees it ---------------------------------------------------------

    use crate::admin::tenants::{self, Change, Credentials, TenantConfig, TenantSecrets};
    use crate::providers::{CredentialSource, Settings, REGISTRY};
    use crate::routes::{match_admin, match_edge, Admin};

    fn ab() -> Provider {
        Provider::parse("ashby").unwrap()
    }

    #[test]
    fn registered_and_routed() {
        assert!(REGISTRY.iter().any(|s| std::ptr::eq(*s, &SPEC)));
        assert_eq!(ab().key_prefix(), "ab_");
        assert!(ab().new_key("acme").starts_with("ab_"));
        assert_eq!(
            match_edge(Method::Post, &["ACME!", "ashby", "assessment.start"])
                .unwrap_err()
                .status,
            401
        );
        assert_eq!(
            match_edge(Method::Post, &["acme", "ashby", "send_test"])
                .unwrap_err()
                .status,
            404
        );
        assert_eq!(
            match_admin(Method::Delete, &["tenants", "acme", "secrets", "ashby"]),
            Ok(Admin::DeleteKey("acme".into(), ab()))
        );
    }

    fn tenant() -> (TenantConfig, TenantSecrets) {
        let cfg = TenantConfig {
            id: "acme".into(),
            name: None,
            webhook_url: "https://h.example/x".into(),
            webhook_disabled: true,
            packages_url: None,
            static_package_id: Some("p".into()),
            packages: vec![],
            default_kind: Default::default(),
            credentials: Default::default(),
            retention_days: crate::tenant::privacy::default_retention_days(),
            created_at: 0,
            updated_at: 0,
        };
        (cfg, TenantSecrets::default())
    }

    #[test]
    fn api_key_is_a_redacted_tenant_secret() {
        let p = tenants::parse_patch(&json!({"ashby":{"api_key":"k"}}), false).unwrap();
        assert_eq!(p.credential("ashby", "api_key"), &Change::Set("k".into()));
        let (mut cfg, mut s) = tenant();
        tenants::apply_patch(&mut cfg, &mut s, p, 5);
        assert_eq!(
            serde_json::to_value(&s).unwrap()["ashby_api_key"],
            "k",
            "stored under the key tenants created before the registry used"
        );
        s.credentials
            .insert("ashby_api_key".into(), Some("secret-ashby".into()));
        let v = tenants::view(&cfg, Some(&s), &[], "https://b.example", 0);
        assert!(!v.to_string().contains("secret-ashby"));
        assert_eq!(v["ashby"]["api_key_set"], true);
        assert_eq!(
            v["providers"]["ashby"]["baseUrl"],
            "https://b.example/t/acme/ashby"
        );
        let creds = Credentials::resolve(&cfg, &s, &Settings::default());
        assert_eq!(
            creds.authorization(ab()),
            Some(basic_authorization("secret-ashby", ""))
        );
        assert_eq!(
            tenants::parse_patch(&json!({"ashby":{"api_key":5}}), false)
                .unwrap_err()
                .status,
            422
        );
    }

    #[test]
    fn every_result_becomes_an_assessment_update() {
        let v: Value =
            serde_json::from_str(include_str!("../../fixtures/ashby/assessment.start.json"))
                .unwrap();
        let a = normalize(
            &parse_start(&v).unwrap(),
            "ats_ass_1",
            "acme",
            Catalogue::default(),
            v,
        );
        let started = ResultUpdate {
            attachments: vec![],
            status: Status::Started,
            score: None,
            max_score: None,
            result_url: None,
            started_at: None,
            completed_at: None,
            summary: None,
            metadata: Map::new(),
            reason: None,
        };
        let mut creds = CredentialSource::default();
        creds
            .settings
            .0
            .insert("ASHBY_API_BASE".into(), "https://api.ashbyhq.com/".into());
        let wb = |c: &CredentialSource, insecure: bool| {
            write_back(&WriteBack {
                assessment_id: "ats_ass_1",
                record: &a,
                result: &started,
                update_ts: 7,
                credentials: c,
                allow_insecure: insecure,
            })
        };
        let e = wb(&creds, false).unwrap_err();
        assert_eq!((e.status, e.code), (422, "ashby_api_key_missing"));
        creds.values.insert("api_key", "k".into());
        let calls = wb(&creds, false).unwrap();
        assert_eq!(calls.len(), 1);
        assert_eq!(calls[0].url, "https://api.ashbyhq.com/assessment.update");
        assert_eq!(calls[0].method, worker::Method::Post);
        let body: Value = serde_json::from_str(calls[0].body.as_deref().unwrap()).unwrap();
        assert_eq!(body, update_body("ats_ass_1", 7, &started));
        creds
            .settings
            .0
            .insert("ASHBY_API_BASE".into(), "http://127.0.0.1:9".into());
        let e = wb(&creds, false).unwrap_err();
        assert_eq!((e.status, e.code), (422, "invalid_configuration"));
        assert!(wb(&creds, true).is_ok());
    }
}
