//! Greenhouse Assessment Partner API (README "What the ATSs call"; Greenhouse's public
//! "Assessment Partner API" documentation): `list_tests`, `send_test`, `test_status`,
//! `response_error`, and the completion `PATCH` back to Greenhouse. Tenant-scoped: the
//! customer pastes `/t/{tenant}/greenhouse` and a `gh_` key (HTTP Basic username) into
//! Greenhouse.

mod answers;
mod completion;
mod connect;
mod harvest;
mod order;
#[cfg(test)]
mod test_support;

use answers::*;
use completion::*;
use connect::*;
use order::*;

use serde_json::{json, Map, Value};

use crate::delivery::attempt::{answer_from_status, ProviderAnswer};
use crate::error::{ApiError, ApiResult, EdgeAuth, ErrorShape};
use crate::model::{
    context, AssessmentPackage, Candidate, CandidateAssessment, Catalogue, Email, Enrichment,
    EnrichmentStatus, Package, Phone, Provider, Requester, ResultUpdate, Status,
};
use crate::providers::setup::{
    CredentialCheck, CredentialField as ConnectField, SetupGuide, SetupUrl,
};
use crate::providers::{
    basic_authorization, basic_keys, compact, optional, required, CredentialField,
    CredentialSource, EdgeRequest, Facts, Fixture, Handler, Idempotency, Operation, OutboundCall,
    ReportedError, ScoreShape, Setting, Settings, Spec, StatusView, Surface, WriteBack,
};
use crate::routes::Method;
use crate::targets::{self, AllowedHost, Refusal};
use harvest::HarvestCredentials;

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
            name: harvest::CREDENTIAL,
            secret: true,
            max_len: 512,
            parts: harvest::CREDENTIAL_PARTS,
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
            env: harvest::API_BASE_SETTING,
            default: Some(harvest::DEFAULT_API_BASE),
        },
        Setting {
            env: harvest::TOKEN_URL_SETTING,
            default: Some(harvest::DEFAULT_TOKEN_URL),
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
    read_api: Some(&harvest::READ_API),
    fixtures: &[
        Fixture {
            operation: "send_test",
            query: "",
            body: include_str!("../../../fixtures/greenhouse/send_test.json"),
        },
        Fixture {
            operation: "response_error",
            query: "",
            body: include_str!("../../../fixtures/greenhouse/response_error.json"),
        },
        Fixture {
            operation: "test_status",
            query: "partner_interview_id=ats_ass_1",
            body: "",
        },
    ],
};

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

#[cfg(test)]
mod tests {
    use super::test_support::*;
    use super::*;
    use crate::providers::REGISTRY;
    use crate::routes::{match_edge, EdgeRoute, ScopedRoute};

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
}
