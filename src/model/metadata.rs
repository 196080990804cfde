//! A result's `metadata` (README "Results back to the ATS"): its limits, its validation, and
//! how it is reshaped for an ATS that shows fewer levels.

use serde_json::Value;

use crate::error::ApiError;

/// Most levels of objects/arrays in a `metadata` entry's value (`{"a":{"b":{"c":1}}}`: the
/// value of `a` has 2).
pub const METADATA_MAX_DEPTH: usize = 3;
/// Most values (leaves, after flattening) a result's `metadata` may hold.
pub const METADATA_MAX_ENTRIES: usize = 50;
/// Longest label, and longest flattened label (`a.b.c`), in characters.
pub const METADATA_MAX_KEY: usize = 100;
/// Longest text value, in bytes.
pub const METADATA_MAX_TEXT: usize = 2000;

/// Validate a result's `metadata` object (README "Results back to the ATS"): keys of 1–100
/// characters at every level, values that are primitives or objects/arrays at most
/// [`METADATA_MAX_DEPTH`] deep, at most [`METADATA_MAX_ENTRIES`] values in all, flattened labels of
/// at most [`METADATA_MAX_KEY`] characters and texts of at most [`METADATA_MAX_TEXT`] bytes. Errors
/// are 422 `invalid_field` naming the entry (`metadata.a.b`).
pub(super) fn check_metadata(o: &serde_json::Map<String, Value>) -> Result<(), ApiError> {
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
    use crate::model::parse_result;
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
}
