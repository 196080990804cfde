//! Teamtailor partner API (README "Teamtailor"; Teamtailor's public partner docs,
//! repository `Teamtailor/tt-partner-docs`, `source/includes/partners/`): the partner-level
//! `config`, `webhook`, `activation` and activation-validate endpoints, and the partner-result
//! `PUT` back to Teamtailor.
//!
//! Teamtailor stores one base URL for the whole vendor and names the customer only by the
//! provider key it sends as `Authorization: Bearer <token>`: the customer's activation form
//! (one field, `key`, holding the customer's `tt_…` key) that Teamtailor turned into a token,
//! either a JWS signed with the partner API key (HS256) or a JWE (`dir`, `A256GCM`) keyed from
//! the webhook secret. [`provider_key`] opens either and answers the `tt_…` key inside.

mod forms;
mod order;
mod result;
mod signature;
mod token;

use forms::*;
use order::*;
use result::*;
use signature::*;
use token::*;

use aes_gcm::aead::AeadInPlace;
use aes_gcm::{Aes256Gcm, Nonce, Tag};
use base64::alphabet::URL_SAFE;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use base64::Engine;
use hmac::{Hmac, Mac};
use serde_json::{json, Map, Value};
use sha2::{Digest, Sha256};

use super::{
    compact, optional, CredentialSource, EdgeRequest, Facts, Fixture, Handler, Idempotency,
    Inbound, Operation, OutboundCall, ScoreShape, Setting, Spec, Surface, WriteBack,
};
use crate::delivery::attempt::{answer_from_status, ProviderAnswer, ProviderFault};
use crate::error::{code, ApiError, ApiResult, EdgeAuth, ErrorShape};
use crate::model::{
    context, parse_rfc3339, AssessmentPackage, Candidate, CandidateAssessment, Catalogue,
    CustomField, Email, Job, Location, Package, Phone, Provider, Requester, ResultUpdate, Status,
    TeamMember, TeamRole,
};
use crate::routes::Method;
use crate::targets::{self, AllowedHost, Refusal};
use crate::weburl::{Host, WebUrl};

type HmacSha256 = Hmac<Sha256>;

/// `X-Api-Version` of every call to Teamtailor's partner API (its docs' `config[:api_version]`).
pub const API_VERSION: &str = "20180828";

/// The hosts of Teamtailor's partner API (EU, NA and AP stacks; `SPEC.outbound_hosts`). A
/// partner result's `update-url` must be `https://` on exactly one of them (unless insecure
/// targets are allowed).
const API_HOSTS: &[AllowedHost] = &[
    AllowedHost::Exact("api.teamtailor.com"),
    AllowedHost::Exact("api.na.teamtailor.com"),
    AllowedHost::Exact("api.au.teamtailor.com"),
];

/// How far a `Teamtailor-Signature` timestamp may be from now, in seconds.
pub const SIGNATURE_TOLERANCE_SECS: i64 = 300;

/// The activation form's field that holds the customer's key; its name inside the token.
pub const KEY_FIELD: &str = "key";

/// The path (relative to `{origin}/p/teamtailor/`) of the activation validate endpoint, as
/// named in the activation form's `validateEndpoint`.
pub const VALIDATE_ENDPOINT: &str = "validate";

/// `TEAMTAILOR_PARTNER_API_KEY`: verifies JWS provider keys, authorizes partner-result writes.
pub const PARTNER_API_KEY: &str = "TEAMTAILOR_PARTNER_API_KEY";

/// `TEAMTAILOR_WEBHOOK_SECRET`: decrypts JWE provider keys, verifies `Teamtailor-Signature`.
pub const WEBHOOK_SECRET: &str = "TEAMTAILOR_WEBHOOK_SECRET";

const SIGNATURE_HEADER: &str = "teamtailor-signature";

