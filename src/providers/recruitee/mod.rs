//! Recruitee Partners API ("reports"), README "Recruitee". Sources: docs.recruitee.com,
//! "Partners API": `sending-candidates` (the `send_candidate` body, the `tests` answer, extra
//! inputs),
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

mod hosts;
mod order;
mod report;

use hosts::*;
use order::*;
use report::*;

use serde_json::{json, Map, Value};

use super::setup::{no_credential_check, SetupGuide};
use super::{
    compact, optional, required, Cancellation, CredentialSource, EdgeRequest, Facts, Fixture,
    Handler, Idempotency, Inbound, Operation, OutboundCall, PlacedOrder, ScoreShape, Setting, Spec,
    Surface, WriteBack,
};
use crate::error::{code, ApiError, ApiResult, Context, EdgeAuth, ErrorShape};
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
    outbound_hosts: API_HOSTS,
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
        metadata_levels: 0,
    },
    setup: &SETUP,
    credential_check: no_credential_check,
    read_api: None,
    fixtures: &[
        Fixture {
            operation: "send_candidate",
            query: "",
            body: include_str!("../../../fixtures/recruitee/send_candidate.json"),
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

/// A cancel link's answer: `{"assessment_id","status":"canceled"}` when the assessment is
/// canceled (now, or by an earlier call of the link). One that was already completed,
/// rejected or expired stays so: `status` is its report status (`completed`, `failed`) and
/// `message` says nothing was canceled.
fn render_cancel(c: &Cancellation) -> Value {
    let status = match c.status {
        Status::Completed => "completed",
        Status::Rejected | Status::Expired => "failed",
        _ => "canceled",
    };
    let mut answer = json!({ "assessment_id": c.assessment_id, "status": status });
    if c.status != Status::Cancelled {
        if let Some(message) = c.already_final() {
            answer["message"] = json!(message);
        }
    }
    answer
}

/// The partner secret (a deployment secret, the same for every customer).
fn authorization(c: &CredentialSource) -> Option<String> {
    c.setting("RECRUITEE_PARTNER_SECRET").map(str::to_string)
}

/// A result → the report PATCH (none for a check's progress, which Recruitee cannot show).
fn write_back(w: &WriteBack) -> ApiResult<Vec<OutboundCall>> {
    let url = report_call_url(w.credentials, w.record, w.order_key, w.allow_insecure)?;
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

/// `GET {urls.tests}` → `[{"id","name"}]`.
pub fn tests(packages: &[Package]) -> Value {
    Value::Array(
        packages
            .iter()
            .map(|p| json!({ "id": p.id, "name": p.name }))
            .collect(),
    )
}

#[cfg(test)]
pub(crate) mod test_support;

#[cfg(test)]
mod tests {
    use super::*;

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
}
