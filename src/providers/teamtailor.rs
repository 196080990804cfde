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
use crate::error::{ApiError, ApiResult, EdgeAuth, ErrorShape};
use crate::model::{
    context, parse_rfc3339, AssessmentPackage, Candidate, CandidateAssessment, Catalogue,
    CustomField, Email, Job, Location, Package, Phone, Provider, Requester, ResultUpdate, Status,
    TeamMember, TeamRole,
};
use crate::routes::Method;
use crate::targets::{self, Refusal};
use crate::weburl::{Host, WebUrl};

type HmacSha256 = Hmac<Sha256>;

/// `X-Api-Version` of every call to Teamtailor's partner API (its docs' `config[:api_version]`).
pub const API_VERSION: &str = "20180828";

/// The hosts of Teamtailor's partner API (EU, NA and AP stacks). A partner result's
/// `update-url` must be `https://` on exactly one of them (unless insecure targets are allowed).
pub const API_HOSTS: [&str; 3] = [
    "api.teamtailor.com",
    "api.na.teamtailor.com",
    "api.au.teamtailor.com",
];

/// How far a `Teamtailor-Signature` timestamp may be from now, in seconds.
pub const SIGNATURE_TOLERANCE_SECS: i64 = 300;

/// The activation form's field that holds the customer's key; its name inside the token.
pub const KEY_FIELD: &str = "key";

/// The path (relative to `{origin}/p/teamtailor/`) of the activation validate endpoint, as
/// named in the activation form's `validateEndpoint`.
pub const VALIDATE_ENDPOINT: &str = "validate";

/// Longest bearer token looked at; Teamtailor's tokens carry one short form value.
const MAX_TOKEN_LEN: usize = 8 * 1024;

/// Base64url as JOSE uses it (RFC 7515 §2), tolerating padding some encoders add.
const B64URL: GeneralPurpose = GeneralPurpose::new(
    &URL_SAFE,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// The deployment secrets that open provider-key tokens (README "Configuration"):
/// `TEAMTAILOR_PARTNER_API_KEY` verifies JWS, `TEAMTAILOR_WEBHOOK_SECRET` decrypts JWE.
#[derive(Debug, Clone, Copy, Default)]
pub struct TokenSecrets<'a> {
    pub partner_api_key: Option<&'a str>,
    pub webhook_secret: Option<&'a str>,
}

/// Why a bearer token was refused. Every variant answers the same 401 to the caller; the
/// variant is only for logs (it never contains the token or its content).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenError {
    /// Not a compact JWS (3 parts) or JWE (5 parts), bad base64/JSON, or a header this
    /// bridge does not accept (`alg` other than `HS256`/`dir`, `enc` other than `A256GCM`,
    /// `zip`, `crit`).
    Malformed,
    /// The secret that would verify this form is not configured on the deployment.
    NotConfigured,
    /// The JWS signature does not match the partner API key.
    BadSignature,
    /// The JWE does not decrypt with the key derived from the webhook secret.
    CannotDecrypt,
    /// `exp` is past or `nbf` is in the future.
    Expired,
    /// The claims carry no `key` that looks like a Teamtailor key of this bridge.
    NoKey,
}

impl TokenError {
    /// A stable snake_case word for logs.
    pub fn as_str(self) -> &'static str {
        match self {
            TokenError::Malformed => "malformed",
            TokenError::NotConfigured => "not_configured",
            TokenError::BadSignature => "bad_signature",
            TokenError::CannotDecrypt => "cannot_decrypt",
            TokenError::Expired => "expired",
            TokenError::NoKey => "no_key",
        }
    }
}

/// The customer's `tt_…` key from a provider-key token (the bearer token Teamtailor sends).
///
/// Accepts a compact JWS with `alg: HS256` verified with `TEAMTAILOR_PARTNER_API_KEY`, or a
/// compact JWE with `alg: dir`, `enc: A256GCM` decrypted with [`jwe_key`] of
/// `TEAMTAILOR_WEBHOOK_SECRET` (its plaintext a JSON claims object, or a JWS as above).
/// `now_secs` (unix seconds) judges `exp`/`nbf` when the claims carry them. The key returned
/// has the `tt_` prefix and fewer than 171 characters; whether it is a live key of a tenant
/// is for the tenant object to say.
pub fn provider_key(
    token: &str,
    secrets: TokenSecrets<'_>,
    now_secs: i64,
) -> Result<String, TokenError> {
    let claims = open_token(token.trim(), secrets, 0)?;
    check_times(&claims, now_secs)?;
    match claims.get(KEY_FIELD) {
        Some(Value::String(k)) => {
            let k = k.trim();
            (k.starts_with(SPEC.key_prefix) && k.len() < crate::secrets::MAX_KEY_LEN)
                .then(|| k.to_string())
                .ok_or(TokenError::NoKey)
        }
        _ => Err(TokenError::NoKey),
    }
}

fn open_token(
    token: &str,
    secrets: TokenSecrets<'_>,
    depth: u8,
) -> Result<Map<String, Value>, TokenError> {
    if token.is_empty() || token.len() > MAX_TOKEN_LEN {
        return Err(TokenError::Malformed);
    }
    let parts: Vec<&str> = token.split('.').collect();
    match parts.as_slice() {
        [h, p, s] => {
            let key = secrets.partner_api_key.ok_or(TokenError::NotConfigured)?;
            verify_jws(h, p, s, key.as_bytes())
        }
        [h, k, iv, ct, tag] if depth == 0 => {
            let secret = secrets.webhook_secret.ok_or(TokenError::NotConfigured)?;
            let plain = decrypt_jwe(h, k, iv, ct, tag, &jwe_key(secret))?;
            match serde_json::from_slice::<Value>(&plain) {
                Ok(Value::Object(m)) => Ok(m),
                // A nested JWT (`cty: JWT`): the inner token must verify on its own.
                _ => {
                    let inner = std::str::from_utf8(&plain).map_err(|_| TokenError::Malformed)?;
                    open_token(inner.trim(), secrets, depth + 1)
                }
            }
        }
        _ => Err(TokenError::Malformed),
    }
}

fn b64_json_object(segment: &str) -> Result<Map<String, Value>, TokenError> {
    let bytes = B64URL.decode(segment).map_err(|_| TokenError::Malformed)?;
    match serde_json::from_slice(&bytes) {
        Ok(Value::Object(m)) => Ok(m),
        _ => Err(TokenError::Malformed),
    }
}

/// A protected header this bridge understands: the given `alg` (and `enc`), no `crit`
/// extensions it would have to honour, no compression.
fn check_header(h: &Map<String, Value>, alg: &str, enc: Option<&str>) -> Result<(), TokenError> {
    let ok = h.get("alg").and_then(Value::as_str) == Some(alg)
        && enc.is_none_or(|e| h.get("enc").and_then(Value::as_str) == Some(e))
        && !h.contains_key("crit")
        && !h.contains_key("zip");
    ok.then_some(()).ok_or(TokenError::Malformed)
}

