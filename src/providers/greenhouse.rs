//! Greenhouse Assessment Partner API (README "Greenhouse"; Greenhouse's public
//! "Assessment Partner API" documentation): `list_tests`, `send_test`, `test_status`,
//! `response_error`, and the completion `PATCH` back to Greenhouse. Tenant-scoped: the
//! customer pastes `/t/{tenant}/greenhouse` and a `gh_` key (HTTP Basic username) into
//! Greenhouse.

use serde_json::{json, Map, Value};

use super::greenhouse_harvest::{self, HarvestCredentials};
use super::setup::{CredentialCheck, CredentialField as ConnectField, SetupGuide, SetupUrl};
use super::{
    basic_authorization, basic_keys, compact, optional, required, CredentialField,
    CredentialSource, EdgeRequest, Facts, Fixture, Handler, Idempotency, Operation, OutboundCall,
    ReportedError, ScoreShape, Setting, Settings, Spec, StatusView, Surface, WriteBack,
};
use crate::delivery::attempt::{answer_from_status, ProviderAnswer};
use crate::error::{ApiError, ApiResult, EdgeAuth, ErrorShape};
use crate::model::{
    context, AssessmentPackage, Candidate, CandidateAssessment, Catalogue, Email, Enrichment,
    EnrichmentStatus, Package, Phone, Provider, Requester, ResultUpdate, Status,
};
use crate::routes::Method;
use crate::targets::{self, AllowedHost, Refusal};

/// Greenhouse, as the registry sees it.
pub static SPEC: Spec = Spec {
    name: "greenhouse",
    title: "Greenhouse",
    key_prefix: "gh_",
    surface: Surface::TenantScoped,
    operations: &[
        Operation {
            segment: "list_tests",
            method: Method::Get,
            handler: Handler::ListPackages {
                render: render_list_tests,
            },
        },
        Operation {
            segment: "send_test",
            method: Method::Post,
            handler: Handler::Order {
                parse: parse_order,
                render: render_order,
            },
        },
        Operation {
            segment: "test_status",
            method: Method::Get,
            handler: Handler::Status {
                parse: parse_status,
                not_found: "interview",
                render: render_status,
            },
        },
        Operation {
            segment: "response_error",
            method: Method::Post,
            handler: Handler::ReportError {
                parse: parse_reported_error,
                render: render_reported_error,
            },
        },
    ],
    error_shape: ErrorShape::Bridge,
    edge_auth: EdgeAuth::Basic,
    extract_keys: basic_keys,
    forward_headers: &[],
    credentials: &[
        CredentialField {
            name: "partner_username",
            secret: false,
            max_len: 512,
            parts: &[],
        },
        CredentialField {
            name: "partner_password",
            secret: true,
            max_len: 512,
            parts: &[],
        },
        // Harvest v3 OAuth client credentials for order enrichment (README "Order enrichment").
        CredentialField {
            name: greenhouse_harvest::CREDENTIAL,
            secret: true,
            max_len: 512,
            parts: greenhouse_harvest::CREDENTIAL_PARTS,
        },
    ],
    settings: &[
        Setting {
            env: "GREENHOUSE_PARTNER_USERNAME",
            default: None,
        },
        Setting {
            env: "GREENHOUSE_PARTNER_PASSWORD",
            default: None,
        },
        Setting {
            env: greenhouse_harvest::API_BASE_SETTING,
            default: Some(greenhouse_harvest::DEFAULT_API_BASE),
        },
        Setting {
            env: greenhouse_harvest::TOKEN_URL_SETTING,
            default: Some(greenhouse_harvest::DEFAULT_TOKEN_URL),
        },
    ],
    authorization,
    authorization_header: "authorization",
    outbound_hosts: &[AllowedHost::SubdomainOf("greenhouse.io")],
    call_headers: &[],
    call_answer: completion_answer,
    write_back,
    after_order: None,
    // The order is keyed on its callback URL, which Greenhouse never reuses.
    idempotency: Idempotency::KeyHeldForever,
    facts: Facts {
        result_fields: &[
            ("status", "partner_status (only `complete` is shown)"),
            ("result_url", "partner_profile_url"),
            ("score", "partner_score"),
            ("max_score", "metadata \"Max Score\""),
            ("started_at", "metadata \"Started At\""),
            ("completed_at", "metadata \"Completed At\""),
            ("summary", "metadata \"Notes\""),
            ("metadata", "metadata (label → value)"),
        ],
        limits: &[
            ("key length", "under 171 characters"),
            (
                "metadata",
                "flat object of primitives, shown as label → value",
            ),
        ],
        status_mapping: &[
            (Status::NotSpecified, "not_specified"),
            (Status::Pending, "pending"),
            (Status::Started, "started"),
            (Status::InProgress, "in_progress"),
            (Status::Completed, "complete"),
            (Status::Rejected, "rejected"),
            (Status::Expired, "expired"),
            (Status::Cancelled, "cancelled"),
        ],
        score: ScoreShape::Number,
        attachments: 0,
        // Greenhouse reads the result once `complete` is answered (test_status).
        final_result_changeable: false,
        metadata_levels: 0,
    },
    setup: &SETUP,
    credential_check,
    read_api: Some(&greenhouse_harvest::READ_API),
    fixtures: &[
        Fixture {
            operation: "send_test",
            query: "",
            body: include_str!("../../fixtures/greenhouse/send_test.json"),
        },
        Fixture {
            operation: "response_error",
            query: "",
            body: include_str!("../../fixtures/greenhouse/response_error.json"),
        },
        Fixture {
            operation: "test_status",
            query: "partner_interview_id=ats_ass_1",
            body: "",
        },
    ],
};