/// Teamtailor on the provider seam (README "Teamtailor"): partner-level, one base URL
/// `{origin}/p/teamtailor` for the whole vendor; the tenant comes from the `tt_…` key inside
/// the provider-key token.
pub static SPEC: Spec = Spec {
    name: "teamtailor",
    title: "Teamtailor",
    key_prefix: "tt_",
    surface: Surface::PartnerLevel,
    operations: &[
        Operation {
            segment: "config",
            method: Method::Get,
            handler: Handler::Config {
                context: config_context,
                render: render_config,
            },
        },
        Operation {
            segment: "webhook",
            method: Method::Post,
            handler: Handler::Order {
                parse: parse_webhook,
                render: accepted,
            },
        },
        Operation {
            segment: "activation",
            method: Method::Get,
            handler: Handler::Activation {
                render: render_activation,
                public: true,
            },
        },
        Operation {
            segment: VALIDATE_ENDPOINT,
            method: Method::Get,
            handler: Handler::Activation {
                render: render_valid,
                public: false,
            },
        },
    ],
    error_shape: ErrorShape::ErrorList,
    edge_auth: EdgeAuth::Bearer,
    extract_keys,
    forward_headers: &[SIGNATURE_HEADER],
    credentials: &[],
    settings: &[
        Setting {
            env: PARTNER_API_KEY,
            default: None,
        },
        Setting {
            env: WEBHOOK_SECRET,
            default: None,
        },
    ],
    authorization,
    authorization_header: "authorization",
    call_answer: result_answer,
    outbound_hosts: API_HOSTS,
    call_headers: &[
        ("x-api-version", API_VERSION),
        ("content-type", "application/vnd.api+json"),
    ],
    write_back,
    after_order: None,
    // `partner-result.id` is unique per order: a repeat is always the same order.
    idempotency: Idempotency::KeyHeldForever,
    facts: Facts {
        result_fields: &[
            ("status", "status"),
            ("summary", "summary (150 characters on the candidate card)"),
            ("reason", "summary (for failed results)"),
            ("result_url", "url"),
            ("score", "assessment.score (0–100)"),
            ("max_score", "assessment.score (scales the score)"),
            ("started_at", "assessment.duration (with completed_at)"),
            ("completed_at", "assessment.duration (with started_at)"),
            ("metadata", "details (at most 2 levels deep)"),
            ("attachments", "attachments"),
        ],
        limits: &[
            (
                "assessment.score",
                "0 to 100 (the bridge scales score/max_score)",
            ),
            (
                "details",
                "labels and one level below them (deeper values sent as JSON text)",
            ),
            ("summary", "150 characters shown on the candidate card"),
        ],
        status_mapping: &[
            (Status::NotSpecified, "sent"),
            (Status::Pending, "sent"),
            (Status::Started, "pending"),
            (Status::InProgress, "pending"),
            (Status::Completed, "completed"),
            (Status::Rejected, "failed"),
            (Status::Expired, "failed"),
            (Status::Cancelled, "failed"),
        ],
        score: ScoreShape::Percent,
        attachments: crate::model::MAX_ATTACHMENTS,
        // Teamtailor would take another partner-result PUT, but the bridge refuses a second
        // final result (409 `assessment_final`, `tenant::results::accept`), so none is sent.
        final_result_changeable: false,
        metadata_levels: 1,
    },
    setup: &SETUP,
    credential_check: super::setup::no_credential_check,
    read_api: None,
    fixtures: &[
        Fixture {
            operation: "webhook",
            query: "",
            body: include_str!("../../../fixtures/teamtailor/webhook.json"),
        },
        Fixture {
            operation: "config",
            query: "job_id=5521&stage_id=88&user_id=204",
            body: "",
        },
    ],
};

/// What the connect page tells a Teamtailor customer (README "Teamtailor"): the vendor set the
/// base URL up once in Teamtailor, so the customer only activates and pastes the key.
pub(crate) const SETUP: super::setup::SetupGuide = super::setup::SetupGuide {
    display_name: "Teamtailor",
    steps: &[
        "Sign in to Teamtailor as an admin and open Settings → Integrations, then this vendor's integration in the marketplace, and activate it.",
        "Paste the key below into the Key field of the activation form; Teamtailor checks it at once.",
        "Add a trigger on a job stage that sends this vendor's test, and pick the test in the trigger's form.",
    ],
    urls: &[super::setup::SetupUrl {
        label: "Integration URL in Teamtailor (already set up by the vendor; for reference)",
        suffix: "",
    }],
    key_label: "Key",
    fields: &[],
    note: Some("Nothing else is needed: results go back to Teamtailor with the vendor's partner credentials."),
};

/// Unix seconds now. The pure functions above take the time as a parameter; this is the one
/// place that reads a clock (the runtime's `Date` in the worker, the system clock in host tests).
fn unix_now_secs() -> i64 {
    #[cfg(target_arch = "wasm32")]
    {
        (js_sys::Date::now() / 1000.0) as i64
    }

    #[cfg(not(target_arch = "wasm32"))]
    {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs() as i64)
            .unwrap_or(0)
    }
}