/// Verify a compact JWS (RFC 7515 §7.1) signed with HMAC-SHA256 (RFC 7518 §3.2); the MAC is
/// compared in constant time over the segments exactly as received.
fn verify_jws(
    header: &str,
    payload: &str,
    signature: &str,
    key: &[u8],
) -> Result<Map<String, Value>, TokenError> {
    check_header(&b64_json_object(header)?, "HS256", None)?;
    let sig = B64URL
        .decode(signature)
        .map_err(|_| TokenError::Malformed)?;
    let mut mac = HmacSha256::new_from_slice(key).map_err(|_| TokenError::NotConfigured)?;
    mac.update(header.as_bytes());
    mac.update(b".");
    mac.update(payload.as_bytes());
    mac.verify_slice(&sig)
        .map_err(|_| TokenError::BadSignature)?;
    b64_json_object(payload)
}

/// The 32-byte A256GCM key for Teamtailor's JWE provider keys: the ASCII text of the first 32
/// characters of the lower-case hex SHA-256 of the webhook secret (README "Teamtailor").
pub fn jwe_key(webhook_secret: &str) -> [u8; 32] {
    let hex = crate::secrets::hex(&Sha256::digest(webhook_secret.as_bytes()));
    let mut key = [0u8; 32];
    key.copy_from_slice(&hex.as_bytes()[..32]);
    key
}

/// Decrypt a compact JWE (RFC 7516 §7.1) with direct key agreement and AES-256-GCM
/// (RFC 7518 §4.5, §5.3): empty encrypted key, 96-bit IV, 128-bit tag, and the protected
/// header's base64url text as additional authenticated data.
fn decrypt_jwe(
    header: &str,
    encrypted_key: &str,
    iv: &str,
    ciphertext: &str,
    tag: &str,
    key: &[u8; 32],
) -> Result<Vec<u8>, TokenError> {
    check_header(&b64_json_object(header)?, "dir", Some("A256GCM"))?;
    if !encrypted_key.is_empty() {
        return Err(TokenError::Malformed);
    }
    let iv = B64URL.decode(iv).map_err(|_| TokenError::Malformed)?;
    let tag = B64URL.decode(tag).map_err(|_| TokenError::Malformed)?;
    if iv.len() != 12 || tag.len() != 16 {
        return Err(TokenError::Malformed);
    }
    let mut buf = B64URL
        .decode(ciphertext)
        .map_err(|_| TokenError::Malformed)?;
    <Aes256Gcm as aes_gcm::KeyInit>::new(key.into())
        .decrypt_in_place_detached(
            Nonce::from_slice(&iv),
            header.as_bytes(),
            &mut buf,
            Tag::from_slice(&tag),
        )
        .map_err(|_| TokenError::CannotDecrypt)?;
    Ok(buf)
}

/// `exp` (must be later than now) and `nbf` (not later than now plus a minute of clock skew),
/// when present, as NumericDate seconds (RFC 7519 §4.1.4–5).
fn check_times(claims: &Map<String, Value>, now_secs: i64) -> Result<(), TokenError> {
    let time = |k: &str| -> Result<Option<f64>, TokenError> {
        match claims.get(k) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Number(n)) => Ok(n.as_f64()),
            Some(_) => Err(TokenError::Malformed),
        }
    };
    let now = now_secs as f64;
    if time("exp")?.is_some_and(|exp| exp <= now)
        || time("nbf")?.is_some_and(|nbf| nbf > now + 60.0)
    {
        return Err(TokenError::Expired);
    }
    Ok(())
}

/// Why a `Teamtailor-Signature` header was refused (answered as the same 401 as a bad token).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignatureError {
    /// No `t=` or no `v1=`, or not numbers/hex.
    Malformed,
    /// `t` is more than [`SIGNATURE_TOLERANCE_SECS`] from now.
    Stale,
    /// No `v1` value matches.
    Mismatch,
}

impl SignatureError {
    /// A stable snake_case word for logs.
    pub fn as_str(self) -> &'static str {
        match self {
            SignatureError::Malformed => "signature_malformed",
            SignatureError::Stale => "signature_stale",
            SignatureError::Mismatch => "signature_mismatch",
        }
    }
}

/// Verify `Teamtailor-Signature: t=<unix>,v1=<hex>[,v0=…]`: `v1` = hex HMAC-SHA256 keyed with
/// the webhook secret over `"<t>.<partner-event.id>"` (it covers the event id, not the body;
/// Teamtailor's "Webhook signatures" doc). `now_secs` is the current unix time; `t` must be
/// within five minutes of it. Any `v1` matching (compared in constant time) is enough; other
/// schemes are ignored.
pub fn verify_signature(
    header: &str,
    event_id: &str,
    webhook_secret: &str,
    now_secs: i64,
) -> Result<(), SignatureError> {
    let mut t: Option<i64> = None;
    let mut v1: Vec<Vec<u8>> = Vec::new();
    for part in header.split(',').map(str::trim) {
        if let Some(ts) = part.strip_prefix("t=") {
            t = Some(ts.trim().parse().map_err(|_| SignatureError::Malformed)?);
        } else if let Some(hex) = part.strip_prefix("v1=") {
            v1.push(unhex(hex.trim()).ok_or(SignatureError::Malformed)?);
        }
    }
    let t = t.ok_or(SignatureError::Malformed)?;
    if v1.is_empty() {
        return Err(SignatureError::Malformed);
    }
    if now_secs.abs_diff(t) > SIGNATURE_TOLERANCE_SECS as u64 {
        return Err(SignatureError::Stale);
    }
    let mut mac = HmacSha256::new_from_slice(webhook_secret.as_bytes())
        .map_err(|_| SignatureError::Mismatch)?;
    mac.update(format!("{t}.{event_id}").as_bytes());
    let expected = mac.finalize().into_bytes();
    let matches = v1.iter().any(|sig| {
        sig.len() == expected.len() && subtle::ConstantTimeEq::ct_eq(&sig[..], &expected[..]).into()
    });
    matches.then_some(()).ok_or(SignatureError::Mismatch)
}

fn unhex(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) || s.len() > 128 {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok())
        .collect()
}

/// A partner result's `update-url`: `https://` on one of [`API_HOSTS`] exactly, default port,
/// no credentials (any target [`targets::check_target`] accepts when insecure targets are
/// allowed, for local tests).
pub fn check_update_url(raw: &str, allow_insecure: bool) -> Result<WebUrl, Refusal> {
    let url = targets::check_target(raw, allow_insecure)?;
    if allow_insecure {
        return Ok(url);
    }
    let on_api_host = matches!(url.host(), Some(Host::Domain(d)) if API_HOSTS.contains(&d.to_ascii_lowercase().as_str()));
    if url.scheme() == "https" && on_api_host && url.port().is_none() {
        Ok(url)
    } else {
        Err(format!(
            "must be an https URL on {} (Teamtailor's partner API)",
            API_HOSTS.join(", ")
        ))
    }
}

/// A validated order (`POST {BASE_URL}/webhook`, Teamtailor's "Webhooks" doc): what the
/// bridge needs from `partner-event`; everything else is read from the raw body when
/// normalizing.
#[derive(Debug, Clone, PartialEq)]
pub struct Order {
    /// `partner-event.id`, which the optional signature covers.
    pub event_id: Option<String>,
    /// `partner-event.partner-result.id`: the idempotency key of the order.
    pub result_id: String,
    /// `partner-event.partner-result.update-url`, checked by [`check_update_url`].
    pub update_url: String,
    /// `partner-event.webhook-data.test`: the package the recruiter picked in [`config`].
    pub test: String,
    pub email: String,
}

