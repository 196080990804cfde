//! One module per ATS: wire types, normalization into `CandidateAssessment`, response
//! rendering, and the outbound result call. Pure functions of their inputs, so each provider
//! is unit-tested on the host; the tenant object wires them to storage and delivery.
//! Adding an ATS = adding a module here and its rows in `routes::EdgeCall`.

pub mod ashby;
pub mod greenhouse;
pub mod teamtailor;

use serde_json::Value;

use crate::error::{ApiError, ApiResult};
use crate::model::scalar_string;

/// A required string (or number, rendered as a string) at `path` in a JSON body.
pub(crate) fn required(v: &Value, path: &[&str]) -> ApiResult<String> {
    let field = path.join(".");
    let mut cur = v;
    for p in path {
        cur = cur.get(p).unwrap_or(&Value::Null);
    }
    scalar_string(Some(cur))
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .ok_or_else(|| ApiError::invalid_field(&field, "is required"))
}

/// An optional string (numbers accepted); anything else is treated as absent.
pub(crate) fn optional(v: &Value, path: &[&str]) -> Option<String> {
    let mut cur = v;
    for p in path {
        cur = cur.get(p)?;
    }
    scalar_string(Some(cur))
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
}

/// Drop null entries from a JSON object; None when nothing is left.
pub(crate) fn compact(v: Value) -> Option<Value> {
    match v {
        Value::Object(m) => {
            let m: serde_json::Map<_, _> = m.into_iter().filter(|(_, v)| !v.is_null()).collect();
            (!m.is_empty()).then_some(Value::Object(m))
        }
        other => Some(other),
    }
}
