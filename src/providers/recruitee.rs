//! Recruitee Partners API ("reports"), SPEC §14. Sources: docs.recruitee.com, "Partners API":
//! `sending-candidates` (the `send_candidate` body, the `tests` answer, extra inputs),
//! `reports` (report statuses, `score` as text, `completed_at`, `subtitle` — not for background
//! and reference checks —, `urls.cancel`) and `partners-api-concepts` (one Bearer token per
//! customer; 2xx success, 401/403 invalid token).
//!
//! Partner-level: Recruitee stores two URLs for the whole vendor (`urls.tests`,
//! `urls.send_candidate`) and calls them with `Authorization: Bearer <token>`, the `rc_…` key
//! the customer pasted; the key names the tenant. Results go back with
//! `PATCH {RECRUITEE_API_BASE}/p/{codename}/reports/{report_id}` and the header
//! `RT-PARTNER-SECRET`. Right after an order the bridge marks the report `sent` with its own
//! cancel link in `urls.cancel`, which Recruitee offers the recruiter (README "Recruitee").

use serde_json::{json, Map, Value};

use super::setup::{no_credential_check, SetupGuide};
use super::{
    compact, optional, required, CredentialSource, EdgeRequest, Facts, Fixture, Handler,
    Idempotency, Inbound, Operation, OutboundCall, PlacedOrder, ScoreShape, Setting, Spec, Surface,
    WriteBack,
};
use crate::error::{code, ApiError, ApiResult, EdgeAuth, ErrorShape};
use crate::model::{
    context, parse_rfc3339, rfc3339, AssessmentPackage, Candidate, CandidateAssessment, Catalogue,
    Email, Enrichment, EnrichmentStatus, OrderKind, Package, Phone, Provider, Requester,
    ResultUpdate, Status,
};
use crate::routes::Method;
use crate::targets;

/// Recruitee, as the registry sees it.
pub static SPEC: Spec = Spec {
    name: "recruitee",
    title: "Recruitee",
    key_prefix: "rc_",
    surface: Surface::PartnerLevel,
    operations: &[
        Operation {
            segment: "tests",
            method: Method::Get,
            handler: Handler::ListPackages {
                render: render_tests,
            },
        },
        Operation {
            segment: "send_candidate",
            method: Method::Post,
            handler: Handler::Order {
                parse: parse_order,
                render: render_order,
            },
        },
        // `urls.cancel` of each report. Recruitee's docs do not name the method it uses, so
        // both a POST and a DELETE cancel.
        Operation {
            segment: "cancel",
            method: Method::Post,
            handler: Handler::CancelLink {
                render: render_cancel,
            },
        },
        Operation {
            segment: "cancel",
            method: Method::Delete,
            handler: Handler::CancelLink {
                render: render_cancel,
            },
        },
    ],
    error_shape: ErrorShape::Bridge,
    edge_auth: EdgeAuth::Bearer,
    extract_keys: bearer_keys,
    forward_headers: &[],
    credentials: &[],
    settings: &[
        Setting {
            env: "RECRUITEE_API_BASE",
            default: Some("https://integrations.recruitee.com/api"),
        },
        Setting {
            env: "RECRUITEE_PARTNER_CODENAME",
            default: None,
        },
        Setting {
            env: "RECRUITEE_PARTNER_SECRET",
            default: None,
        },
    ],
    authorization,
    authorization_header: SECRET_HEADER,
    call_headers: &[],
    // A report PATCH answer is its status code (Recruitee Partners API, "patch-reports").
    call_answer: crate::delivery::attempt::answer_by_status,
    write_back,
    after_order: Some(mark_sent),
    // report_id is unique per order: a repeat is always the same order.
    idempotency: Idempotency::KeyHeldForever,
    facts: Facts {
        result_fields: &[
            ("status", "status (and subtitle while in progress)"),
            ("score", "score (text)"),
            ("max_score", "score (text, after the slash)"),
            ("completed_at", "completed_at"),
            ("reason", "subtitle"),
        ],
        limits: &[
            (
                "score",
                "free text: the bridge sends `score/max_score`, e.g. 87.5/100",
            ),
            (
                "subtitle",
                "assessments only: not shown for background and reference checks",
            ),
            (
                "final result",
                "cannot be changed once completed, failed or canceled",
            ),
        ],
        status_mapping: &[
            (Status::NotSpecified, "sent"),
            (Status::Pending, "sent (subtitle: Pending)"),
            (Status::Started, "sent (subtitle: Started)"),
            (Status::InProgress, "sent (subtitle: In progress)"),
            (Status::Completed, "completed"),
            (Status::Rejected, "failed"),
            (Status::Expired, "failed"),
            (Status::Cancelled, "canceled"),
        ],
        score: ScoreShape::Text,
        attachments: 0,
        final_result_changeable: false,
    },
    setup: &SETUP,
    credential_check: no_credential_check,
    fixtures: &[
        Fixture {
            operation: "send_candidate",
            query: "",
            body: include_str!("../../fixtures/recruitee/send_candidate.json"),
        },
        Fixture {
            operation: "cancel",
            query: "token=cl_acme.Qm9vdHN0cmFwcGluZy1hLWNhbmNlbC1saW5rLTMyYnl0",
            body: "",
        },
    ],
};