/// Parse a webhook body. Missing or invalid fields answer `422` naming the field in
/// Teamtailor's terms and saying what the recruiter can do about it.
pub fn parse_order(v: &Value, allow_insecure: bool) -> ApiResult<Order> {
    let event = v
        .get("partner-event")
        .filter(|e| e.is_object())
        .ok_or_else(|| ApiError::invalid_field("partner-event", "is required (an object)"))?;
    let result_id = optional(event, &["partner-result", "id"])
        .ok_or_else(|| ApiError::invalid_field("partner-event.partner-result.id", "is required"))?;
    let url = optional(event, &["partner-result", "update-url"]).ok_or_else(|| {
        ApiError::invalid_field("partner-event.partner-result.update-url", "is required")
    })?;
    let update_url = check_update_url(&url, allow_insecure)
        .map_err(|why| ApiError::invalid_field("partner-event.partner-result.update-url", &why))?
        .to_string();
    let email = optional(event, &["candidate", "email"]).ok_or_else(|| {
        ApiError::invalid_field(
            "partner-event.candidate.email",
            "is required: the candidate has no email address in Teamtailor, so the test cannot be sent; add one and run the trigger again",
        )
    })?;
    if !email.contains('@') || email.len() > 320 {
        return Err(ApiError::invalid_field(
            "partner-event.candidate.email",
            "must be an email address",
        ));
    }
    let test = optional(event, &["webhook-data", "test"]).ok_or_else(|| {
        ApiError::invalid_field(
            "partner-event.webhook-data.test",
            "is required: no test was picked for this trigger; edit the trigger in Teamtailor and pick a test",
        )
    })?;
    Ok(Order {
        event_id: optional(event, &["id"]),
        result_id,
        update_url,
        test,
        email,
    })
}

/// The normalized assessment for an order (README "Webhooks you receive"): the candidate,
/// the job (title, locations), the recruiter as hiring team, `triggered-by` as requester,
/// custom fields, and the rest (stage, tags, questions, company, form values) in `metaData`.
pub fn normalize(
    o: &Order,
    id: &str,
    tenant: &str,
    catalogue: Catalogue<'_>,
    origin: Value,
) -> CandidateAssessment {
    let event = origin.get("partner-event").cloned().unwrap_or(Value::Null);
    let cand = event.get("candidate").cloned().unwrap_or(Value::Null);
    let job_v = cand.get("job").filter(|j| j.is_object());
    let locations: Option<Vec<Location>> =
        cand.get("locations").and_then(Value::as_array).map(|a| {
            a.iter()
                .filter(|l| l.is_object())
                .take(100)
                .map(|l| Location {
                    name: optional(l, &["name"]),
                    address: optional(l, &["address"]),
                })
                .collect()
        });
    let job = job_v.map(|j| Job {
        id: optional(j, &["id"]),
        name: optional(j, &["title"]),
        requisition_id: None,
        url: None,
        locations: locations.clone(),
        departments: None,
    });
    let recruiter = cand
        .get("recruiter")
        .filter(|r| optional(r, &["name"]).is_some() || optional(r, &["email"]).is_some());
    let hiring_team = recruiter.map(|r| {
        let (first_name, last_name) = split_name(optional(r, &["name"]));
        vec![TeamMember {
            id: None,
            first_name,
            last_name,
            email: optional(r, &["email"]),
            role: TeamRole::Recruiter,
        }]
    });
    let requester = job_v
        .and_then(|j| j.get("triggered-by"))
        .filter(|t| t.is_object())
        .map(|t| Requester {
            id: optional(t, &["id"]),
            name: optional(t, &["name"]),
            email: optional(t, &["email"]),
        });
    let mut fields = std::collections::BTreeMap::new();
    custom_fields(cand.get("custom-fields"), "", &mut fields);
    custom_fields(
        job_v.and_then(|j| j.get("custom-fields")),
        "job.",
        &mut fields,
    );
    let resume = optional(&cand, &["resume", "url"]);
    let company = event.get("company").or_else(|| origin.get("company"));
    CandidateAssessment {
        id: id.to_string(),
        application_id: None,
        assessment_package: AssessmentPackage::from_catalogue(&o.test, catalogue),
        callback_url: Some(o.update_url.clone()),
        candidate: Candidate {
            emails: Some(vec![Email {
                email: o.email.clone(),
                kind: "PRIMARY".into(),
            }]),
            first_name: optional(&cand, &["first-name"]),
            last_name: optional(&cand, &["last-name"]),
            id: optional(&cand, &["id"]),
            links: resume.map(|u| vec![u]),
            location: None,
            phones: optional(&cand, &["phone"]).map(|p| {
                vec![Phone {
                    phone_number: p,
                    kind: "NOT_SPECIFIED".into(),
                }]
            }),
        },
        job_id: job.as_ref().and_then(|j| j.id.clone()),
        job: job.map(context),
        hiring_team: hiring_team.map(context),
        requester: requester.map(context),
        custom_fields: (!fields.is_empty()).then(|| context(fields)),
        enrichment: None,
        meta_data: compact(json!({
            "partnerEventId": o.event_id,
            "partnerResultId": o.result_id,
            "webhookData": event.get("webhook-data"),
            "candidateUuid": optional(&cand, &["uuid"]),
            "candidateTags": cand.get("tags").filter(|t| t.is_array()),
            "jobStage": job_v.and_then(|j| optional(j, &["stage"])),
            "jobStageId": job_v.and_then(|j| optional(j, &["stage-id"])),
            "jobTags": job_v.and_then(|j| j.get("tags")).filter(|t| t.is_array()),
            "triggerId": job_v.and_then(|j| optional(j, &["trigger-id"])),
            "questions": cand.get("questions").filter(|q| q.is_array()),
            "company": company.filter(|c| c.is_object()).and_then(|c| compact(json!({
                "uuid": optional(c, &["uuid"]),
                "name": optional(c, &["name"]),
                "url": optional(c, &["url"]),
            }))),
        })),
        origin_data: origin,
        status: Status::NotSpecified,
        provider: Provider::of(&SPEC),
        tenant_id: tenant.to_string(),
    }
}

/// `"Edison Kuhn"` → (`Edison`, `Kuhn`): split at the first space; one word is a first name.
fn split_name(name: Option<String>) -> (Option<String>, Option<String>) {
    match name {
        None => (None, None),
        Some(n) => match n.split_once(char::is_whitespace) {
            Some((first, last)) if !last.trim().is_empty() => {
                (Some(first.to_string()), Some(last.trim().to_string()))
            }
            _ => (Some(n), None),
        },
    }
}

