//! A vendor's result for an assessment (`POST /v1/tenants/{t}/assessments/{id}/result`, README
//! "Results back to the ATS"), validated.

use serde::{Deserialize, Serialize};

use serde_json::Value;

use super::{parse_rfc3339, Status};
use crate::error::ApiError;

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
    /// Files the vendor wants the recruiter to see (README "Results": at most
    /// [`MAX_ATTACHMENTS`], https URLs); passed to the ATSs whose `Facts::attachments` allow
    /// them, reported as a pre-flight warning elsewhere.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub attachments: Vec<Attachment>,
}

/// One attachment of a result: an https `url` (at most 2048 characters) and a `description`
/// (at most 500 characters) shown next to it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Attachment {
    pub url: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

/// Most attachments one result may carry (README "Results").
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
    Ok(ResultUpdate {
        status,
        score: number("score")?,
        max_score: number("max_score")?,
        result_url,
        started_at: time("started_at")?,
        completed_at: time("completed_at")?,
        summary: text("summary", 10_000)?,
        metadata,
        reason: text("reason", 500)?,
        attachments: parse_attachments(m.get("attachments"))?,
    })
}

/// Most levels of objects/arrays in a `metadata` entry's value (`{"a":{"b":{"c":1}}}`: the
/// value of `a` has 2).
pub const METADATA_MAX_DEPTH: usize = 3;
/// Most values (leaves, after flattening) a result's `metadata` may hold.
pub const METADATA_MAX_ENTRIES: usize = 50;
/// Longest label, and longest flattened label (`a.b.c`), in characters.
pub const METADATA_MAX_KEY: usize = 100;
/// Longest text value, in bytes.
pub const METADATA_MAX_TEXT: usize = 2000;

/// Validate a result's `metadata` object (README "Results"): keys of 1–100 characters at
/// every level, values that are primitives or objects/arrays at most [`METADATA_MAX_DEPTH`]
/// deep, at most [`METADATA_MAX_ENTRIES`] values in all, flattened labels of at most
/// [`METADATA_MAX_KEY`] characters and texts of at most [`METADATA_MAX_TEXT`] bytes. Errors
/// are 422 `invalid_field` naming the entry (`metadata.a.b`).
fn check_metadata(o: &serde_json::Map<String, Value>) -> Result<(), ApiError> {
    fn walk(path: &str, v: &Value, depth: usize, leaves: &mut usize) -> Result<(), ApiError> {
        let field = format!("metadata.{path}");
        let children: Vec<(String, &Value)> = match v {
            Value::String(s) if s.len() > METADATA_MAX_TEXT => {
                return Err(ApiError::invalid_field(
                    &field,
                    &format!("must be at most {METADATA_MAX_TEXT} characters"),
                ))
            }
            Value::Object(m) => m.iter().map(|(k, v)| (k.clone(), v)).collect(),
            Value::Array(a) => a
                .iter()
                .enumerate()
                .map(|(i, v)| (i.to_string(), v))
                .collect(),
            _ => {
                *leaves += 1;
                return if path.chars().count() > METADATA_MAX_KEY {
                    Err(ApiError::invalid_field(
                        &field,
                        &format!(
                            "flattened, its label must be at most {METADATA_MAX_KEY} characters"
                        ),
                    ))
                } else {
                    Ok(())
                };
            }
        };
        if depth >= METADATA_MAX_DEPTH {
            return Err(ApiError::invalid_field(
                &field,
                &format!("may nest objects and arrays at most {METADATA_MAX_DEPTH} levels deep"),
            ));
        }
        for (k, child) in children {
            if k.is_empty() || k.chars().count() > METADATA_MAX_KEY {
                return Err(ApiError::invalid_field(
                    &field,
                    "keys must be 1–100 characters",
                ));
            }
            walk(&format!("{path}.{k}"), child, depth + 1, leaves)?;
        }
        Ok(())
    }
    let mut leaves = 0;
    for (k, v) in o {
        if k.is_empty() || k.chars().count() > METADATA_MAX_KEY {
            return Err(ApiError::invalid_field(
                "metadata",
                "keys must be 1–100 characters",
            ));
        }
        walk(k, v, 0, &mut leaves)?;
    }
    if leaves > METADATA_MAX_ENTRIES {
        return Err(ApiError::invalid_field(
            "metadata",
            &format!("may hold at most {METADATA_MAX_ENTRIES} values"),
        ));
    }
    Ok(())
}