/// What the connect page tells a customer (README "Connect links", "Recruitee"): Recruitee
/// already knows the vendor's URLs, so the customer pastes only the token; results go back with
/// the vendor's partner secret, so nothing else is asked.
pub(crate) const SETUP: SetupGuide = SetupGuide {
    display_name: "Recruitee",
    steps: &[
        "Sign in to Recruitee as an admin, open Settings → Apps and plugins (Marketplace) and choose this vendor's integration.",
        "When Recruitee asks for the token, paste the token below. Recruitee sends it with every order; it also tells the bridge which account the order is for.",
    ],
    urls: &[],
    key_label: "Token",
    fields: &[],
    note: Some("Nothing else is needed: scores and statuses reach Recruitee through the vendor's partner account."),
};

/// The `rc_…` key Recruitee sends as `Authorization: Bearer <token>`.
fn bearer_keys(inbound: &Inbound) -> Vec<String> {
    crate::secrets::bearer(inbound.authorization)
        .map(|k| vec![k.trim().to_string()])
        .unwrap_or_default()
}

fn render_tests(_: &EdgeRequest, packages: &[Package]) -> ApiResult<Value> {
    Ok(tests(packages))
}

fn parse_order(req: &EdgeRequest) -> ApiResult<super::Order> {
    let v = req.json()?;
    let order = parse_send_candidate(&v)?;
    Ok(super::Order {
        // Recruitee creates one report per order: a repeated report_id is the same order.
        idempotency_key: order.report_id.clone(),
        normalize: Box::new(move |id, tenant, catalogue| {
            normalize(&order, id, tenant, catalogue, v)
        }),
    })
}

fn render_order(id: &str) -> Value {
    json!({ "assessment_id": id })
}

fn render_cancel(id: &str) -> Value {
    json!({ "assessment_id": id, "status": "canceled" })
}

/// The partner secret (a deployment secret, the same for every customer).
fn authorization(c: &CredentialSource) -> Option<String> {
    c.setting("RECRUITEE_PARTNER_SECRET").map(str::to_string)
}

/// The report URL of an assessment, or the 422 that says what is missing.
fn report_call_url(
    c: &CredentialSource,
    record: &CandidateAssessment,
    allow_insecure: bool,
) -> ApiResult<String> {
    let invalid = |why: String| ApiError::new(422, code::INVALID_CONFIGURATION, why);
    let (Some(codename), Some(_)) = (c.setting("RECRUITEE_PARTNER_CODENAME"), authorization(c))
    else {
        return Err(ApiError::new(
            422,
            "recruitee_partner_missing",
            "Recruitee partner credentials are not configured: set RECRUITEE_PARTNER_CODENAME and RECRUITEE_PARTNER_SECRET on the deployment.",
        ));
    };
    let report_id = parse_send_candidate(&record.origin_data)
        .map(|o| o.report_id)
        .map_err(|_| invalid("the order carries no valid Recruitee report_id".into()))?;
    let base = c.setting("RECRUITEE_API_BASE").unwrap_or_default();
    let url = report_url(base, codename, &report_id).map_err(|why| invalid(format!("{why}.")))?;
    targets::check_target(&url, allow_insecure)
        .map(|u| u.to_string())
        .map_err(|why| invalid(format!("RECRUITEE_API_BASE {why}.")))
}