/// Teamtailor's `custom-fields: [{"<key>": {"value", "type"}}, …]` into `customFields`
/// (keys prefixed with `prefix`); at most 200, entries of another shape skipped.
fn custom_fields(
    list: Option<&Value>,
    prefix: &str,
    out: &mut std::collections::BTreeMap<String, CustomField>,
) {
    let Some(items) = list.and_then(Value::as_array) else {
        return;
    };
    for item in items.iter().filter_map(Value::as_object) {
        for (key, field) in item {
            if out.len() >= 200 || key.len() > 200 {
                return;
            }
            if let Some(f) = field.as_object().filter(|f| f.contains_key("value")) {
                out.insert(
                    format!("{prefix}{key}"),
                    CustomField {
                        label: None,
                        kind: f.get("type").and_then(Value::as_str).map(String::from),
                        value: f["value"].clone(),
                    },
                );
            }
        }
    }
}

/// The `config` answer (Teamtailor's "Webhook config" doc): a required `select` field `test`
/// listing the packages, and `assessment-criteria` when packages carry criteria (each id once,
/// first label wins). No packages: the select comes with an `error` field saying so.
pub fn config(packages: &[Package]) -> Value {
    let options: Vec<Value> = packages
        .iter()
        .map(|p| json!({ "id": p.id, "label": p.name }))
        .collect();
    let mut fields = vec![json!({
        "id": "test",
        "label": "Test",
        "placeholder": "Select a test",
        "type": "select",
        "required": true,
        "options": options,
    })];
    if packages.is_empty() {
        fields.push(json!({
            "type": "error",
            "message": "No tests are available for this account yet. Ask your assessment provider to publish them, then set up the trigger again.",
        }));
    }
    let mut config = json!({ "fields": fields });
    let mut seen = std::collections::HashSet::new();
    let criteria: Vec<Value> = packages
        .iter()
        .flat_map(|p| p.criteria.iter())
        .filter(|c| seen.insert(c.id.clone()))
        .map(|c| json!({ "id": c.id, "label": c.label }))
        .collect();
    if !criteria.is_empty() {
        config["assessment-criteria"] = Value::Array(criteria);
    }
    json!({ "config": config })
}

/// The dynamic activation form (Teamtailor's "Webhook activation config" doc): an infobox and
/// one required text field `key` for the customer's `tt_…` key, validated at
/// [`VALIDATE_ENDPOINT`]. `validateEndpoint` is given both beside and inside `config`, the two
/// places Teamtailor's examples show it.
pub fn activation_form() -> Value {
    json!({
        "config": {
            "fields": [
                {
                    "type": "infobox",
                    "icon": "info",
                    "content": "Paste the Teamtailor key your assessment provider issued for your account. It starts with tt_ and is shown to them only once: if it is lost, ask for a new one.",
                },
                {
                    "id": KEY_FIELD,
                    "type": "text",
                    "label": "Key",
                    "placeholder": "tt_…",
                    "required": true,
                    "description": "The key your assessment provider issued for Teamtailor",
                },
            ],
            "validateEndpoint": VALIDATE_ENDPOINT,
        },
        "validateEndpoint": VALIDATE_ENDPOINT,
    })
}

/// The validate endpoint's answer for a valid key (`200`).
pub fn activation_valid() -> Value {
    json!({ "valid": true })
}

/// A result's partner-result status (README "Results back to the ATS"): progress → `pending` (`sent` before the
/// candidate starts), COMPLETED → `completed`, REJECTED/EXPIRED/CANCELLED → `failed`.
pub fn result_status(s: Status) -> &'static str {
    match s {
        Status::NotSpecified | Status::Pending => "sent",
        Status::Started | Status::InProgress => "pending",
        Status::Completed => "completed",
        Status::Rejected | Status::Expired | Status::Cancelled => "failed",
    }
}

/// `score` on Teamtailor's 0–100 scale: `score / max_score × 100` when `max_score` is positive,
/// else `score` itself; clamped to 0–100 and rounded to a whole number.
pub fn scaled_score(score: Option<f64>, max_score: Option<f64>) -> Option<f64> {
    let s = score?;
    let scaled = match max_score {
        Some(m) if m > 0.0 => s / m * 100.0,
        _ => s,
    };
    Some(scaled.clamp(0.0, 100.0).round())
}

/// `metadata` as partner-result `details`, which Teamtailor accepts at most two levels deep:
/// values one level below the top that are themselves objects or arrays become JSON text.
pub fn details(metadata: &Map<String, Value>) -> Map<String, Value> {
    let flat = |v: &Value| match v {
        Value::Object(_) | Value::Array(_) => Value::String(v.to_string()),
        other => other.clone(),
    };
    metadata
        .iter()
        .map(|(k, v)| {
            let v = match v {
                Value::Object(o) => {
                    Value::Object(o.iter().map(|(k2, v2)| (k2.clone(), flat(v2))).collect())
                }
                Value::Array(a) => Value::Array(a.iter().map(flat).collect()),
                other => other.clone(),
            };
            (k.clone(), v)
        })
        .collect()
}

