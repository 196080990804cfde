//! Retention and erasure of candidates' personal data (README "Personal data").
//!
//! The rules — what an erasure request names, what of a record is personal data, when a
//! final assessment's data is due for purging, which attempts of an event are kept — are pure
//! functions here, unit-tested on the host. The tenant object (`Tenant::erase`,
//! `Tenant::retention_pass`) only loads rows, calls these, and stores what they return.
//!
//! An erased record keeps its ids, status, timestamps and result (so `test_status` and the
//! admin API still answer) and gains `personalDataErased: {"at", "reason"}`. An erased event
//! keeps its id, type, record id, state history and attempt count; its body becomes
//! [`ERASED_BODY`], and it can never be sent again (replay answers `409 erased`).

mod ats_text;
mod retention;
mod staff;

pub use ats_text::*;
pub use retention::*;
pub use staff::*;

use serde_json::{json, Value};

use crate::error::{ApiError, ApiResult};
use crate::model::rfc3339;

/// The body an erased or purged event keeps (JSON, so readers of `body` still parse it).
pub const ERASED_BODY: &str = r#"{"erased":true}"#;

/// The longest email an erasure request may name (RFC 5321's path limit).
const MAX_EMAIL_LEN: usize = 254;

/// Why personal data was removed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reason {
    /// `POST /v1/tenants/{t}/erasure`.
    Request,
    /// The tenant's `retention_days` passed after the assessment became final.
    Retention,
}

impl Reason {
    pub fn as_str(self) -> &'static str {
        match self {
            Reason::Request => "request",
            Reason::Retention => "retention",
        }
    }
}

/// What a `POST /v1/tenants/{t}/erasure` body names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ErasureTarget {
    /// Every assessment whose candidate has this email (lower-cased; matched
    /// case-insensitively).
    Email(String),
    /// One assessment by id.
    AssessmentId(String),
}

impl ErasureTarget {
    /// The request's kind for the audit line (never the email itself).
    pub fn kind(&self) -> &'static str {
        match self {
            ErasureTarget::Email(_) => "email",
            ErasureTarget::AssessmentId(_) => "assessment_id",
        }
    }
}

/// Parse an erasure body: exactly one of `{"email": "…"}` or `{"assessment_id": "…"}`.
///
/// # Errors
/// `422 invalid_field` naming `email` or `assessment_id` (missing, both, empty, not a string,
/// too long, an email without `@`); `400` if the body is not an object is the caller's.
pub fn parse_erasure(v: &Value) -> ApiResult<ErasureTarget> {
    let m = v
        .as_object()
        .ok_or_else(|| ApiError::invalid_field("body", "must be a JSON object"))?;
    if let Some(k) = m
        .keys()
        .find(|k| !matches!(k.as_str(), "email" | "assessment_id"))
    {
        return Err(ApiError::invalid_field(k, "is not a known field"));
    }
    match (m.get("email"), m.get("assessment_id")) {
        (Some(_), Some(_)) => Err(ApiError::invalid_field(
            "email",
            "cannot be combined with assessment_id; send one of them",
        )),
        (Some(Value::String(e)), None) => {
            let e = e.trim();
            if e.len() > MAX_EMAIL_LEN || !is_plausible_email(e) {
                return Err(ApiError::invalid_field(
                    "email",
                    "must be one plain email address like name@example.com (at most 254 characters; no spaces, angle brackets or mailto:)",
                ));
            }
            Ok(ErasureTarget::Email(e.to_lowercase()))
        }
        (Some(_), None) => Err(ApiError::invalid_field("email", "must be a string")),
        (None, Some(Value::String(id))) if !id.is_empty() && id.len() <= 256 => {
            Ok(ErasureTarget::AssessmentId(id.clone()))
        }
        (None, Some(_)) => Err(ApiError::invalid_field(
            "assessment_id",
            "must be a non-empty string",
        )),
        (None, None) => Err(ApiError::invalid_field(
            "email",
            "is required (or assessment_id)",
        )),
    }
}

