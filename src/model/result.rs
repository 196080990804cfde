//! A vendor's result for an assessment (`POST /v1/tenants/{t}/assessments/{id}/result`, README
//! "Results back to the ATS"), validated.

use serde::{Deserialize, Serialize};

use super::metadata::check_metadata;
use super::{parse_rfc3339, Status};

/// A vendor's result for an assessment (README "Results back to the ATS": the body), validated.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ResultUpdate {
    pub status: Status,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub score: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_score: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub result_url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub started_at: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub completed_at: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub summary: Option<String>,
    /// Labels → values: primitives, or objects/arrays nested up to [`METADATA_MAX_DEPTH`]
    /// levels. Each ATS shows it as deep as its `Facts::metadata_levels` allows; deeper values
    /// are reshaped by [`shape_metadata`] (pre-flight says how).
    #[serde(default, skip_serializing_if = "serde_json::Map::is_empty")]
    pub metadata: serde_json::Map<String, serde_json::Value>,
    /// Why it was cancelled/expired/rejected, when the vendor says (shown by the ATSs whose
    /// `Facts::result_fields` carry a reason).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Files the vendor wants the recruiter to see (README "Results back to the ATS": at most
    /// [`MAX_ATTACHMENTS`], https URLs); passed to the ATSs whose `Facts::attachments` allow
    /// them, reported as a pre-flight warning elsewhere.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub attachments: Vec<Attachment>,
}

impl ResultUpdate {
    /// A result that says only `status` (e.g. the CANCELLED result a cancellation carries back
    /// to the ATS); every other field empty.
    pub fn status_only(status: Status) -> Self {
        ResultUpdate {
            status,
            score: None,
            max_score: None,
            result_url: None,
            started_at: None,
            completed_at: None,
            summary: None,
            metadata: Default::default(),
            reason: None,
            attachments: Vec::new(),
        }
    }
}

/// One attachment of a result: an https `url` (at most 2048 characters) and a `description`
/// (at most 500 characters) shown next to it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Attachment {
    pub url: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

/// Most attachments one result may carry (README "Results back to the ATS").
pub const MAX_ATTACHMENTS: usize = 5;

/// Validate a result's `attachments` (422 `invalid_field` naming `attachments[i].url` etc.).
fn parse_attachments(
    v: Option<&serde_json::Value>,
) -> Result<Vec<Attachment>, crate::error::ApiError> {
    use crate::error::ApiError;
    use serde_json::Value;
    let items = match v {
        None | Some(Value::Null) => return Ok(Vec::new()),
        Some(Value::Array(a)) => a,
        Some(_) => return Err(ApiError::invalid_field("attachments", "must be an array")),
    };
    if items.len() > MAX_ATTACHMENTS {
        return Err(ApiError::invalid_field(
            "attachments",
            &format!("may hold at most {MAX_ATTACHMENTS} entries"),
        ));
    }
    let mut out = Vec::new();
    for (i, item) in items.iter().enumerate() {
        let field = |k: &str| format!("attachments[{i}].{k}");
        let o = item.as_object().ok_or_else(|| {
            ApiError::invalid_field(
                &format!("attachments[{i}]"),
                "must be an object {url, description}",
            )
        })?;
        if let Some(k) = o
            .keys()
            .find(|k| !["url", "description"].contains(&k.as_str()))
        {
            return Err(ApiError::invalid_field(&field(k), "is not a known field"));
        }
        let url = match o.get("url") {
            Some(Value::String(u)) if u.len() <= 2048 => match crate::weburl::WebUrl::parse(u) {
                Some(p) if p.scheme() == "https" && p.host().is_some() => u.clone(),
                _ => {
                    return Err(ApiError::invalid_field(
                        &field("url"),
                        "must be an https URL of at most 2048 characters",
                    ))
                }
            },
            Some(Value::String(_)) => {
                return Err(ApiError::invalid_field(
                    &field("url"),
                    "must be an https URL of at most 2048 characters",
                ))
            }
            _ => {
                return Err(ApiError::invalid_field(
                    &field("url"),
                    "is required (an https URL)",
                ))
            }
        };
        let description = match o.get("description") {
            None | Some(Value::Null) => None,
            Some(Value::String(d)) if d.len() <= 500 => Some(d.clone()),
            Some(_) => {
                return Err(ApiError::invalid_field(
                    &field("description"),
                    "must be a string of at most 500 characters",
                ))
            }
        };
        out.push(Attachment { url, description });
    }
    Ok(out)
}