/// The `PUT {update-url}` body for a result (Teamtailor's "Update a result" doc, JSON:API):
/// `status`, `summary` (for a failed result: the reason, else the status in words, then the
/// vendor's summary), `url` = `result_url`, `assessment{score 0–100, duration seconds}`,
/// `details` from `metadata`. Keys with nothing to say are left out (a partial update).
pub fn result_body(result_id: &str, r: &ResultUpdate) -> Value {
    let mut attrs = Map::new();
    let status = result_status(r.status);
    attrs.insert("status".into(), json!(status));
    let summary = if status == "failed" {
        let word = match r.status {
            Status::Rejected => "Rejected",
            Status::Expired => "Expired",
            _ => "Cancelled",
        };
        let head = match &r.reason {
            Some(reason) => format!("{word}: {reason}"),
            None => word.to_string(),
        };
        Some(match &r.summary {
            Some(s) => format!("{head}. {s}"),
            None => head,
        })
    } else {
        r.summary.clone()
    };
    if let Some(s) = summary {
        attrs.insert("summary".into(), json!(s));
    }
    if let Some(u) = &r.result_url {
        attrs.insert("url".into(), json!(u));
    }
    let mut assessment = Map::new();
    if let Some(s) = scaled_score(r.score, r.max_score) {
        assessment.insert("score".into(), json!(s as i64));
    }
    if let (Some(a), Some(b)) = (
        r.started_at.as_deref().and_then(parse_rfc3339),
        r.completed_at.as_deref().and_then(parse_rfc3339),
    ) {
        if b >= a {
            assessment.insert("duration".into(), json!((b - a) / 1000));
        }
    }
    if !assessment.is_empty() {
        attrs.insert("assessment".into(), Value::Object(assessment));
    }
    if !r.metadata.is_empty() {
        attrs.insert("details".into(), Value::Object(details(&r.metadata)));
    }
    if !r.attachments.is_empty() {
        attrs.insert("attachments".into(), json!(r.attachments));
    }
    json!({ "data": { "type": "partner-results", "id": result_id, "attributes": attrs } })
}

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
                "at most 2 levels deep (deeper values sent as JSON text)",
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
        // Partial updates are allowed at any time (Teamtailor partner-results).
        final_result_changeable: true,
    },
    setup: &SETUP,
    credential_check: super::setup::no_credential_check,
    fixtures: &[
        Fixture {
            operation: "webhook",
            query: "",
            body: include_str!("../../fixtures/teamtailor/webhook.json"),
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

/// `webhook`: the optional `Teamtailor-Signature` is checked first (a bad one is the same 401
/// as a bad token), then the order.
fn parse_webhook(req: &EdgeRequest) -> ApiResult<super::Order> {
    let v = req.json()?;
    if let (Some(sig), Some(secret)) = (
        req.header(SIGNATURE_HEADER),
        req.settings.get(WEBHOOK_SECRET),
    ) {
        let event_id = optional(&v, &["partner-event", "id"]).unwrap_or_default();
        if let Err(why) = verify_signature(sig, &event_id, secret, unix_now_secs()) {
            log_refusal("teamtailor signature refused", why.as_str());
            return Err(ApiError::unauthorized_edge(SPEC.edge_auth));
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

/// What Teamtailor's answer to a partner-result `PUT` means: 2xx accepted, 429/5xx transient,
/// anything else refused for good; a refusal carries the first JSON:API error's `code` and
/// `detail` (or `title`) when Teamtailor sent `{"errors":[…]}`, else the HTTP status and body.
pub fn result_answer(status: u16, body: &str, _complete: bool) -> ProviderAnswer {
    let plain = answer_from_status(status, body);
    let error = serde_json::from_str::<Value>(body)
        .ok()
        .and_then(|v| v.get("errors")?.get(0).cloned())
        .filter(Value::is_object);
    let Some(e) = error else {
        return plain;
    };
    let fault = |_| ProviderFault {
        code: optional(&e, &["code"]),
        message: match optional(&e, &["detail"]).or_else(|| optional(&e, &["title"])) {
            Some(m) => format!("HTTP {status}: {m}"),
            None => format!("HTTP {status}: {e}"),
        },
        request_id: None,
    };
    match plain {
        ProviderAnswer::Transient(f) => ProviderAnswer::Transient(fault(f)),
        ProviderAnswer::Refused(f) => ProviderAnswer::Refused(fault(f)),
        accepted => accepted,
    }
}

/// Every accepted result becomes one `PUT {update-url}`; refused (422) when the deployment has
/// no partner API key or the stored update-url is not a Teamtailor API URL.
fn write_back(w: &WriteBack) -> ApiResult<Vec<OutboundCall>> {
    if authorization(w.credentials).is_none() {
        return Err(ApiError::new(
            422,
            "teamtailor_partner_api_key_missing",
            "TEAMTAILOR_PARTNER_API_KEY is not set on the deployment, so results cannot be written to Teamtailor.",
        ));
    }
    let update_url = w.record.callback_url.as_deref().unwrap_or_default();
    let url = check_update_url(update_url, w.allow_insecure)
        .map_err(|why| ApiError::invalid_field("callbackUrl", &why))?;
    let result_id = optional(
        &w.record.origin_data,
        &["partner-event", "partner-result", "id"],
    )
    .unwrap_or_default();
    Ok(vec![OutboundCall {
        label: "Teamtailor partner-result PUT",
        method: worker::Method::Put,
        url: url.to_string(),
        body: Some(result_body(&result_id, w.result).to_string()),
    }])
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::model::Criterion;
    use aes_gcm::aead::Aead;

    pub const PARTNER_KEY: &str = "tt-partner-api-key-for-tests";
    pub const HOOK_SECRET: &str = "tt-webhook-secret-for-tests";

    fn b64(b: &[u8]) -> String {
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b)
    }

    /// A compact HS256 JWS over `claims`.
    pub fn jws(claims: &Value, key: &str) -> String {
        let h = b64(br#"{"alg":"HS256","typ":"JWT"}"#);
        let p = b64(claims.to_string().as_bytes());
        let mut mac = HmacSha256::new_from_slice(key.as_bytes()).unwrap();
        mac.update(format!("{h}.{p}").as_bytes());
        format!("{h}.{p}.{}", b64(&mac.finalize().into_bytes()))
    }

    /// A compact `dir`/`A256GCM` JWE of `plaintext`.
    pub fn jwe(plaintext: &[u8], secret: &str) -> String {
        let h = b64(br#"{"alg":"dir","enc":"A256GCM"}"#);
        let iv = [7u8; 12];
        let cipher = <Aes256Gcm as aes_gcm::KeyInit>::new((&jwe_key(secret)).into());
        let sealed = cipher
            .encrypt(
                Nonce::from_slice(&iv),
                aes_gcm::aead::Payload {
                    msg: plaintext,
                    aad: h.as_bytes(),
                },
            )
            .unwrap();
        let (ct, tag) = sealed.split_at(sealed.len() - 16);
        format!("{h}..{}.{}.{}", b64(&iv), b64(ct), b64(tag))
    }

    const NO_CATALOGUE: Catalogue<'static> = Catalogue {
        packages: None,
        default_kind: crate::model::OrderKind::Assessment,
    };

    const SECRETS: TokenSecrets<'static> = TokenSecrets {
        partner_api_key: Some(PARTNER_KEY),
        webhook_secret: Some(HOOK_SECRET),
    };
    const KEY: &str = "tt_acme_0123456789abcdefghijklmnopqrstuvwxyzABCDEF";
    const NOW: i64 = 1_793_527_200;

    #[test]
    fn jws_tokens_give_the_key() {
        let t = jws(&json!({"key": KEY, "iat": NOW - 10}), PARTNER_KEY);
        assert_eq!(provider_key(&t, SECRETS, NOW).as_deref(), Ok(KEY));
        // Padding some encoders add, and surrounding space, are tolerated.
        assert_eq!(
            provider_key(&format!(" {t} "), SECRETS, NOW).as_deref(),
            Ok(KEY)
        );
    }

    #[test]
    fn jwe_tokens_give_the_key() {
        let t = jwe(json!({"key": KEY}).to_string().as_bytes(), HOOK_SECRET);
        assert_eq!(t.split('.').count(), 5);
        assert_eq!(provider_key(&t, SECRETS, NOW).as_deref(), Ok(KEY));
        // A nested JWT inside the JWE must verify with the partner key.
        let nested = jwe(
            jws(&json!({"key": KEY}), PARTNER_KEY).as_bytes(),
            HOOK_SECRET,
        );
        assert_eq!(provider_key(&nested, SECRETS, NOW).as_deref(), Ok(KEY));
        let forged = jwe(jws(&json!({"key": KEY}), "other").as_bytes(), HOOK_SECRET);
        assert_eq!(
            provider_key(&forged, SECRETS, NOW),
            Err(TokenError::BadSignature)
        );
    }

    #[test]
    fn the_jwe_key_is_the_ascii_of_half_the_hex_digest() {
        // sha256("abc") = ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad
        assert_eq!(&jwe_key("abc"), b"ba7816bf8f01cfea414140de5dae2223");
    }

    #[test]
    fn anything_else_is_refused() {
        let good = jws(&json!({"key": KEY}), PARTNER_KEY);
        let (h, rest) = good.split_once('.').unwrap();
        let none_alg = format!("{}.{}", b64(br#"{"alg":"none"}"#), rest);
        let hs512 = format!("{}.{}", b64(br#"{"alg":"HS512"}"#), rest);
        let crit = format!("{}.{}", b64(br#"{"alg":"HS256","crit":["x"]}"#), rest);
        let tampered = good.replace(h, &b64(br#"{"alg":"HS256" }"#));
        let cases: Vec<(String, TokenError)> = vec![
            ("".into(), TokenError::Malformed),
            ("tt_plain_key".into(), TokenError::Malformed),
            ("a.b".into(), TokenError::Malformed),
            ("a.b.c.d".into(), TokenError::Malformed),
            ("!!.??.**".into(), TokenError::Malformed),
            (none_alg, TokenError::Malformed),
            (hs512, TokenError::Malformed),
            (crit, TokenError::Malformed),
            (tampered, TokenError::BadSignature),
            (
                jws(&json!({"key": KEY}), "wrong-key"),
                TokenError::BadSignature,
            ),
            (
                jws(&json!({"key": KEY, "exp": NOW - 1}), PARTNER_KEY),
                TokenError::Expired,
            ),
            (
                jws(&json!({"key": KEY, "nbf": NOW + 3600}), PARTNER_KEY),
                TokenError::Expired,
            ),
            (
                jws(&json!({"key": KEY, "exp": "tomorrow"}), PARTNER_KEY),
                TokenError::Malformed,
            ),
            (jws(&json!({"token": KEY}), PARTNER_KEY), TokenError::NoKey),
            (jws(&json!({"key": 5}), PARTNER_KEY), TokenError::NoKey),
            (
                jws(&json!({"key": "gh_someone_elses"}), PARTNER_KEY),
                TokenError::NoKey,
            ),
            (
                jws(
                    &json!({"key": format!("tt_{}", "a".repeat(200))}),
                    PARTNER_KEY,
                ),
                TokenError::NoKey,
            ),
            (jws(&json!([KEY]), PARTNER_KEY), TokenError::Malformed),
            (
                jwe(json!({"key": KEY}).to_string().as_bytes(), "wrong-secret"),
                TokenError::CannotDecrypt,
            ),
            ("x".repeat(MAX_TOKEN_LEN + 1), TokenError::Malformed),
        ];
        for (token, why) in cases {
            assert_eq!(provider_key(&token, SECRETS, NOW), Err(why), "{token}");
        }
        // A JWE whose header asks for something else, or carries an encrypted key.
        let t = jwe(json!({"key": KEY}).to_string().as_bytes(), HOOK_SECRET);
        let p: Vec<&str> = t.split('.').collect();
        let gcm128 = format!(
            "{}..{}.{}.{}",
            b64(br#"{"alg":"dir","enc":"A128GCM"}"#),
            p[2],
            p[3],
            p[4]
        );
        let with_key = format!("{}.AAAA.{}.{}.{}", p[0], p[2], p[3], p[4]);
        let short_tag = format!("{}..{}.{}.AAAA", p[0], p[2], p[3]);
        let flipped = format!("{}..{}.{}.{}", p[0], p[2], p[3].replace('A', "B"), p[4]);
        for bad in [gcm128, with_key, short_tag] {
            assert_eq!(
                provider_key(&bad, SECRETS, NOW),
                Err(TokenError::Malformed),
                "{bad}"
            );
        }
        if flipped != t {
            assert_eq!(
                provider_key(&flipped, SECRETS, NOW),
                Err(TokenError::CannotDecrypt)
            );
        }
        // A secret that is not configured opens nothing.
        let none = TokenSecrets::default();
        assert_eq!(
            provider_key(&good, none, NOW),
            Err(TokenError::NotConfigured)
        );
        assert_eq!(provider_key(&t, none, NOW), Err(TokenError::NotConfigured));
    }

    fn sign(t: i64, event_id: &str, secret: &str) -> String {
        let mut mac = HmacSha256::new_from_slice(secret.as_bytes()).unwrap();
        mac.update(format!("{t}.{event_id}").as_bytes());
        crate::secrets::hex(&mac.finalize().into_bytes())
    }

    #[test]
    fn signatures_cover_the_event_id_within_five_minutes() {
        let ev = "f0e1d2c3-0000-4000-8000-000000000001";
        let v1 = sign(NOW, ev, HOOK_SECRET);
        let ok = format!("t={NOW},v1={v1}");
        assert_eq!(verify_signature(&ok, ev, HOOK_SECRET, NOW), Ok(()));
        assert_eq!(verify_signature(&ok, ev, HOOK_SECRET, NOW + 300), Ok(()));
        // The documented layout: line breaks after commas, an older scheme beside it.
        let spaced = format!("t={NOW},\n  v1={v1},\n  v0=00ff");
        assert_eq!(
            verify_signature(&spaced, ev, HOOK_SECRET, NOW - 299),
            Ok(())
        );
        assert_eq!(
            verify_signature(&ok, ev, HOOK_SECRET, NOW + 301),
            Err(SignatureError::Stale)
        );
        assert_eq!(
            verify_signature(&ok, "another-event", HOOK_SECRET, NOW),
            Err(SignatureError::Mismatch)
        );
        assert_eq!(
            verify_signature(&ok, ev, "another-secret", NOW),
            Err(SignatureError::Mismatch)
        );
        let only_v0 = format!("t={NOW},v0={v1}");
        for bad in [only_v0.as_str(), "", "v1=00", "t=abc,v1=00", "t=1,v1=zz"] {
            assert_eq!(
                verify_signature(bad, ev, HOOK_SECRET, NOW),
                Err(SignatureError::Malformed),
                "{bad}"
            );
        }
    }

    #[test]
    fn update_urls_only_on_teamtailor_api_hosts() {
        for ok in [
            "https://api.teamtailor.com/partner/v1/partner-results/1a2b",
            "https://api.na.teamtailor.com/partner/v1/partner-results/1a2b",
            "https://api.au.teamtailor.com/partner/v1/partner-results/1a2b",
            "https://API.Teamtailor.com/partner/v1/partner-results/1a2b",
        ] {
            assert!(check_update_url(ok, false).is_ok(), "{ok}");
        }
        for bad in [
            "http://api.teamtailor.com/partner/v1/partner-results/1",
            "https://api.teamtailor.com:8443/partner/v1/partner-results/1",
            "https://user:pw@api.teamtailor.com/partner/v1/partner-results/1",
            "https://api.teamtailor.com@evil.example/x",
            "https://api.teamtailor.com.evil.example/x",
            "https://evil.example/api.teamtailor.com",
            "https://teamtailor.com/partner/v1/partner-results/1",
            "https://app.teamtailor.com/partner/v1/partner-results/1",
            "https://api.teamtailor.com./partner/v1/partner-results/1",
            "https://127.0.0.1/partner/v1/partner-results/1",
            "not a url",
        ] {
            assert!(check_update_url(bad, false).is_err(), "{bad}");
        }
        assert!(check_update_url("http://127.0.0.1:9/partner-results/1", true).is_ok());
        assert!(check_update_url("ftp://127.0.0.1/x", true).is_err());
    }

    pub fn order_json() -> Value {
        serde_json::from_str(include_str!("../../fixtures/teamtailor/webhook.json")).unwrap()
    }

    #[test]
    fn parses_and_normalizes_the_fixture_order() {
        let v = order_json();
        let o = parse_order(&v, false).unwrap();
        assert_eq!(o.test, "pkg_backend");
        assert_eq!(o.email, "maja.lind@example.com");
        let cat = vec![Package {
            id: "pkg_backend".into(),
            name: "Backend take-home".into(),
            description: None,
            package_type: Some("CODE".into()),
            kind: None,
            criteria: vec![],
        }];
        let catalogue = Catalogue {
            packages: Some(&cat),
            default_kind: crate::model::OrderKind::Assessment,
        };
        let a = normalize(&o, "ats_ass_1", "acme", catalogue, v.clone());
        let out = serde_json::to_value(&a).unwrap();
        let expected: Value = serde_json::from_str(include_str!(
            "../../fixtures/teamtailor/record.new.expected.json"
        ))
        .unwrap();
        let mut expected = expected["eventData"]["candidateAssessment"].clone();
        expected["id"] = json!("ats_ass_1");
        expected["tenantId"] = json!("acme");
        expected["callbackUrl"] = v["partner-event"]["partner-result"]["update-url"].clone();
        expected["metaData"]["partnerEventId"] = v["partner-event"]["id"].clone();
        expected["metaData"]["partnerResultId"] =
            v["partner-event"]["partner-result"]["id"].clone();
        expected["originData"] = v.clone();
        expected["status"] = json!("NOT_SPECIFIED");
        assert_eq!(out, expected);
    }

    #[test]
    fn order_refusals_name_the_field() {
        let cases: Vec<(&[&str], &str)> = vec![
            (&["partner-event"], "`partner-event`"),
            (
                &["partner-event", "partner-result", "id"],
                "partner-result.id",
            ),
            (
                &["partner-event", "partner-result", "update-url"],
                "update-url",
            ),
            (&["partner-event", "candidate", "email"], "candidate.email"),
            (
                &["partner-event", "webhook-data", "test"],
                "webhook-data.test",
            ),
        ];
        for (path, field) in cases {
            let mut v = order_json();
            let (last, parents) = path.split_last().unwrap();
            let mut cur = &mut v;
            for p in parents {
                cur = cur.get_mut(*p).unwrap();
            }
            cur.as_object_mut().unwrap().remove(*last);
            let e = parse_order(&v, false).unwrap_err();
            assert_eq!(e.status, 422, "{path:?}");
            assert!(e.message.contains(field), "{path:?}: {}", e.message);
        }
        let mut v = order_json();
        v["partner-event"]["partner-result"]["update-url"] = json!("https://evil.example/x");
        assert!(parse_order(&v, false)
            .unwrap_err()
            .message
            .contains("api.teamtailor.com"));
        v["partner-event"]["candidate"]["email"] = json!("nobody");
        assert_eq!(parse_order(&v, true).unwrap_err().status, 422);
        assert_eq!(parse_order(&json!([1]), false).unwrap_err().status, 422);
        // A numeric option id is a test id too.
        let mut v = order_json();
        v["partner-event"]["webhook-data"]["test"] = json!(3);
        assert_eq!(parse_order(&v, false).unwrap().test, "3");
    }

    #[test]
    fn sparse_orders_leave_context_null() {
        let v = json!({"partner-event": {"webhook-data": {"test": "p"}, "partner-result": {"id": "r1", "update-url": "https://api.teamtailor.com/partner/v1/partner-results/r1"}, "candidate": {"email": "a@b.c", "recruiter": {"name": null}, "custom-fields": [{"x": 1}, "y"]}}});
        let o = parse_order(&v, false).unwrap();
        let out = serde_json::to_value(normalize(&o, "i", "t", NO_CATALOGUE, v)).unwrap();
        for k in [
            "job",
            "jobId",
            "hiringTeam",
            "requester",
            "customFields",
            "enrichment",
        ] {
            assert!(out[k].is_null(), "{k}: {}", out[k]);
        }
        assert_eq!(out["assessmentPackage"]["id"], "p");
        assert!(out["assessmentPackage"]["name"].is_null());
        assert_eq!(split_name(Some("Cher".into())), (Some("Cher".into()), None));
    }

    fn edge_request<'a>(
        query: Option<&'a str>,
        body: &'a [u8],
        headers: &'a [(String, String)],
        settings: &'a super::super::Settings,
    ) -> EdgeRequest<'a> {
        EdgeRequest {
            tenant: "acme",
            body,
            query,
            headers,
            allow_insecure: false,
            settings,
        }
    }

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

    #[test]
    fn the_webhook_checks_a_signature_when_one_is_sent() {
        let body = include_bytes!("../../fixtures/teamtailor/webhook.json");
        let event_id = order_json()["partner-event"]["id"]
            .as_str()
            .unwrap()
            .to_string();
        let mut settings = super::super::Settings::default();
        settings
            .0
            .insert(WEBHOOK_SECRET.into(), "hook-secret".into());
        let now = unix_now_secs();
        let good = vec![(
            SIGNATURE_HEADER.to_string(),
            format!("t={now},v1={}", sign(now, &event_id, "hook-secret")),
        )];
        let order = parse_webhook(&edge_request(None, body, &good, &settings)).unwrap();
        assert_eq!(
            order.idempotency_key,
            "c4f8a2d6-1e3b-4a57-9c80-6d2e5f1a7b93"
        );
        let bad = vec![(
            SIGNATURE_HEADER.to_string(),
            format!("t={now},v1={}", sign(now, &event_id, "other")),
        )];
        let e = parse_webhook(&edge_request(None, body, &bad, &settings))
            .err()
            .unwrap();
        assert_eq!(e.status, 401);
        // No signature: the provider key alone authenticates (signatures are optional).
        assert!(parse_webhook(&edge_request(None, body, &[], &settings)).is_ok());
        let e = parse_webhook(&edge_request(None, b"{nope", &[], &settings))
            .err()
            .unwrap();
        assert_eq!(e.status, 400);
    }

    #[test]
    fn config_lists_packages_and_criteria() {
        let pkgs = vec![
            Package {
                id: "p1".into(),
                name: "Backend".into(),
                description: None,
                package_type: None,
                kind: None,
                criteria: vec![
                    Criterion {
                        id: "c-sql".into(),
                        label: "SQL".into(),
                    },
                    Criterion {
                        id: "c-api".into(),
                        label: "API design".into(),
                    },
                ],
            },
            Package {
                id: "p2".into(),
                name: "Frontend".into(),
                description: None,
                package_type: None,
                kind: None,
                criteria: vec![Criterion {
                    id: "c-sql".into(),
                    label: "SQL again".into(),
                }],
            },
        ];
        let c = config(&pkgs);
        let f = &c["config"]["fields"][0];
        assert_eq!(f["id"], "test");
        assert_eq!(f["type"], "select");
        assert_eq!(
            f["options"],
            json!([{"id": "p1", "label": "Backend"}, {"id": "p2", "label": "Frontend"}])
        );
        assert_eq!(
            c["config"]["assessment-criteria"],
            json!([{"id": "c-sql", "label": "SQL"}, {"id": "c-api", "label": "API design"}])
        );
        let mut plain = pkgs.clone();
        plain.iter_mut().for_each(|p| p.criteria.clear());
        assert!(config(&plain)["config"]
            .get("assessment-criteria")
            .is_none());
        let empty = config(&[]);
        assert_eq!(empty["config"]["fields"][0]["options"], json!([]));
        assert_eq!(empty["config"]["fields"][1]["type"], "error");
    }

    #[test]
    fn activation_form_has_one_key_field() {
        let f = activation_form();
        let inputs: Vec<&Value> = f["config"]["fields"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|x| x.get("id").is_some())
            .collect();
        assert_eq!(inputs.len(), 1);
        assert_eq!(inputs[0]["id"], "key");
        assert_eq!(inputs[0]["type"], "text");
        assert_eq!(f["config"]["fields"][0]["type"], "infobox");
        assert_eq!(f["validateEndpoint"], VALIDATE_ENDPOINT);
    }

    fn result(status: Status) -> ResultUpdate {
        ResultUpdate {
            status,
            score: None,
            max_score: None,
            result_url: None,
            started_at: None,
            completed_at: None,
            summary: None,
            metadata: Map::new(),
            reason: None,
            attachments: vec![],
        }
    }

    #[test]
    fn result_bodies() {
        let done = ResultUpdate {
            score: Some(43.0),
            max_score: Some(50.0),
            result_url: Some("https://vendor.example/r/1".into()),
            started_at: Some("2026-11-01T10:00:00Z".into()),
            completed_at: Some("2026-11-01T10:32:14Z".into()),
            summary: Some("Strong".into()),
            metadata: json!({"Plagiarism": false, "Sections": {"SQL": 9, "Deep": {"a": 1}}, "Tags": ["x", ["y"]]})
                .as_object()
                .unwrap()
                .clone(),
            ..result(Status::Completed)
        };
        let b = result_body("rid-1", &done);
        assert_eq!(
            b,
            json!({"data": {"type": "partner-results", "id": "rid-1", "attributes": {
                "status": "completed",
                "summary": "Strong",
                "url": "https://vendor.example/r/1",
                "assessment": {"score": 86, "duration": 1934},
                "details": {"Plagiarism": false, "Sections": {"SQL": 9, "Deep": "{\"a\":1}"}, "Tags": ["x", "[\"y\"]"]},
            }}})
        );
        let started = result_body("r", &result(Status::Started));
        assert_eq!(started["data"]["attributes"], json!({"status": "pending"}));
        assert_eq!(
            result_body("r", &result(Status::InProgress))["data"]["attributes"]["status"],
            "pending"
        );
        assert_eq!(
            result_body("r", &result(Status::Pending))["data"]["attributes"]["status"],
            "sent"
        );
        let expired = ResultUpdate {
            reason: Some("The candidate did not start within 7 days".into()),
            ..result(Status::Expired)
        };
        assert_eq!(
            result_body("r", &expired)["data"]["attributes"],
            json!({"status": "failed", "summary": "Expired: The candidate did not start within 7 days"})
        );
        let rejected = ResultUpdate {
            summary: Some("Below threshold".into()),
            ..result(Status::Rejected)
        };
        assert_eq!(
            result_body("r", &rejected)["data"]["attributes"]["summary"],
            "Rejected. Below threshold"
        );
        assert_eq!(
            result_body("r", &result(Status::Cancelled))["data"]["attributes"]["summary"],
            "Cancelled"
        );
    }

    #[test]
    fn teamtailor_answers() {
        assert_eq!(
            result_answer(200, r#"{"data":{"type":"partner-results"}}"#, true),
            ProviderAnswer::Accepted { warnings: vec![] }
        );
        let body = r#"{"errors":[{"title":"Invalid","detail":"score must be between 0 and 100","code":"100","status":"422"}]}"#;
        match result_answer(422, body, true) {
            ProviderAnswer::Refused(f) => {
                assert_eq!(f.message, "HTTP 422: score must be between 0 and 100");
                assert_eq!(f.code.as_deref(), Some("100"));
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            result_answer(503, "busy", true),
            ProviderAnswer::Transient(_)
        ));
        assert!(matches!(
            result_answer(429, r#"{"errors":[{"title":"Slow down"}]}"#, true),
            ProviderAnswer::Transient(f) if f.message == "HTTP 429: Slow down"
        ));
        assert!(matches!(
            result_answer(404, "<html>", false),
            ProviderAnswer::Refused(f) if f.message.starts_with("HTTP 404")
        ));
        assert!(matches!(
            result_answer(301, "", true),
            ProviderAnswer::Refused(_)
        ));
    }

    #[test]
    fn scores_scale_to_0_100() {
        assert_eq!(scaled_score(Some(87.5), Some(100.0)), Some(88.0));
        assert_eq!(scaled_score(Some(7.0), Some(10.0)), Some(70.0));
        assert_eq!(scaled_score(Some(75.0), None), Some(75.0));
        assert_eq!(scaled_score(Some(120.0), Some(100.0)), Some(100.0));
        assert_eq!(scaled_score(Some(-3.0), None), Some(0.0));
        assert_eq!(scaled_score(Some(5.0), Some(0.0)), Some(5.0));
        assert_eq!(scaled_score(None, Some(10.0)), None);
    }

    #[test]
    fn write_back_puts_to_the_update_url_with_the_partner_key() {
        let v = order_json();
        let o = parse_order(&v, false).unwrap();
        let record = normalize(&o, "ats_ass_1", "acme", NO_CATALOGUE, v);
        let done: ResultUpdate = crate::model::parse_result(
            &serde_json::from_str(include_str!("../../fixtures/result.completed.json")).unwrap(),
        )
        .unwrap();
        let mut creds = CredentialSource::default();
        let w = |creds: &CredentialSource, record: &CandidateAssessment| {
            write_back(&WriteBack {
                assessment_id: "ats_ass_1",
                record,
                result: &done,
                update_ts: 1,
                credentials: creds,
                allow_insecure: false,
            })
        };
        let e = w(&creds, &record).unwrap_err();
        assert_eq!(
            (e.status, e.code),
            (422, "teamtailor_partner_api_key_missing")
        );
        creds
            .settings
            .0
            .insert(PARTNER_API_KEY.into(), "partner-key".into());
        assert_eq!(authorization(&creds).as_deref(), Some("Bearer partner-key"));
        let calls = w(&creds, &record).unwrap();
        assert_eq!(calls.len(), 1);
        assert_eq!(calls[0].method, worker::Method::Put);
        assert_eq!(calls[0].url, o.update_url);
        let body: Value = serde_json::from_str(calls[0].body.as_deref().unwrap()).unwrap();
        let expected: Value = serde_json::from_str(
            &include_str!("../../fixtures/teamtailor/partner-result.completed.expected.json")
                .replace("{{resultId}}", &o.result_id),
        )
        .unwrap();
        assert_eq!(body, expected);
        let mut elsewhere = record.clone();
        elsewhere.callback_url = Some("https://evil.example/partner-results/1".into());
        assert_eq!(w(&creds, &elsewhere).unwrap_err().status, 422);
        assert!(SPEC.call_headers.contains(&("x-api-version", "20180828")));
        assert!(SPEC
            .call_headers
            .contains(&("content-type", "application/vnd.api+json")));
    }
}