/// What the connect page tells a customer (README "Connect links").
pub(crate) const SETUP: SetupGuide = SetupGuide {
    display_name: "Greenhouse",
    steps: &[
        "Sign in to Greenhouse Recruiting as a Site Admin and open the assessment integration for this vendor (Configure → Integrations).",
        "Paste each URL below into the field of the same name, and the API key into the API key field. Greenhouse sends the key with every call; keep it secret.",
        "Save. Greenhouse calls List tests at once: the tests you can send appear in the interview plan's test picker.",
    ],
    urls: &[
        SetupUrl { label: "List tests URL", suffix: "/list_tests" },
        SetupUrl { label: "Send test URL", suffix: "/send_test" },
        SetupUrl { label: "Test status URL", suffix: "/test_status" },
        SetupUrl { label: "Response error URL", suffix: "/response_error" },
    ],
    key_label: "API key",
    fields: &[
        ConnectField {
            name: "harvest.client_id",
            label: "Harvest v3 client ID (optional)",
            help: "Configure → Dev Center → API Credentials → Create new API credentials → Harvest V3 (OAuth). Grant the read scopes harvest:applications:list, harvest:jobs:list and harvest:users:list.",
            secret: false,
            optional: true,
        },
        ConnectField {
            name: "harvest.client_secret",
            label: "Harvest v3 client secret (optional)",
            help: "Shown by Greenhouse once, when the credentials are created. Checked with Greenhouse before it is stored; never shown again.",
            secret: true,
            optional: true,
        },
        ConnectField {
            name: "harvest.user_id",
            label: "Greenhouse user ID to act as (optional)",
            help: "The number at the end of the user's page address in Greenhouse (…/account/users/12345). Leave empty to use the credentials' own service user.",
            secret: false,
            optional: true,
        },
    ],
    note: Some("Results reach Greenhouse with the vendor's partner credentials. The Harvest v3 credentials are optional: with them, each order also carries its job, hiring team and requester."),
};