/// One log line saying why a credential was refused (a word, never the token or its content);
/// host unit tests have no console.
fn log_refusal(msg: &str, why: &str) {
    #[cfg(target_arch = "wasm32")]
    worker::console_warn!("{}", json!({ "msg": msg, "why": why }));
    #[cfg(not(target_arch = "wasm32"))]
    let _ = (msg, why);
}

/// The bridge key inside the bearer token; none when the token does not open (the one 401).
fn extract_keys(inbound: &Inbound) -> Vec<String> {
    let Some(token) = crate::secrets::bearer(inbound.authorization) else {
        return vec![];
    };
    let secrets = TokenSecrets {
        partner_api_key: inbound.settings.get(PARTNER_API_KEY),
        webhook_secret: inbound.settings.get(WEBHOOK_SECRET),
    };
    match provider_key(token, secrets, unix_now_secs()) {
        Ok(key) => vec![key],
        Err(why) => {
            log_refusal("teamtailor token refused", why.as_str());
            vec![]
        }
    }
}

/// Teamtailor's `job_id` and `stage_id` (sent when the trigger is set up on a job) go on to the
/// vendor's `packages_url`, so it can offer per-job tests.
fn config_context(req: &EdgeRequest) -> Vec<(&'static str, String)> {
    ["job_id", "stage_id"]
        .into_iter()
        .filter_map(|k| {
            req.query_param(k)
                .filter(|v| !v.is_empty() && v.len() <= 64)
                .map(|v| (k, v))
        })
        .collect()
}

fn render_config(_req: &EdgeRequest, packages: &[Package]) -> ApiResult<Value> {
    Ok(config(packages))
}

fn render_activation(_req: &EdgeRequest) -> ApiResult<Value> {
    Ok(activation_form())
}

fn render_valid(_req: &EdgeRequest) -> ApiResult<Value> {
    Ok(activation_valid())
}

/// The webhook's answer once the order is stored: the assessment id (Teamtailor only needs
/// the 2xx; nothing is said about the partner result, which the vendor's results update).
fn accepted(id: &str) -> Value {
    json!({ "assessment_id": id })
}

/// `webhook`: the optional `Teamtailor-Signature` is checked first (a bad one is a 401 that
/// says what is wrong with the signature), then the order.
fn parse_webhook(req: &EdgeRequest) -> ApiResult<super::Order> {
    let v = req.json()?;
    if let (Some(sig), Some(secret)) = (
        req.header(SIGNATURE_HEADER),
        req.settings.get(WEBHOOK_SECRET),
    ) {
        let event_id = optional(&v, &["partner-event", "id"]).unwrap_or_default();
        if let Err(why) = verify_signature(sig, &event_id, secret, unix_now_secs()) {
            log_refusal("teamtailor signature refused", why.as_str());
            return Err(why.refusal());
        }
    }
    let order = parse_order(&v, req.allow_insecure)?;
    Ok(super::Order {
        idempotency_key: order.result_id.clone(),
        normalize: Box::new(move |id, tenant, catalogue| {
            normalize(&order, id, tenant, catalogue, v)
        }),
    })
}

/// `Authorization: Bearer <TEAMTAILOR_PARTNER_API_KEY>` (the current partner-results examples).
fn authorization(c: &CredentialSource) -> Option<String> {
    c.setting(PARTNER_API_KEY).map(|k| format!("Bearer {k}"))
}

#[cfg(test)]
pub(crate) mod test_support;

#[cfg(test)]
mod tests {
    use super::test_support::*;
    use super::*;

    #[test]
    fn config_passes_job_and_stage_to_packages_url() {
        let settings = super::super::Settings::default();
        let req = edge_request(
            Some("job_id=5521&stage_id=88&user_id=204"),
            b"",
            &[],
            &settings,
        );
        assert_eq!(
            config_context(&req),
            vec![
                ("job_id", "5521".to_string()),
                ("stage_id", "88".to_string())
            ]
        );
        let req = edge_request(Some("user_id=204&job_id="), b"", &[], &settings);
        assert!(config_context(&req).is_empty());
        assert!(config_context(&edge_request(None, b"", &[], &settings)).is_empty());
    }
}