/// Validate a `POST …/result` body.
pub fn parse_result(v: &serde_json::Value) -> Result<ResultUpdate, crate::error::ApiError> {
    use crate::error::ApiError;
    use serde_json::Value;
    let m = v
        .as_object()
        .ok_or_else(|| ApiError::invalid_field("body", "must be a JSON object"))?;
    const KNOWN: [&str; 10] = [
        "status",
        "score",
        "max_score",
        "result_url",
        "started_at",
        "completed_at",
        "summary",
        "metadata",
        "reason",
        "attachments",
    ];
    if let Some(k) = m.keys().find(|k| !KNOWN.contains(&k.as_str())) {
        return Err(ApiError::invalid_field(k, "is not a known field"));
    }
    let status = match m.get("status") {
        Some(Value::String(s)) => Status::parse(s)
            .filter(|s| *s != Status::NotSpecified)
            .ok_or_else(|| {
                ApiError::invalid_field(
                    "status",
                    "must be one of PENDING, STARTED, IN_PROGRESS, COMPLETED, REJECTED, EXPIRED, CANCELLED",
                )
            })?,
        _ => return Err(ApiError::invalid_field("status", "is required")),
    };
    let number = |k: &str| -> Result<Option<f64>, ApiError> {
        match m.get(k) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Number(n)) => n
                .as_f64()
                .filter(|f| f.is_finite())
                .map(Some)
                .ok_or_else(|| ApiError::invalid_field(k, "must be a finite number")),
            Some(_) => Err(ApiError::invalid_field(k, "must be a number")),
        }
    };
    let text = |k: &str, max: usize| -> Result<Option<String>, ApiError> {
        match m.get(k) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) if s.len() <= max => Ok(Some(s.clone())),
            Some(Value::String(_)) => Err(ApiError::invalid_field(
                k,
                &format!("must be at most {max} characters"),
            )),
            Some(_) => Err(ApiError::invalid_field(k, "must be a string")),
        }
    };
    let time = |k: &str| -> Result<Option<String>, ApiError> {
        match text(k, 64)? {
            None => Ok(None),
            Some(s) if parse_rfc3339(&s).is_some() => Ok(Some(s)),
            Some(_) => Err(ApiError::invalid_field(
                k,
                "must be an RFC 3339 timestamp like 2026-11-01T10:00:00Z",
            )),
        }
    };
    let result_url = match text("result_url", 2048)? {
        None => None,
        Some(u) => match crate::weburl::WebUrl::parse(&u) {
            Some(parsed) if parsed.scheme() == "https" && parsed.host().is_some() => Some(u),
            _ => {
                return Err(ApiError::invalid_field(
                    "result_url",
                    "must be an https URL (the ATS shows it to recruiters)",
                ))
            }
        },
    };
    if status == Status::Completed && result_url.is_none() {
        return Err(ApiError::invalid_field(
            "result_url",
            "is required when status is COMPLETED",
        ));
    }
    let metadata = match m.get("metadata") {
        None | Some(Value::Null) => serde_json::Map::new(),
        Some(Value::Object(o)) => {
            check_metadata(o)?;
            o.clone()
        }
        Some(_) => return Err(ApiError::invalid_field("metadata", "must be an object")),
    };
    let score = number("score")?;
    let max_score = number("max_score")?;
    if max_score.is_some_and(|m| m <= 0.0) {
        return Err(ApiError::invalid_field(
            "max_score",
            "must be greater than 0 (the score is read as a share of it)",
        ));
    }
    let started_at = time("started_at")?;
    let completed_at = time("completed_at")?;
    if let (Some(s), Some(c)) = (&started_at, &completed_at) {
        if parse_rfc3339(c) < parse_rfc3339(s) {
            return Err(ApiError::invalid_field(
                "completed_at",
                "must not be before started_at",
            ));
        }
    }
    Ok(ResultUpdate {
        status,
        score,
        max_score,
        result_url,
        started_at,
        completed_at,
        summary: text("summary", 10_000)?,
        metadata,
        reason: text("reason", 500)?,
        attachments: parse_attachments(m.get("attachments"))?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn result_validation() {
        let ok = parse_result(&json!({"status":"COMPLETED","score":87.5,"max_score":100,"result_url":"https://v.example/r/1","started_at":"2026-11-01T10:00:00Z","completed_at":"2026-11-01T11:00:00Z","summary":"Strong","metadata":{"Plagiarism":false}})).unwrap();
        assert_eq!(ok.status, Status::Completed);
        assert_eq!(ok.score, Some(87.5));
        assert_eq!(ok.metadata["Plagiarism"], false);
        for (bad, field) in [
            (json!({}), "status"),
            (json!({"status":"DONE"}), "status"),
            (json!({"status":"NOT_SPECIFIED"}), "status"),
            (json!({"status":"COMPLETED"}), "result_url"),
            (
                json!({"status":"COMPLETED","result_url":"http://v.example/r"}),
                "result_url",
            ),
            (json!({"status":"IN_PROGRESS","score":"high"}), "score"),
            (json!({"status":"IN_PROGRESS","max_score":0}), "max_score"),
            (json!({"status":"IN_PROGRESS","max_score":-5}), "max_score"),
            (
                json!({"status":"IN_PROGRESS","started_at":"2026-11-01T10:00:00Z","completed_at":"2026-11-01T09:59:59Z"}),
                "completed_at",
            ),
            (
                json!({"status":"IN_PROGRESS","started_at":"yesterday"}),
                "started_at",
            ),
            (
                json!({"status":"IN_PROGRESS","metadata":{"a":{"b":{"c":{"d":{"e":1}}}}}}),
                "metadata.a.b.c.d",
            ),
            (
                json!({"status":"IN_PROGRESS","metadata":{"a":{"":1}}}),
                "metadata.a",
            ),
            (json!({"status":"IN_PROGRESS","metadata":[1]}), "metadata"),
            (json!({"status":"IN_PROGRESS","colour":"red"}), "colour"),
            (
                json!({"status":"IN_PROGRESS","attachments":[{"url":"http://v.example/a.pdf"}]}),
                "attachments[0].url",
            ),
            (
                json!({"status":"IN_PROGRESS","attachments":[{"description":"x"}]}),
                "attachments[0].url",
            ),
            (
                json!({"status":"IN_PROGRESS","attachments":[{"url":"https://v.example/a","description":7}]}),
                "attachments[0].description",
            ),
            (
                json!({"status":"IN_PROGRESS","attachments":[{"url":"https://v.example/a"}, {"url":"https://v.example/a"}, {"url":"https://v.example/a"}, {"url":"https://v.example/a"}, {"url":"https://v.example/a"}, {"url":"https://v.example/a"}]}),
                "attachments",
            ),
            (
                json!({"status":"IN_PROGRESS","attachments":{}}),
                "attachments",
            ),
        ] {
            let e = parse_result(&bad).unwrap_err();
            assert_eq!(e.status, 422, "{bad}");
            assert!(e.message.contains(field), "{bad}: {}", e.message);
        }
        assert!(parse_result(&json!({"status":"STARTED"})).is_ok());
        let with = parse_result(&json!({"status":"STARTED","attachments":[{"url":"https://v.example/r.pdf","description":"Report"}]})).unwrap();
        assert_eq!(with.attachments.len(), 1);
        assert_eq!(with.attachments[0].description.as_deref(), Some("Report"));
    }
}
