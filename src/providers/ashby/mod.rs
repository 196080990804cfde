//! Ashby assessment partner API (README "What the ATSs call"; Ashby's public "Assessment Partner"
//! integration documentation): `assessment.list`, `assessment.start`, `assessment.cancel`, and
//! `assessment.update` back to Ashby. Validation failures use Ashby's `{"message"}` shape,
//! which Ashby shows to its user. Tenant-scoped: the customer pastes
//! `/t/{tenant}/ashby` and an `ab_` key (HTTP Basic username) into Ashby.

mod connect;
mod order;
mod update;

use connect::*;
use order::*;
use update::*;

use serde_json::{json, Map, Value};

use super::setup::{CredentialCheck, CredentialField as ConnectField, SetupGuide, SetupUrl};
use super::Settings;
use super::{
    basic_authorization, basic_keys, compact, optional, Cancellation, CredentialField,
    CredentialSource, EdgeRequest, Facts, Fixture, Handler, Idempotency, Operation, OutboundCall,
    ScoreShape, Setting, Spec, Surface, WriteBack,
};
use crate::delivery::attempt::{answer_from_status, ProviderAnswer, ProviderFault};
use crate::error::{code, ApiError, ApiResult, EdgeAuth, ErrorShape};
use crate::model::{
    context, parse_rfc3339, scalar_string, AssessmentPackage, Candidate, CandidateAssessment,
    Catalogue, Email, Job, Package, Provider, ResultUpdate, Status, TeamMember, TeamRole,
};
use crate::routes::Method;
use crate::targets::{self, AllowedHost, Refusal};

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
                render: render_cancel,
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
        parts: &[],
    }],
    settings: &[Setting {
        env: "ASHBY_API_BASE",
        default: Some("https://api.ashbyhq.com"),
    }],
    authorization,
    authorization_header: "authorization",
    outbound_hosts: &[AllowedHost::SubdomainOf("ashbyhq.com")],
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
        // Ashby would take another assessment.update, but the bridge refuses a second final
        // result (409 `assessment_final`, `tenant::results::accept`), so none is sent.
        final_result_changeable: false,
        metadata_levels: 0,
    },
    setup: &SETUP,
    credential_check,
    read_api: None,
    fixtures: &[
        Fixture {
            operation: "assessment.list",
            query: "",
            body: include_str!("../../../fixtures/ashby/assessment.list.json"),
        },
        Fixture {
            operation: "assessment.start",
            query: "",
            body: include_str!("../../../fixtures/ashby/assessment.start.json"),
        },
        Fixture {
            operation: "assessment.cancel",
            query: "",
            body: include_str!("../../../fixtures/ashby/assessment.cancel.json"),
        },
    ],
};

fn render_list(_: &EdgeRequest, packages: &[Package]) -> ApiResult<Value> {
    Ok(list(packages))
}

fn parse_order(req: &EdgeRequest) -> ApiResult<super::Order> {
    let v = req.json()?;
    let start = parse_start(&v)?;
    Ok(super::Order {
        // Idempotent while active: Ashby may retry a start; the same id comes back.
        idempotency_key: start.idempotency_key(),
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

/// Every accepted result is forwarded as an `assessment.update` (README "Results back to the ATS").
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
    let url =
        check_api_url(&format!("{base}/assessment.update"), w.allow_insecure).map_err(|why| {
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

/// `assessment.cancel`'s answer: the start envelope when the assessment is cancelled (now, or
/// by an earlier cancel). One that was already completed, rejected or expired is not
/// cancelled: a 422 whose `{"message"}` Ashby shows its user ("The assessment was already
/// completed; nothing was canceled."), since Ashby's envelope has no field for another outcome.
fn render_cancel(c: &Cancellation) -> ApiResult<Value> {
    match c.status {
        Status::Cancelled => Ok(started(c.assessment_id)),
        _ => Err(ApiError::new(
            422,
            code::ASSESSMENT_FINAL,
            c.already_final()
                .unwrap_or_else(|| "The assessment is not cancelled.".to_string()),
        )),
    }
}

/// The `assessment.update` URL built from `ASHBY_API_BASE`: on Ashby's API hosts
/// (`https://<subdomain>.ashbyhq.com`, `SPEC.outbound_hosts`), without a query or fragment,
/// unless insecure targets are allowed (then any target `targets::check_target` accepts).
fn check_api_url(raw: &str, allow_insecure: bool) -> Result<crate::weburl::WebUrl, Refusal> {
    let url = targets::check_outbound(raw, allow_insecure, SPEC.outbound_hosts)?;
    if !allow_insecure && (url.query().is_some() || raw.contains('#')) {
        return Err("must be an https://<subdomain>.ashbyhq.com URL without a query".into());
    }
    Ok(url)
}

#[cfg(test)]
pub(crate) mod test_support;

#[cfg(test)]
mod tests {
    use super::test_support::*;
    use super::*;
    use crate::admin::tenants::{self, Change, Credentials};
    use crate::providers::{CredentialSource, Settings, REGISTRY};
    use crate::routes::{match_admin, match_edge, Admin};

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
        let v: Value = serde_json::from_str(include_str!(
            "../../../fixtures/ashby/assessment.start.json"
        ))
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
                order_key: None,
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

    #[test]
    fn api_urls_stay_on_ashbys_hosts() {
        let ab = |u: &str| check_api_url(u, false);
        assert!(ab("https://api.ashbyhq.com/assessment.update").is_ok());
        assert!(ab("https://API.AshbyHQ.com/assessment.update").is_ok());
        for bad in [
            "https://ashbyhq.com/assessment.update",
            "https://api.ashbyhq.com.evil.com/assessment.update",
            "https://evilashbyhq.com/assessment.update",
            "https://k@api.ashbyhq.com/assessment.update",
            "https://api.ashbyhq.com:8443/assessment.update",
            "https://api.ashbyhq.com?x=/assessment.update",
            "https://api.ashbyhq.com#/assessment.update",
            "http://api.ashbyhq.com/assessment.update",
        ] {
            assert!(ab(bad).is_err(), "{bad} should be refused");
        }
        assert!(ab("https://ashbyhq.com/x")
            .unwrap_err()
            .contains("<subdomain>.ashbyhq.com"));
        // Local development and tests: loopback fakes.
        assert!(ab("http://127.0.0.1:9/api/assessment.update").is_err());
        assert!(check_api_url("http://127.0.0.1:9/api/assessment.update", true).is_ok());
    }
}