/// Whether any of the record's candidate emails equals `email` (already lower-cased),
/// ignoring case.
pub fn record_has_email(record: &Value, email: &str) -> bool {
    record["candidate"]["emails"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|e| e["email"].as_str())
        .any(|e| e.trim().to_lowercase() == email)
}

/// Whether any string in `v` (at any depth, object keys included) contains the address
/// `email` (already lower-cased) as a whole address, ignoring case: how an erasure by email
/// finds the events that carry it but belong to no matching assessment (e.g. an ATS's error
/// report naming only the candidate's email). `ax@example.com` is not found in
/// `max@example.com` nor in `ax@example.com.au`: the characters around a match must not
/// continue the address.
pub fn mentions_email(v: &Value, email: &str) -> bool {
    let has = |s: &str| contains_address(&s.to_lowercase(), email);
    match v {
        Value::String(s) => has(s),
        Value::Array(list) => list.iter().any(|x| mentions_email(x, email)),
        Value::Object(m) => m.iter().any(|(k, x)| has(k) || mentions_email(x, email)),
        _ => false,
    }
}

/// Whether free text (an attempt's snippet, a call's error) names `email` (lower-cased) as a
/// whole address, ignoring case with Unicode's rules.
pub fn text_mentions(text: &str, email: &str) -> bool {
    contains_address(&text.to_lowercase(), email)
}

/// Whether `text` holds `email` with nothing before it that could belong to its local part
/// and nothing after it that could continue its domain (a letter, digit, `-`, `_`, or a `.`
/// followed by one of those).
fn contains_address(text: &str, email: &str) -> bool {
    if email.is_empty() {
        return false;
    }
    let local = |c: char| c.is_alphanumeric() || ".!#$%&'*+/=?^_`{|}~-".contains(c);
    let domain = |c: char| c.is_alphanumeric() || c == '-' || c == '_';
    text.match_indices(email).any(|(i, _)| {
        let before = text[..i].chars().next_back();
        let mut after = text[i + email.len()..].chars();
        let next = after.next();
        let continues = match next {
            Some('.') => after.next().is_some_and(domain),
            Some(c) => domain(c),
            None => false,
        };
        !before.is_some_and(local) && !continues
    })
}

/// Whether the record's personal data is already gone.
pub fn is_erased_record(record: &Value) -> bool {
    !record["personalDataErased"].is_null()
}

/// The record without personal data: the candidate's fields, `originData`, `metaData`,
/// custom fields, the hiring team and the requester become null; the enrichment note keeps
/// its status and drops its text ([`redact_enrichment`]); ids, package, job, status,
/// provider and tenant stay, and `personalDataErased` says when and why.
pub fn redact_record(record: &Value, at: i64, reason: Reason) -> Value {
    let mut r = record.clone();
    if let Some(m) = r.as_object_mut() {
        m.insert(
            "candidate".into(),
            json!({"emails": null, "firstName": null, "lastName": null, "id": null,
                   "links": null, "location": null, "phones": null}),
        );
        for k in [
            "originData",
            "metaData",
            "customFields",
            "hiringTeam",
            "requester",
        ] {
            if m.contains_key(k) {
                m.insert(k.into(), Value::Null);
            }
        }
        if let Some(e) = m.get("enrichment").map(|e| redact_enrichment(e, None)) {
            m.insert("enrichment".into(), e);
        }
        m.insert(
            "personalDataErased".into(),
            json!({"at": rfc3339(at), "reason": reason.as_str()}),
        );
    }
    r
}