/// A result's `metadata` as an ATS that shows `levels` levels of nesting gets it (its
/// `Facts::metadata_levels`): values nested deeper are flattened to dotted labels (`a.b`,
/// `list.0`) when `levels` is 0, or sent as JSON text below level `levels` otherwise. An
/// empty object or array carries no value and is left out. Order is kept.
pub fn shape_metadata(
    metadata: &serde_json::Map<String, Value>,
    levels: u8,
) -> serde_json::Map<String, Value> {
    fn flatten(prefix: &str, v: &Value, out: &mut serde_json::Map<String, Value>) {
        match v {
            Value::Object(m) => m
                .iter()
                .for_each(|(k, c)| flatten(&format!("{prefix}.{k}"), c, out)),
            Value::Array(a) => a
                .iter()
                .enumerate()
                .for_each(|(i, c)| flatten(&format!("{prefix}.{i}"), c, out)),
            leaf => {
                out.insert(prefix.to_string(), leaf.clone());
            }
        }
    }
    fn text_below(v: &Value, levels: u8) -> Value {
        match v {
            Value::Object(m) if levels == 0 => Value::String(v.to_string()).or_empty(m.is_empty()),
            Value::Array(a) if levels == 0 => Value::String(v.to_string()).or_empty(a.is_empty()),
            Value::Object(m) => Value::Object(
                m.iter()
                    .map(|(k, c)| (k.clone(), text_below(c, levels - 1)))
                    .collect(),
            ),
            Value::Array(a) => Value::Array(a.iter().map(|c| text_below(c, levels - 1)).collect()),
            leaf => leaf.clone(),
        }
    }
    let mut out = serde_json::Map::new();
    for (k, v) in metadata {
        match (levels, v) {
            (_, Value::Object(m)) if m.is_empty() => {}
            (_, Value::Array(a)) if a.is_empty() => {}
            (0, v) => flatten(k, v, &mut out),
            (n, v) => {
                out.insert(k.clone(), text_below(v, n));
            }
        }
    }
    out
}

/// The top-level `metadata` entries an ATS showing `levels` levels of nesting reshapes (for
/// pre-flight): (label, what the ATS shows instead), e.g. `("a", "a.b, a.c")`.
pub fn reshaped_metadata(
    metadata: &serde_json::Map<String, Value>,
    levels: u8,
) -> Vec<(String, String)> {
    fn depth(v: &Value) -> usize {
        match v {
            Value::Object(m) => 1 + m.values().map(depth).max().unwrap_or(0),
            Value::Array(a) => 1 + a.iter().map(depth).max().unwrap_or(0),
            _ => 0,
        }
    }
    metadata
        .iter()
        .filter(|(_, v)| depth(v) > levels as usize)
        .map(|(k, v)| {
            let one = serde_json::Map::from_iter([(k.clone(), v.clone())]);
            let shown = shape_metadata(&one, levels);
            let how = if levels == 0 {
                match shown
                    .keys()
                    .map(String::as_str)
                    .collect::<Vec<_>>()
                    .join(", ")
                {
                    s if s.is_empty() => "nothing (it is empty)".to_string(),
                    s => format!("flattened to `{s}`"),
                }
            } else {
                format!("with what is deeper than {levels} level(s) as JSON text")
            };
            (k.clone(), how)
        })
        .collect()
}

/// `Value::String` unless `empty`, then `Value::Null`.
trait OrEmpty {
    fn or_empty(self, empty: bool) -> Value;
}

impl OrEmpty for Value {
    fn or_empty(self, empty: bool) -> Value {
        if empty {
            Value::Null
        } else {
            self
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn nested_metadata_is_shaped_per_ats() {
        let m = json!({"plain": 1, "sections": {"algo": 80, "design": {"score": 3, "notes": "ok"}},
            "tags": ["a", "b"], "empty": {}});
        let m = m.as_object().unwrap();
        let flat = shape_metadata(m, 0);
        assert_eq!(
            Value::Object(flat),
            json!({"plain": 1, "sections.algo": 80, "sections.design.score": 3,
                "sections.design.notes": "ok", "tags.0": "a", "tags.1": "b"})
        );
        let one = shape_metadata(m, 1);
        assert_eq!(
            Value::Object(one),
            json!({"plain": 1, "sections": {"algo": 80, "design": "{\"score\":3,\"notes\":\"ok\"}"},
                "tags": ["a", "b"]})
        );
        // Pre-flight's view: what each ATS reshapes.
        let at0 = reshaped_metadata(m, 0);
        let labels: Vec<&str> = at0.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(labels, ["sections", "tags", "empty"]);
        assert_eq!(
            at0[0].1,
            "flattened to `sections.algo, sections.design.score, sections.design.notes`"
        );
        assert_eq!(at0[2].1, "nothing (it is empty)");
        let at1 = reshaped_metadata(m, 1);
        assert_eq!(at1.len(), 1);
        assert_eq!(at1[0].0, "sections");
        assert!(reshaped_metadata(json!({"a": 1}).as_object().unwrap(), 0).is_empty());
    }

    #[test]
    fn metadata_limits() {
        let ok = |v: Value| parse_result(&json!({"status":"IN_PROGRESS","metadata": v}));
        assert!(ok(json!({"a":{"b":{"c":{"d":1}}}})).is_ok(), "three levels");
        let field = |v: Value| ok(v).unwrap_err().message;
        assert!(field(json!({"a":{"b":{"c":{"d":{"e":1}}}}})).contains("metadata.a.b.c.d"));
        let many: serde_json::Map<String, Value> =
            (0..51).map(|i| (format!("k{i}"), json!(i))).collect();
        assert!(field(Value::Object(many)).contains("at most 50"));
        let wide = json!({"a": (0..51).collect::<Vec<_>>()});
        assert!(
            field(wide).contains("at most 50"),
            "leaves are counted after flattening"
        );
        let long = "x".repeat(60);
        assert!(field(json!({long.clone(): {long: 1}})).contains("at most 100 characters"));
        assert!(field(json!({"a":{"b":"y".repeat(2001)}})).contains("metadata.a.b"));
    }

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