/// A result → the report PATCH (none for a check's progress, which Recruitee cannot show).
fn write_back(w: &WriteBack) -> ApiResult<Vec<OutboundCall>> {
    let url = report_call_url(w.credentials, w.record, w.allow_insecure)?;
    let kind = w.record.assessment_package.kind;
    Ok(report_patch(w.result, kind, w.update_ts)
        .map(|body| OutboundCall {
            label: "Recruitee report PATCH",
            method: worker::Method::Patch,
            url,
            body: Some(body.to_string()),
        })
        .into_iter()
        .collect())
}

/// After an order: mark the report `sent` with the bridge's cancel link.
fn mark_sent(o: &PlacedOrder) -> ApiResult<Vec<OutboundCall>> {
    let url = report_call_url(o.credentials, o.record, o.allow_insecure)?;
    let cancel = o.cancel_url.ok_or_else(ApiError::internal)?;
    Ok(vec![OutboundCall {
        label: "Recruitee report sent",
        method: worker::Method::Patch,
        url,
        body: Some(sent_body(cancel).to_string()),
    }])
}

/// The header that carries the partner secret on report calls.
pub const SECRET_HEADER: &str = "RT-PARTNER-SECRET";

/// Fields of `send_candidate` that the bridge reads itself; every other key is one of the
/// partner's configured inputs (e.g. `phone`, `admin`) and is kept in `metaData.inputs`.
const KNOWN: [&str; 8] = [
    "first_name",
    "last_name",
    "email",
    "candidate_id",
    "company_id",
    "report_id",
    "test_id",
    "test_name",
];

/// A validated `POST {urls.send_candidate}` body:
/// `{first_name, last_name, email, candidate_id, company_id, report_id (uuid), test_id,
/// test_name}` plus configured inputs. Ids may arrive as numbers (the docs show both).
#[derive(Debug, Clone, PartialEq)]
pub struct SendCandidate {
    /// Lower-case uuid; the idempotency key of the order.
    pub report_id: String,
    pub test_id: String,
    pub test_name: Option<String>,
    pub candidate_id: String,
    pub company_id: String,
    pub email: String,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    /// The configured inputs beyond the standard fields, as sent.
    pub inputs: Map<String, Value>,
}

/// A uuid in its 8-4-4-4-12 hex form, lower-cased; None for anything else.
pub fn parse_uuid(s: &str) -> Option<String> {
    let b = s.as_bytes();
    let ok = b.len() == 36
        && b.iter().enumerate().all(|(i, c)| match i {
            8 | 13 | 18 | 23 => *c == b'-',
            _ => c.is_ascii_hexdigit(),
        });
    ok.then(|| s.to_ascii_lowercase())
}

/// Parse `send_candidate`. Errors: 422 naming the field (`report_id` must be a uuid, `email`
/// must look like an address); a non-object body is a 422 on `body`.
pub fn parse_send_candidate(v: &Value) -> ApiResult<SendCandidate> {
    let m = v
        .as_object()
        .ok_or_else(|| ApiError::invalid_field("body", "must be a JSON object"))?;
    let report_id = required(v, &["report_id"])?;
    let report_id = parse_uuid(&report_id).ok_or_else(|| {
        ApiError::invalid_field("report_id", "must be a uuid (8-4-4-4-12 hex digits)")
    })?;
    let email = required(v, &["email"])?;
    if !email.contains('@') || email.len() > 320 {
        return Err(ApiError::invalid_field(
            "email",
            "must be the candidate's email address",
        ));
    }
    Ok(SendCandidate {
        report_id,
        test_id: required(v, &["test_id"])?,
        test_name: optional(v, &["test_name"]),
        candidate_id: required(v, &["candidate_id"])?,
        company_id: required(v, &["company_id"])?,
        email,
        first_name: optional(v, &["first_name"]),
        last_name: optional(v, &["last_name"]),
        inputs: m
            .iter()
            .filter(|(k, _)| !KNOWN.contains(&k.as_str()))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect(),
    })
}