/// Provider errors without their text: each keeps only its time and code fields, so the
/// count and the kinds of errors stay visible.
pub fn redact_errors(errors: &Value) -> Value {
    match errors.as_array() {
        None => errors.clone(),
        Some(list) => Value::Array(
            list.iter()
                .map(|e| {
                    let mut kept = serde_json::Map::new();
                    if let Some(m) = e.as_object() {
                        for k in ["at", "receivedAt", "code", "status"] {
                            if let Some(v) = m.get(k) {
                                kept.insert(k.into(), v.clone());
                            }
                        }
                    }
                    kept.insert("erased".into(), json!(true));
                    Value::Object(kept)
                })
                .collect(),
        ),
    }
}

/// Whether an event's stored body was erased or purged (such an event is never sent again).
pub fn is_erased_body(body: &str) -> bool {
    body == ERASED_BODY
}

/// What a pending delivery cancelled by an erasure shows as `lastError`.
/// (Every such note starts the same way: [`is_cancelled_note`].)
pub fn cancelled_note(reason: Reason) -> String {
    match reason {
        Reason::Request => "cancelled: the candidate's personal data was erased on request".into(),
        Reason::Retention => {
            "cancelled: the candidate's personal data was purged after the retention period".into()
        }
    }
}

/// Whether `e` (already trimmed) is plausibly one plain address: exactly one `@`, a non-empty
/// local part, a domain with a dot that neither starts nor ends with one, no whitespace, no
/// angle brackets, no `mailto:` scheme. `@`, `a@b`, `mailto:c@x.example` and `<c@x.example>`
/// are refused (README "Erasure").
pub fn is_plausible_email(e: &str) -> bool {
    if e.chars()
        .any(|c| c.is_whitespace() || c.is_control() || matches!(c, '<' | '>' | ',' | ';'))
        || e.to_ascii_lowercase().starts_with("mailto:")
    {
        return false;
    }
    let Some((local, domain)) = e.split_once('@') else {
        return false;
    };
    !local.is_empty()
        && !domain.contains('@')
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !domain.contains("..")
}

/// How many things one erasure or purge changed (the erasure's answer, and the audit line).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    pub assessments: usize,
    pub events: usize,
    pub attempts: usize,
    pub cancelled_deliveries: usize,
    /// Assessments (candidate not erased) from which a member of the customer's staff named
    /// by the erased email — hiring team, requester, the order's sender — was removed.
    pub hiring_team_assessments: usize,
    /// Event bodies from which that person was removed (the candidate's data stays).
    pub hiring_team_events: usize,
}

impl Counts {
    pub fn add(&mut self, o: Counts) {
        self.assessments += o.assessments;
        self.events += o.events;
        self.attempts += o.attempts;
        self.cancelled_deliveries += o.cancelled_deliveries;
        self.hiring_team_assessments += o.hiring_team_assessments;
        self.hiring_team_events += o.hiring_team_events;
    }
    /// The answer to `POST …/erasure`.
    pub fn view(&self) -> Value {
        json!({
            "erased": {
                "assessments": self.assessments,
                "events": self.events,
                "attempts": self.attempts,
                "cancelledDeliveries": self.cancelled_deliveries,
                "hiringTeamAssessments": self.hiring_team_assessments,
                "hiringTeamEvents": self.hiring_team_events,
            }
        })
    }
}

/// The one audit line of an erasure: what kind of request, for which tenant, the counts.
/// It never carries the email or any other personal data (the assessment id is an opaque
/// bridge id and is included when the request named it).
pub fn audit_line(tenant: &str, target: &ErasureTarget, counts: &Counts, at: i64) -> Value {
    json!({
        "msg": "personal data erased",
        "tenant": tenant,
        "by": target.kind(),
        "assessmentId": match target {
            ErasureTarget::AssessmentId(id) => Some(id.as_str()),
            ErasureTarget::Email(_) => None,
        },
        "assessments": counts.assessments,
        "events": counts.events,
        "attempts": counts.attempts,
        "cancelledDeliveries": counts.cancelled_deliveries,
        "hiringTeamAssessments": counts.hiring_team_assessments,
        "hiringTeamEvents": counts.hiring_team_events,
        "at": rfc3339(at),
    })
}

#[cfg(test)]
mod tests;