/// The connect page's check of Harvest v3 credentials: a client-credentials token request to
/// `HARVEST_TOKEN_URL` must answer an access token (README "Order enrichment").
fn credential_check(
    fields: &[(&'static str, String)],
    settings: &Settings,
) -> Option<CredentialCheck> {
    let (_, json) = fields
        .iter()
        .find(|(n, _)| *n == greenhouse_harvest::CREDENTIAL)?;
    let mut c = CredentialSource {
        settings: settings.clone(),
        ..Default::default()
    };
    c.values
        .insert(greenhouse_harvest::CREDENTIAL, json.clone());
    let h = HarvestCredentials::of(&c)?;
    // The page's own URL check (`targets::check_target`) applies; the host rule is the
    // enrichment's, checked again on every use.
    let t = greenhouse_harvest::token_check_request(&h, &c);
    Some(CredentialCheck {
        url: t.url,
        authorization: t.authorization,
        content_type: "application/x-www-form-urlencoded",
        body: t.form,
        accept: greenhouse_harvest::token_accepted,
    })
}

fn render_list_tests(_: &EdgeRequest, packages: &[Package]) -> ApiResult<Value> {
    Ok(list_tests(packages))
}

fn parse_order(req: &EdgeRequest) -> ApiResult<super::Order> {
    let v = req.json()?;
    let order = parse_send_test(&v, req.allow_insecure)?;
    Ok(super::Order {
        // Idempotent on the callback url: a retried send_test gets the same id, no new event.
        idempotency_key: order.callback_url.clone(),
        normalize: Box::new(move |id, tenant, catalogue| {
            normalize(&order, id, tenant, catalogue, v)
        }),
    })
}

fn render_order(id: &str) -> Value {
    json!({ "partner_interview_id": id })
}

fn parse_status(req: &EdgeRequest) -> ApiResult<String> {
    req.query_param("partner_interview_id")
        .filter(|s| !s.is_empty())
        .ok_or_else(|| ApiError::invalid_field("partner_interview_id", "is required"))
}

fn render_status(v: &StatusView) -> Value {
    test_status(v.status, v.result.as_ref())
}

fn parse_reported_error(req: &EdgeRequest) -> ApiResult<ReportedError> {
    let detail = parse_response_error(&req.json()?)?;
    Ok(ReportedError {
        assessment_id: detail["partnerInterviewId"].as_str().map(str::to_string),
        detail,
    })
}

fn render_reported_error() -> Value {
    json!({ "status": 200 })
}

/// Partner credentials for the completion PATCH: the tenant's pair, else the deployment's
/// (`GREENHOUSE_PARTNER_USERNAME`/`_PASSWORD`), as HTTP Basic.
fn authorization(c: &CredentialSource) -> Option<String> {
    let (user, password) = match (c.tenant("partner_username"), c.tenant("partner_password")) {
        (Some(u), Some(p)) => (u, p),
        _ => (
            c.setting("GREENHOUSE_PARTNER_USERNAME")?,
            c.setting("GREENHOUSE_PARTNER_PASSWORD")?,
        ),
    };
    Some(basic_authorization(user, password))
}

/// Only a COMPLETED result goes back: `PATCH {callback url}` with no body (README "Results").
fn write_back(w: &WriteBack) -> ApiResult<Vec<OutboundCall>> {
    if w.result.status != Status::Completed {
        return Ok(vec![]);
    }
    if authorization(w.credentials).is_none() {
        return Err(ApiError::new(
            422,
            "greenhouse_credentials_missing",
            "Greenhouse partner credentials are not configured: set greenhouse.partner_username and greenhouse.partner_password on the tenant, or GREENHOUSE_PARTNER_USERNAME/GREENHOUSE_PARTNER_PASSWORD on the deployment.",
        ));
    }
    let callback = w.record.callback_url.clone().unwrap_or_default();
    let url = check_callback(&callback, w.allow_insecure)
        .map_err(|why| ApiError::invalid_field("callbackUrl", &why))?;
    Ok(vec![OutboundCall {
        label: "Greenhouse completion PATCH",
        method: worker::Method::Patch,
        url: url.to_string(),
        body: None,
    }])
}

/// A validated `send_test` order.
#[derive(Debug, Clone, PartialEq)]
pub struct Order {
    pub partner_test_id: String,
    pub callback_url: String,
    pub email: String,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub preferred_name: Option<String>,
    pub phone: Option<String>,
    pub resume_url: Option<String>,
    pub profile_url: Option<String>,
    pub sent_by: Option<String>,
}

/// Parse `send_test`. `url` may sit at the top level or (pre-2019 form) inside `candidate`;
/// ids may be numbers; unknown fields are ignored. The callback must be a Greenhouse URL so
/// a forged order can never make the bridge call an arbitrary host.
pub fn parse_send_test(v: &Value, allow_insecure: bool) -> ApiResult<Order> {
    if !v.is_object() {
        return Err(ApiError::invalid_field("body", "must be a JSON object"));
    }
    let partner_test_id = required(v, &["partner_test_id"])?;
    let email = required(v, &["candidate", "email"])?;
    if !email.contains('@') || email.len() > 320 {
        return Err(ApiError::invalid_field(
            "candidate.email",
            "must be an email address",
        ));
    }
    let url = optional(v, &["url"])
        .or_else(|| optional(v, &["candidate", "url"]))
        .ok_or_else(|| ApiError::invalid_field("url", "is required"))?;
    let callback_url = check_callback(&url, allow_insecure)
        .map_err(|why| ApiError::invalid_field("url", &why))?
        .to_string();
    Ok(Order {
        partner_test_id,
        callback_url,
        email,
        first_name: optional(v, &["candidate", "first_name"]),
        last_name: optional(v, &["candidate", "last_name"]),
        preferred_name: optional(v, &["candidate", "preferred_name"]),
        phone: optional(v, &["candidate", "phone_number"]),
        resume_url: optional(v, &["candidate", "resume_url"]),
        profile_url: optional(v, &["candidate", "greenhouse_profile_url"]),
        sent_by: optional(v, &["sent_by"]),
    })
}

/// `https://app.greenhouse.io/people/{candidate}?application_id={application}` → both ids.
pub fn profile_ids(profile_url: &str) -> (Option<String>, Option<String>) {
    let Some(u) = crate::weburl::WebUrl::parse(profile_url) else {
        return (None, None);
    };
    let segs: Vec<&str> = u.path_segments().map(|s| s.collect()).unwrap_or_default();
    let candidate = segs
        .iter()
        .position(|s| *s == "people")
        .and_then(|i| segs.get(i + 1))
        .filter(|s| !s.is_empty())
        .map(|s| s.to_string());
    let application = u
        .query_pairs()
        .find(|(k, _)| k == "application_id")
        .map(|(_, v)| v.into_owned())
        .filter(|s| !s.is_empty());
    (candidate, application)
}

/// The normalized assessment for an order.
pub fn normalize(
    o: &Order,
    id: &str,
    tenant: &str,
    catalogue: Catalogue<'_>,
    origin: Value,
) -> CandidateAssessment {
    let (candidate_id, application_id) = o
        .profile_url
        .as_deref()
        .map(profile_ids)
        .unwrap_or((None, None));
    let links: Vec<String> = [o.resume_url.clone(), o.profile_url.clone()]
        .into_iter()
        .flatten()
        .collect();
    CandidateAssessment {
        id: id.to_string(),
        application_id,
        assessment_package: AssessmentPackage::from_catalogue(&o.partner_test_id, catalogue),
        callback_url: Some(o.callback_url.clone()),
        candidate: Candidate {
            emails: Some(vec![Email {
                email: o.email.clone(),
                kind: "PERSONAL".into(),
            }]),
            first_name: o.first_name.clone(),
            last_name: o.last_name.clone(),
            id: candidate_id,
            links: (!links.is_empty()).then_some(links),
            location: None,
            phones: o.phone.clone().map(|p| {
                vec![Phone {
                    phone_number: p,
                    kind: "NOT_SPECIFIED".into(),
                }]
            }),
        },
        job_id: None,
        job: None,
        hiring_team: None,
        requester: o.sent_by.clone().map(|email| {
            context(Requester {
                id: None,
                name: None,
                email: Some(email),
            })
        }),
        custom_fields: None,
        // Harvest v3 is what would fill job, hiring team and requester (README "Webhooks you receive").
        enrichment: Some(context(Enrichment {
            status: EnrichmentStatus::NotConfigured,
            missing: ["job", "hiringTeam"]
                .into_iter()
                .chain(o.sent_by.is_none().then_some("requester"))
                .map(String::from)
                .collect(),
            error: None,
        })),
        meta_data: compact(json!({"preferredName": o.preferred_name, "sentBy": o.sent_by})),
        origin_data: origin,
        status: Status::NotSpecified,
        provider: Provider::of(&SPEC),
        tenant_id: tenant.to_string(),
        personal_data_erased: None,
    }
}

/// `list_tests` answer: a top-level array.
pub fn list_tests(packages: &[Package]) -> Value {
    Value::Array(
        packages
            .iter()
            .map(|p| json!({"partner_test_id": p.id, "partner_test_name": p.name}))
            .collect(),
    )
}

/// `test_status` answer. Only the exact `"complete"` has meaning to Greenhouse, and only once
/// a final COMPLETED result exists; otherwise the lowercase status.
pub fn test_status(status: Status, result: Option<&ResultUpdate>) -> Value {
    let complete = status == Status::Completed;
    let mut meta = Map::new();
    if let Some(r) = result {
        let mut put = |k: &str, v: Option<Value>| {
            if let Some(v) = v {
                meta.insert(k.to_string(), v);
            }
        };
        put("Started At", r.started_at.clone().map(Value::from));
        put("Completed At", r.completed_at.clone().map(Value::from));
        put("Notes", r.summary.clone().map(Value::from));
        put("Max Score", r.max_score.map(Value::from));
        // Greenhouse shows flat labels: nested entries arrive flattened (`a.b`).
        for (k, v) in crate::model::shape_metadata(&r.metadata, SPEC.facts.metadata_levels) {
            if !v.is_null() {
                meta.entry(k).or_insert(v);
            }
        }
    }
    json!({
        "partner_status": if complete { "complete".to_string() } else { status.as_str().to_ascii_lowercase() },
        "partner_profile_url": result.and_then(|r| r.result_url.clone()),
        "partner_score": result.and_then(|r| r.score),
        "metadata": meta,
    })
}

/// A validated `response_error` body (Greenhouse telling us a call of ours failed).
pub fn parse_response_error(v: &Value) -> ApiResult<Value> {
    if !v.is_object() {
        return Err(ApiError::invalid_field("body", "must be a JSON object"));
    }
    let errors: Vec<Value> = match v.get("errors") {
        Some(Value::Array(a)) => a
            .iter()
            .take(100)
            .map(|e| match e {
                Value::String(_) => e.clone(),
                other => Value::String(other.to_string()),
            })
            .collect(),
        Some(Value::String(s)) => vec![Value::String(s.clone())],
        _ => vec![],
    };
    Ok(json!({
        "apiCall": optional(v, &["api_call"]),
        "errors": errors,
        "partnerTestId": optional(v, &["partner_test_id"]),
        "partnerTestName": optional(v, &["partner_test_name"]),
        "partnerInterviewId": optional(v, &["partner_interview_id"]),
        "candidateEmail": optional(v, &["candidate_email"]),
    }))
}

/// What Greenhouse's answer to the completion `PATCH` means. Its answer is only a status code
/// (Greenhouse Assessment Partner API docs, "Completion"): 2xx accepted, 429/5xx
/// retried, anything else (redirects included) final, with the answer's first 2 KB as the
/// message.
pub fn completion_answer(status: u16, body: &str, _complete: bool) -> ProviderAnswer {
    answer_from_status(status, body)
}

/// A completion callback: on Greenhouse's app hosts (`https://<subdomain>.greenhouse.io/…`,
/// `SPEC.outbound_hosts`; Greenhouse Assessment Partner API: the callback is on the
/// customer's Greenhouse subdomain), or any target when insecure targets are allowed.
fn check_callback(raw: &str, allow_insecure: bool) -> Result<crate::weburl::WebUrl, Refusal> {
    targets::check_outbound(raw, allow_insecure, SPEC.outbound_hosts)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::OrderKind;

    fn order_json() -> Value {
        json!({
            "partner_test_id": "pkg_9f3aK21",
            "candidate": {
                "first_name": "John", "last_name": "Doe", "preferred_name": "John",
                "email": "john@example.com", "phone_number": "+1-555-123-4567",
                "resume_url": "https://johndoe.dev/resume",
                "greenhouse_profile_url": "https://app.greenhouse.io/people/762198?application_id=87456321"
            },
            "sent_by": "recruiter@example.com",
            "url": "https://app.greenhouse.io/integrations/testing_partners/take_home_tests/12345"
        })
    }

    #[test]
    fn parses_and_normalizes_the_seed_order() {
        let v = order_json();
        let o = parse_send_test(&v, false).unwrap();
        let cat = vec![Package {
            id: "pkg_9f3aK21".into(),
            name: "Backend".into(),
            description: Some("90 min".into()),
            package_type: Some("CODE".into()),
            kind: None,
            criteria: vec![],
        }];
        let catalogue = Catalogue {
            packages: Some(&cat),
            default_kind: OrderKind::BackgroundCheck,
        };
        let a = normalize(&o, "ats_ass_1", "acme", catalogue, v.clone());
        assert_eq!(a.application_id.as_deref(), Some("87456321"));
        assert_eq!(a.candidate.id.as_deref(), Some("762198"));
        assert_eq!(a.candidate.emails.as_ref().unwrap()[0].kind, "PERSONAL");
        assert_eq!(
            a.candidate.phones.as_ref().unwrap()[0].kind,
            "NOT_SPECIFIED"
        );
        assert_eq!(a.candidate.links.as_ref().unwrap().len(), 2);
        assert_eq!(a.assessment_package.name.as_deref(), Some("Backend"));
        assert_eq!(a.assessment_package.package_type.as_deref(), Some("CODE"));
        assert_eq!(a.assessment_package.kind, OrderKind::BackgroundCheck);
        assert_eq!(a.status, Status::NotSpecified);
        assert_eq!(a.origin_data, v);
        let out = serde_json::to_value(&a).unwrap();
        assert_eq!(out["callbackUrl"], v["url"]);
        assert_eq!(out["provider"], "greenhouse");
        assert_eq!(out["tenantId"], "acme");
        assert!(out["jobId"].is_null());
        assert!(out["job"].is_null() && out["hiringTeam"].is_null());
        assert!(out["customFields"].is_null());
        assert_eq!(
            out["requester"],
            json!({"id": null, "name": null, "email": "recruiter@example.com"})
        );
        assert_eq!(
            out["enrichment"],
            json!({"status": "not_configured", "missing": ["job", "hiringTeam"], "error": null})
        );
        assert_eq!(
            out["candidate"]["phones"][0]["phoneNumber"],
            "+1-555-123-4567"
        );
    }

    #[test]
    fn tolerates_old_and_odd_forms() {
        let v = json!({"partner_test_id": 42, "candidate": {"email": "a@b.c", "url": "https://app2.greenhouse.io/x/1", "first_name": null}, "extra": {"x": 1}});
        let o = parse_send_test(&v, false).unwrap();
        assert_eq!(o.partner_test_id, "42");
        assert_eq!(o.callback_url, "https://app2.greenhouse.io/x/1");
        assert_eq!(o.first_name, None);
        let a = serde_json::to_value(normalize(&o, "i", "t", Catalogue::default(), v)).unwrap();
        assert!(a["requester"].is_null(), "no sent_by, no requester");
        assert_eq!(
            a["enrichment"]["missing"],
            json!(["job", "hiringTeam", "requester"])
        );
    }

    #[test]
    fn refuses_missing_fields_and_foreign_callbacks() {
        let mut v = order_json();
        v["url"] = json!("https://evil.example/x");
        assert!(parse_send_test(&v, false)
            .unwrap_err()
            .message
            .contains("`url`"));
        assert!(parse_send_test(&v, true).is_ok());
        for (path, field) in [("partner_test_id", "partner_test_id"), ("url", "url")] {
            let mut v = order_json();
            v.as_object_mut().unwrap().remove(path);
            let e = parse_send_test(&v, false).unwrap_err();
            assert_eq!(e.status, 422);
            assert!(e.message.contains(field));
        }
        let mut v = order_json();
        v["candidate"].as_object_mut().unwrap().remove("email");
        assert!(parse_send_test(&v, false)
            .unwrap_err()
            .message
            .contains("candidate.email"));
    }

    #[test]
    fn profile_url_ids() {
        assert_eq!(
            profile_ids("https://app4.greenhouse.io/people/1?application_id=2"),
            (Some("1".into()), Some("2".into()))
        );
        assert_eq!(profile_ids("not a url"), (None, None));
        assert_eq!(
            profile_ids("https://app.greenhouse.io/people/"),
            (None, None)
        );
    }

    #[test]
    fn status_answers() {
        let r = ResultUpdate {
            attachments: vec![],
            status: Status::Completed,
            score: Some(87.5),
            max_score: Some(100.0),
            result_url: Some("https://v.example/r/1".into()),
            started_at: Some("2026-11-01T10:00:00Z".into()),
            completed_at: Some("2026-11-01T11:00:00Z".into()),
            summary: Some("Strong".into()),
            metadata: json!({"Plagiarism": false}).as_object().unwrap().clone(),
            reason: None,
        };
        let done = test_status(Status::Completed, Some(&r));
        assert_eq!(done["partner_status"], "complete");
        assert_eq!(done["partner_profile_url"], "https://v.example/r/1");
        assert_eq!(done["partner_score"], 87.5);
        assert_eq!(done["metadata"]["Started At"], "2026-11-01T10:00:00Z");
        assert_eq!(done["metadata"]["Notes"], "Strong");
        assert_eq!(done["metadata"]["Max Score"], 100.0);
        assert_eq!(done["metadata"]["Plagiarism"], false);
        let waiting = test_status(Status::NotSpecified, None);
        assert_eq!(waiting["partner_status"], "not_specified");
        assert!(waiting["partner_profile_url"].is_null());
        assert_eq!(
            test_status(Status::InProgress, None)["partner_status"],
            "in_progress"
        );
        assert_eq!(
            test_status(Status::Expired, None)["partner_status"],
            "expired"
        );
    }

    #[test]
    fn response_errors() {
        let v = parse_response_error(
            &json!({"api_call":"test_status","errors":["Boom", 3],"partner_interview_id": 7}),
        )
        .unwrap();
        assert_eq!(v["apiCall"], "test_status");
        assert_eq!(v["errors"], json!(["Boom", "3"]));
        assert_eq!(v["partnerInterviewId"], "7");
        assert!(parse_response_error(&json!([1])).is_err());
    }

    #[test]
    fn completion_answers_are_status_codes() {
        assert_eq!(
            completion_answer(204, "", true),
            ProviderAnswer::Accepted { warnings: vec![] }
        );
        // Greenhouse's body means nothing on success, whatever it holds.
        assert_eq!(
            completion_answer(200, r#"{"success":false}"#, true),
            ProviderAnswer::Accepted { warnings: vec![] }
        );
        assert!(matches!(
            completion_answer(500, "", true),
            ProviderAnswer::Transient(_)
        ));
        assert!(matches!(
            completion_answer(429, "", true),
            ProviderAnswer::Transient(_)
        ));
        match completion_answer(403, "nope", true) {
            ProviderAnswer::Refused(f) => assert_eq!(f.message, "HTTP 403: nope"),
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            completion_answer(302, "", true),
            ProviderAnswer::Refused(_)
        ));
    }

    // --- as the registry sees it ---------------------------------------------------------

    use crate::admin::tenants::{self, Change, Credentials, TenantConfig, TenantSecrets};
    use crate::providers::{Settings, REGISTRY};
    use crate::routes::{match_edge, EdgeRoute, ScopedRoute};

    fn gh() -> Provider {
        Provider::parse("greenhouse").unwrap()
    }

    #[test]
    fn registered_and_routed() {
        assert!(REGISTRY.iter().any(|s| std::ptr::eq(*s, &SPEC)));
        assert_eq!(gh().key_prefix(), "gh_");
        assert_eq!(
            match_edge(Method::Post, &["acme", "greenhouse", "send_test"]),
            Ok(ScopedRoute {
                tenant: "acme".into(),
                route: EdgeRoute {
                    provider: gh(),
                    op: gh().operation("send_test").unwrap()
                }
            })
        );
        assert_eq!(
            match_edge(Method::Get, &["acme", "greenhouse", "send_test"])
                .unwrap_err()
                .status,
            405
        );
        assert_eq!(
            gh().base_url("https://b.example", "acme"),
            "https://b.example/t/acme/greenhouse"
        );
    }

    fn tenant() -> (TenantConfig, TenantSecrets) {
        let cfg = TenantConfig {
            id: "acme".into(),
            name: None,
            webhook_url: "https://h.example/x".into(),
            webhook_disabled: false,
            packages_url: None,
            static_package_id: None,
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
    fn partner_credentials_tenant_first_then_deployment() {
        let p = tenants::parse_patch(
            &json!({"greenhouse":{"partner_username":"u","partner_password":"p"}}),
            false,
        )
        .unwrap();
        assert!(p.touches_secrets());
        let (mut cfg, mut s) = tenant();
        tenants::apply_patch(&mut cfg, &mut s, p, 1);
        let v = tenants::view(&cfg, Some(&s), &[], "https://b.example", 0);
        assert_eq!(v["greenhouse"]["partner_username"], "u");
        assert_eq!(v["greenhouse"]["partner_password_set"], true);
        assert!(!v.to_string().contains("\"p\""));
        // Stored under the keys tenants created before the registry used.
        assert_eq!(
            serde_json::to_value(&cfg).unwrap()["greenhouse_partner_username"],
            "u"
        );
        assert_eq!(
            serde_json::to_value(&s).unwrap()["greenhouse_partner_password"],
            "p"
        );
        let deployment = Settings(
            [
                ("GREENHOUSE_PARTNER_USERNAME".to_string(), "du".to_string()),
                ("GREENHOUSE_PARTNER_PASSWORD".to_string(), "dp".to_string()),
            ]
            .into(),
        );
        let creds = Credentials::resolve(&cfg, &s, &deployment);
        assert_eq!(
            creds.authorization(gh()),
            Some(basic_authorization("u", "p"))
        );
        assert_eq!(basic_authorization("u", "p"), "Basic dTpw");

        let clear =
            tenants::parse_patch(&json!({"greenhouse":{"partner_password":null}}), false).unwrap();
        assert_eq!(
            clear.credential("greenhouse", "partner_password"),
            &Change::Clear
        );
        tenants::apply_patch(&mut cfg, &mut s, clear, 2);
        let creds = Credentials::resolve(&cfg, &s, &deployment);
        assert_eq!(
            creds.authorization(gh()),
            Some(basic_authorization("du", "dp"))
        );
        let creds = Credentials::resolve(&cfg, &s, &Settings::default());
        assert_eq!(creds.authorization(gh()), None);
    }

    fn result(status: Status) -> ResultUpdate {
        ResultUpdate {
            attachments: vec![],
            status,
            score: None,
            max_score: None,
            result_url: None,
            started_at: None,
            completed_at: None,
            summary: None,
            metadata: Map::new(),
            reason: None,
        }
    }

    #[test]
    fn only_completed_results_patch_the_callback() {
        let v = order_json();
        let a = normalize(
            &parse_send_test(&v, false).unwrap(),
            "ats_ass_1",
            "acme",
            Catalogue::default(),
            v,
        );
        let mut creds = crate::providers::CredentialSource::default();
        let wb = |r: &ResultUpdate, c: &crate::providers::CredentialSource| {
            write_back(&WriteBack {
                assessment_id: "ats_ass_1",
                record: &a,
                order_key: None,
                result: r,
                update_ts: 5,
                credentials: c,
                allow_insecure: false,
            })
        };
        assert_eq!(wb(&result(Status::InProgress), &creds), Ok(vec![]));
        let e = wb(&result(Status::Completed), &creds).unwrap_err();
        assert_eq!((e.status, e.code), (422, "greenhouse_credentials_missing"));
        creds.values.insert("partner_username", "u".into());
        creds.values.insert("partner_password", "p".into());
        let calls = wb(&result(Status::Completed), &creds).unwrap();
        assert_eq!(
            calls,
            vec![OutboundCall {
                label: "Greenhouse completion PATCH",
                method: worker::Method::Patch,
                url:
                    "https://app.greenhouse.io/integrations/testing_partners/take_home_tests/12345"
                        .into(),
                body: None,
            }]
        );
    }

    proptest::proptest! {
        #[test]
        fn url_parsers_never_panic(s in ".{0,200}") {
            let _ = check_callback(&s, false);
            let _ = profile_ids(&s);
        }
    }

    #[test]
    fn callback_hosts_refuse_lookalikes_apex_userinfo_ports_and_odd_forms() {
        let gh = |u: &str| check_callback(u, false);
        // Accepted: Greenhouse's app hosts, whatever the case, with the default port spelled.
        for ok in [
            "https://app.greenhouse.io/x",
            "https://app4.greenhouse.io/x",
            "https://APP.GreenHouse.IO/x",
            "https://app.greenhouse.io:443/x",
            "https://a.b.greenhouse.io/x",
        ] {
            assert!(gh(ok).is_ok(), "{ok} should be accepted");
        }
        for bad in [
            "https://greenhouse.io/x",                 // apex
            "https://GREENHOUSE.IO/x",                 // apex, any case
            "https://greenhouse.io.evil.com/x",        // lookalike suffix
            "https://app.greenhouse.io.evil.com/x",    // lookalike suffix
            "https://evilgreenhouse.io/x",             // same letters, other domain
            "https://app-greenhouse.io/x",             // same letters, other domain
            "https://app.greenhouse.io.:443/x",        // trailing dot
            "https://user@app.greenhouse.io/x",        // userinfo
            "https://app.greenhouse.io:pw@evil.com/x", // userinfo hiding the real host
            "https://evil.com\\@app.greenhouse.io/x",  // backslash: the host is evil.com
            "https://evil.com#@app.greenhouse.io/x",   // fragment: the host is evil.com
            "https://app.greenhouse.io:8443/x",        // port
            "https://app.greenhouse.io%2eevil.com/x",  // percent-encoded dot
            "https://app.greenh\u{043e}use.io/x",      // Cyrillic o (punycode host)
            "http://app.greenhouse.io/x",              // not https
            "https://.greenhouse.io/x",                // empty label
        ] {
            assert!(gh(bad).is_err(), "{bad} should be refused");
        }
        assert!(gh("https://greenhouse.io/x")
            .unwrap_err()
            .contains("<subdomain>.greenhouse.io"));
    }

    #[test]
    fn greenhouse_callbacks() {
        let ok = "https://app.greenhouse.io/integrations/testing_partners/take_home_tests/1";
        assert!(check_callback(ok, false).is_ok());
        assert!(check_callback("https://app4.greenhouse.io/x", false).is_ok());
        assert!(check_callback("https://greenhouse.io.evil.com/x", false).is_err());
        assert!(check_callback("https://evilgreenhouse.io/x", false).is_err());
        assert!(check_callback("http://app.greenhouse.io/x", false).is_err());
        assert!(check_callback("https://app.greenhouse.io:8443/x", false).is_err());
        assert!(check_callback("http://127.0.0.1:1/x", true).is_ok());
    }
}