/// The phone input, when the partner configured one: a string, or an object with a number.
fn phone(inputs: &Map<String, Value>) -> Option<Vec<Phone>> {
    let p = inputs.get("phone")?;
    let number = match p {
        Value::String(s) => Some(s.trim().to_string()),
        Value::Object(_) => optional(p, &["number"])
            .or_else(|| optional(p, &["phone"]))
            .or_else(|| optional(p, &["value"])),
        _ => None,
    }
    .filter(|s| !s.is_empty())?;
    Some(vec![Phone {
        phone_number: number,
        kind: "NOT_SPECIFIED".into(),
    }])
}

/// The `admin` input (the Recruitee user the partner configured it for), as the requester.
fn admin(inputs: &Map<String, Value>) -> Option<Requester> {
    let a = inputs.get("admin")?;
    let r = Requester {
        id: optional(a, &["id"]),
        name: optional(a, &["name"]),
        email: optional(a, &["email"]),
    };
    (r.id.is_some() || r.name.is_some() || r.email.is_some()).then_some(r)
}

/// The normalized record (SPEC §7). Recruitee sends no job or application: `applicationId`,
/// `jobId` and `callbackUrl` are null; the package name falls back to Recruitee's `test_name`
/// when the catalogue does not know the test.
pub fn normalize(
    o: &SendCandidate,
    id: &str,
    tenant: &str,
    catalogue: Catalogue<'_>,
    origin: Value,
) -> CandidateAssessment {
    let mut package = AssessmentPackage::from_catalogue(&o.test_id, catalogue);
    if package.name.is_none() {
        package.name = o.test_name.clone();
    }
    CandidateAssessment {
        id: id.to_string(),
        application_id: None,
        assessment_package: package,
        callback_url: None,
        candidate: Candidate {
            emails: Some(vec![Email {
                email: o.email.clone(),
                kind: "PRIMARY".into(),
            }]),
            first_name: o.first_name.clone(),
            last_name: o.last_name.clone(),
            id: Some(o.candidate_id.clone()),
            links: None,
            location: None,
            phones: phone(&o.inputs),
        },
        job_id: None,
        job: None,
        hiring_team: None,
        requester: admin(&o.inputs).map(context),
        custom_fields: None,
        // Recruitee sends no job context and the bridge has no other source for it.
        enrichment: Some(context(Enrichment {
            status: EnrichmentStatus::NotConfigured,
            missing: ["job", "hiringTeam"]
                .into_iter()
                .chain(admin(&o.inputs).is_none().then_some("requester"))
                .map(String::from)
                .collect(),
            error: None,
        })),
        meta_data: compact(json!({
            "reportId": o.report_id,
            "companyId": o.company_id,
            "testName": o.test_name,
            "inputs": (!o.inputs.is_empty()).then(|| Value::Object(o.inputs.clone())),
        })),
        origin_data: origin,
        status: Status::NotSpecified,
        provider: Provider::of(&SPEC),
        tenant_id: tenant.to_string(),
    }
}

/// `GET {urls.tests}` → `[{"id","name"}]`.
pub fn tests(packages: &[Package]) -> Value {
    Value::Array(
        packages
            .iter()
            .map(|p| json!({ "id": p.id, "name": p.name }))
            .collect(),
    )
}

/// `{base}/p/{codename}/reports/{report_id}`. `base` is `RECRUITEE_API_BASE` (a trailing
/// `/` is ignored); the codename must be a plain token (letters, digits, `-`, `_`), the report
/// id a uuid — both are checked here so nothing else can end up in the path.
pub fn report_url(base: &str, codename: &str, report_id: &str) -> Result<String, String> {
    let plain = |s: &str| {
        !s.is_empty()
            && s.len() <= 100
            && s.bytes()
                .all(|c| c.is_ascii_alphanumeric() || c == b'-' || c == b'_')
    };
    if !plain(codename) {
        return Err("RECRUITEE_PARTNER_CODENAME must be letters, digits, '-' or '_'".into());
    }
    let report = parse_uuid(report_id).ok_or("the report id is not a uuid")?;
    Ok(format!(
        "{}/p/{codename}/reports/{report}",
        base.trim_end_matches('/')
    ))
}

/// The body that marks a fresh report `sent` and hands Recruitee the bridge's cancel URL.
pub fn sent_body(cancel_url: &str) -> Value {
    json!({ "status": "sent", "urls": { "cancel": cancel_url } })
}

/// A score as the text Recruitee shows: `"87.5/100"` with a maximum, `"87.5"` without.
pub fn score_text(score: f64, max_score: Option<f64>) -> String {
    match max_score {
        Some(max) => format!("{score}/{max}"),
        None => format!("{score}"),
    }
}

/// Recruitee's progress line for an order still running (`subtitle`).
fn progress_subtitle(s: Status) -> &'static str {
    match s {
        Status::Started => "Started",
        Status::InProgress => "In progress",
        _ => "Pending",
    }
}

/// The report PATCH body for a result, or None when Recruitee has nothing to show for it.
///
/// - COMPLETED → `{"status":"completed","score":"87.5/100","completed_at"}` (`completed_at`
///   from the result, else `now_ms`; UTC, RFC 3339).
/// - REJECTED, EXPIRED → `{"status":"failed"}` (with `score` when given); CANCELLED →
///   `{"status":"canceled"}`. For assessments the reason (or the status word) goes in `subtitle`.
/// - STARTED, IN_PROGRESS, PENDING → `{"subtitle":"In progress"}` etc. for assessments; Recruitee
///   has no `subtitle` for background and reference checks, so those send nothing (None).
pub fn report_patch(r: &ResultUpdate, kind: OrderKind, now_ms: i64) -> Option<Value> {
    let assessment = kind == OrderKind::Assessment;
    let mut body = Map::new();
    let mut put = |k: &str, v: Value| {
        body.insert(k.to_string(), v);
    };
    let score = r.score.map(|s| score_text(s, r.max_score));
    match r.status {
        Status::Completed => {
            put("status", json!("completed"));
            if let Some(s) = score {
                put("score", json!(s));
            }
            let at = r
                .completed_at
                .as_deref()
                .and_then(parse_rfc3339)
                .unwrap_or(now_ms);
            put("completed_at", json!(rfc3339(at)));
        }
        Status::Rejected | Status::Expired | Status::Cancelled => {
            let cancelled = r.status == Status::Cancelled;
            put(
                "status",
                json!(if cancelled { "canceled" } else { "failed" }),
            );
            if let (Some(s), false) = (score, cancelled) {
                put("score", json!(s));
            }
            if assessment {
                let word = match r.status {
                    Status::Rejected => "Rejected",
                    Status::Expired => "Expired",
                    _ => "Canceled",
                };
                let line = match &r.reason {
                    Some(reason) => format!("{word}: {reason}"),
                    None => word.to_string(),
                };
                put("subtitle", json!(line));
            }
        }
        Status::NotSpecified | Status::Pending | Status::Started | Status::InProgress => {
            if !assessment {
                return None;
            }
            put("subtitle", json!(progress_subtitle(r.status)));
        }
    }
    Some(Value::Object(body))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture() -> Value {
        serde_json::from_str(include_str!("../../fixtures/recruitee/send_candidate.json")).unwrap()
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
    fn parses_the_fixture_and_keeps_extra_inputs() {
        let v = fixture();
        let o = parse_send_candidate(&v).unwrap();
        assert_eq!(o.report_id, "5f0c2a4e-8d1b-4c7a-9e3f-2b6d8a1c4e90");
        assert_eq!(o.test_id, "bg-standard");
        assert_eq!(o.candidate_id, "48213");
        assert_eq!(o.company_id, "9021");
        assert_eq!(o.first_name.as_deref(), Some("Mira"));
        assert_eq!(o.inputs.len(), 2, "phone and admin are configured inputs");
        assert!(o.inputs.contains_key("phone") && o.inputs.contains_key("admin"));
    }

    #[test]
    fn refuses_bad_input_naming_the_field() {
        for (field, bad) in [
            ("report_id", json!("not-a-uuid")),
            ("report_id", json!(null)),
            ("report_id", json!("5f0c2a4e8d1b4c7a9e3f2b6d8a1c4e90")),
            ("email", json!("no-at-sign")),
            ("email", json!("")),
            ("test_id", json!(null)),
            ("candidate_id", json!({"x": 1})),
            ("company_id", json!(null)),
        ] {
            let mut v = fixture();
            v[field] = bad.clone();
            let e = parse_send_candidate(&v).unwrap_err();
            assert_eq!(e.status, 422, "{field}={bad}");
            assert!(e.message.contains(field), "{field}: {}", e.message);
        }
        let e = parse_send_candidate(&json!([1])).unwrap_err();
        assert_eq!(e.status, 422);
        // Numbers are accepted for ids; an upper-case uuid is normalized.
        let mut v = fixture();
        v["test_id"] = json!(2);
        v["report_id"] = json!("5F0C2A4E-8D1B-4C7A-9E3F-2B6D8A1C4E90");
        let o = parse_send_candidate(&v).unwrap();
        assert_eq!(o.test_id, "2");
        assert_eq!(o.report_id, "5f0c2a4e-8d1b-4c7a-9e3f-2b6d8a1c4e90");
    }

    #[test]
    fn normalizes_into_the_candidate_assessment() {
        let v = fixture();
        let o = parse_send_candidate(&v).unwrap();
        let cat = vec![Package {
            id: "bg-standard".into(),
            name: "Standard criminal record check".into(),
            description: Some("7 years".into()),
            package_type: Some("CRIMINAL_RECORD".into()),
            kind: Some(OrderKind::BackgroundCheck),
            criteria: vec![],
        }];
        let catalogue = Catalogue {
            packages: Some(&cat),
            default_kind: OrderKind::Assessment,
        };
        let a = normalize(&o, "ats_ass_1", "acme", catalogue, v.clone());
        let out = serde_json::to_value(&a).unwrap();
        assert_eq!(out["provider"], "recruitee");
        assert_eq!(out["candidate"]["id"], "48213");
        assert_eq!(
            out["candidate"]["emails"][0],
            json!({"email": "mira.novak@example.org", "type": "PRIMARY"})
        );
        assert_eq!(
            out["candidate"]["phones"][0],
            json!({"phoneNumber": "+386 40 555 123", "type": "NOT_SPECIFIED"})
        );
        assert_eq!(
            out["assessmentPackage"]["name"],
            "Standard criminal record check"
        );
        assert_eq!(out["assessmentPackage"]["kind"], "background_check");
        assert_eq!(out["assessmentPackage"]["type"], "CRIMINAL_RECORD");
        assert_eq!(out["metaData"]["reportId"], o.report_id);
        assert_eq!(out["metaData"]["companyId"], "9021");
        assert_eq!(out["metaData"]["inputs"]["admin"], v["admin"]);
        assert!(out["applicationId"].is_null() && out["jobId"].is_null());
        assert!(out["callbackUrl"].is_null());
        assert_eq!(out["originData"], v);
        assert_eq!(out["status"], "NOT_SPECIFIED");

        // Unknown to the catalogue: Recruitee's own test name, the tenant's default kind.
        let none = Catalogue {
            packages: None,
            default_kind: OrderKind::ReferenceCheck,
        };
        let a = normalize(&o, "ats_ass_2", "acme", none, v);
        assert_eq!(a.assessment_package.name.as_deref(), Some("Standard check"));
        assert_eq!(a.assessment_package.kind, OrderKind::ReferenceCheck);
    }

    #[test]
    fn renders_tests_and_the_answer() {
        let p = vec![
            Package {
                id: "js".into(),
                name: "JavaScript".into(),
                description: Some("ignored".into()),
                package_type: None,
                kind: None,
                criteria: vec![],
            },
            Package {
                id: "2".into(),
                name: "Ruby".into(),
                description: None,
                package_type: None,
                kind: Some(OrderKind::Assessment),
                criteria: vec![],
            },
        ];
        assert_eq!(
            tests(&p),
            json!([{"id": "js", "name": "JavaScript"}, {"id": "2", "name": "Ruby"}])
        );
        assert_eq!(tests(&[]), json!([]));
        assert_eq!(
            render_order("ats_ass_1"),
            json!({"assessment_id": "ats_ass_1"})
        );
    }

    fn creds(settings: &[(&str, &str)]) -> CredentialSource {
        CredentialSource {
            values: Default::default(),
            settings: super::super::Settings(
                settings
                    .iter()
                    .map(|(k, v)| (k.to_string(), v.to_string()))
                    .collect(),
            ),
        }
    }

    fn record(test_id: &str, kind: OrderKind) -> CandidateAssessment {
        let v = fixture();
        let mut o = parse_send_candidate(&v).unwrap();
        o.test_id = test_id.into();
        let mut a = normalize(&o, "ats_ass_1", "acme", Catalogue::default(), v);
        a.assessment_package.kind = kind;
        a
    }

    #[test]
    fn write_back_and_the_sent_mark() {
        let full = creds(&[
            (
                "RECRUITEE_API_BASE",
                "https://integrations.rc.recruitee.dev/api",
            ),
            ("RECRUITEE_PARTNER_CODENAME", "vendorco"),
            ("RECRUITEE_PARTNER_SECRET", "s3cret"),
        ]);
        assert_eq!(authorization(&full).as_deref(), Some("s3cret"));
        assert_eq!(SPEC.authorization_header, "RT-PARTNER-SECRET");
        let a = record("code-90", OrderKind::Assessment);
        let report = "https://integrations.rc.recruitee.dev/api/p/vendorco/reports/5f0c2a4e-8d1b-4c7a-9e3f-2b6d8a1c4e90";
        let done = ResultUpdate {
            score: Some(1.0),
            max_score: Some(2.0),
            ..result(Status::Completed)
        };
        let wb = |r: &ResultUpdate, a: &CandidateAssessment, c: &CredentialSource, insecure| {
            write_back(&WriteBack {
                assessment_id: "ats_ass_1",
                record: a,
                result: r,
                update_ts: 1_793_527_200_000,
                credentials: c,
                allow_insecure: insecure,
            })
        };
        let calls = wb(&done, &a, &full, false).unwrap();
        assert_eq!(calls.len(), 1);
        assert_eq!(calls[0].url, report);
        assert_eq!(calls[0].method, worker::Method::Patch);
        let body: Value = serde_json::from_str(calls[0].body.as_deref().unwrap()).unwrap();
        assert_eq!(body["score"], "1/2");
        assert_eq!(body["completed_at"], "2026-11-01T10:00:00.000Z");
        // A check's progress: nothing to send.
        let check = record("bg", OrderKind::BackgroundCheck);
        assert!(wb(&result(Status::InProgress), &check, &full, false)
            .unwrap()
            .is_empty());
        // Missing partner settings: refused before anything is stored.
        for partial in [
            creds(&[("RECRUITEE_PARTNER_CODENAME", "vendorco")]),
            creds(&[("RECRUITEE_PARTNER_SECRET", "s3cret")]),
        ] {
            let e = wb(&done, &a, &partial, false).unwrap_err();
            assert_eq!((e.status, e.code), (422, "recruitee_partner_missing"));
        }
        // A loopback base only with ALLOW_INSECURE_TARGETS.
        let local = creds(&[
            ("RECRUITEE_API_BASE", "http://127.0.0.1:9/api"),
            ("RECRUITEE_PARTNER_CODENAME", "vendorco"),
            ("RECRUITEE_PARTNER_SECRET", "s3cret"),
        ]);
        let e = wb(&done, &a, &local, false).unwrap_err();
        assert_eq!((e.status, e.code), (422, "invalid_configuration"));
        assert!(e.message.contains("RECRUITEE_API_BASE"), "{}", e.message);
        assert_eq!(wb(&done, &a, &local, true).unwrap().len(), 1);

        let placed = PlacedOrder {
            assessment_id: "ats_ass_1",
            record: &a,
            cancel_url: Some("https://b.example/p/recruitee/cancel?token=t"),
            credentials: &full,
            allow_insecure: false,
        };
        let sent = mark_sent(&placed).unwrap();
        assert_eq!(sent.len(), 1);
        assert_eq!(sent[0].url, report);
        assert_eq!(
            serde_json::from_str::<Value>(sent[0].body.as_deref().unwrap()).unwrap(),
            json!({"status": "sent", "urls": {"cancel": "https://b.example/p/recruitee/cancel?token=t"}})
        );
    }

    #[test]
    fn bearer_token_is_the_key() {
        let settings = super::super::Settings::default();
        let header = |_: &str| None;
        let keys = |auth: Option<&str>| {
            bearer_keys(&Inbound {
                authorization: auth,
                header: &header,
                settings: &settings,
            })
        };
        assert_eq!(keys(Some("Bearer rc_acme.abc")), vec!["rc_acme.abc"]);
        assert_eq!(keys(Some("bearer  rc_acme.abc ")), vec!["rc_acme.abc"]);
        assert!(keys(Some("Basic cmNfYWNtZS5hYmM6")).is_empty());
        assert!(keys(None).is_empty());
    }

    #[test]
    fn report_urls() {
        let r = "5f0c2a4e-8d1b-4c7a-9e3f-2b6d8a1c4e90";
        assert_eq!(
            report_url("https://integrations.recruitee.com/api/", "vendorco", r).unwrap(),
            format!("https://integrations.recruitee.com/api/p/vendorco/reports/{r}")
        );
        assert!(report_url("https://x/api", "a/b", r).is_err());
        assert!(report_url("https://x/api", "", r).is_err());
        assert!(report_url("https://x/api", "ok", "../../x").is_err());
        assert_eq!(
            sent_body("https://b.example/p/recruitee/cancel?token=t"),
            json!({"status": "sent", "urls": {"cancel": "https://b.example/p/recruitee/cancel?token=t"}})
        );
    }

    #[test]
    fn result_mapping() {
        let now = 1_793_527_200_000; // 2026-11-01T10:00:00Z
        let done = ResultUpdate {
            score: Some(87.5),
            max_score: Some(100.0),
            completed_at: Some("2026-11-01T12:30:00+01:00".into()),
            result_url: Some("https://v.example/r/1".into()),
            ..result(Status::Completed)
        };
        assert_eq!(
            report_patch(&done, OrderKind::Assessment, now).unwrap(),
            json!({"status": "completed", "score": "87.5/100", "completed_at": "2026-11-01T11:30:00.000Z"})
        );
        // No completed_at: the time of the result; no max: the bare score; checks the same.
        let bare = ResultUpdate {
            score: Some(9.0),
            ..result(Status::Completed)
        };
        assert_eq!(
            report_patch(&bare, OrderKind::BackgroundCheck, now).unwrap(),
            json!({"status": "completed", "score": "9", "completed_at": "2026-11-01T10:00:00.000Z"})
        );
        let no_score =
            report_patch(&result(Status::Completed), OrderKind::Assessment, now).unwrap();
        assert!(no_score.get("score").is_none());

        for (status, word) in [(Status::Rejected, "Rejected"), (Status::Expired, "Expired")] {
            let b = report_patch(&result(status), OrderKind::Assessment, now).unwrap();
            assert_eq!(b, json!({"status": "failed", "subtitle": word}));
            let b = report_patch(&result(status), OrderKind::ReferenceCheck, now).unwrap();
            assert_eq!(b, json!({"status": "failed"}), "no subtitle for checks");
        }
        let why = ResultUpdate {
            reason: Some("No show".into()),
            score: Some(3.0),
            max_score: Some(10.0),
            ..result(Status::Expired)
        };
        assert_eq!(
            report_patch(&why, OrderKind::Assessment, now).unwrap(),
            json!({"status": "failed", "score": "3/10", "subtitle": "Expired: No show"})
        );
        assert_eq!(
            report_patch(&result(Status::Cancelled), OrderKind::BackgroundCheck, now).unwrap(),
            json!({"status": "canceled"})
        );
        assert_eq!(
            report_patch(&result(Status::Cancelled), OrderKind::Assessment, now).unwrap()["status"],
            "canceled"
        );
        for (status, line) in [
            (Status::Started, "Started"),
            (Status::InProgress, "In progress"),
            (Status::Pending, "Pending"),
        ] {
            assert_eq!(
                report_patch(&result(status), OrderKind::Assessment, now).unwrap(),
                json!({"subtitle": line})
            );
            assert_eq!(
                report_patch(&result(status), OrderKind::BackgroundCheck, now),
                None
            );
        }
        assert_eq!(score_text(87.5, Some(100.0)), "87.5/100");
        assert_eq!(score_text(76.0, None), "76");
    }
}
