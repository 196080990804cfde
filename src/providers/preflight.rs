//! Pre-flight of a result (README "Results back to the ATS"): before a result is stored, say what
//! the target ATS will drop or alter (`warnings[]` of the answer) and refuse what it would reject
//! (422). Derived only from the provider's declared [`Facts`], never written per ATS.

use serde_json::Value;

use super::{Facts, ScoreShape, Spec};
use crate::error::{ApiError, ApiResult};
use crate::model::{reshaped_metadata, ResultUpdate};

/// The fields of a `POST …/result` body (the names `Facts::result_fields` use).
pub const RESULT_FIELDS: &[&str] = &[
    "status",
    "score",
    "max_score",
    "result_url",
    "started_at",
    "completed_at",
    "summary",
    "reason",
    "metadata",
    "attachments",
];

/// Whether the ATS shows `field` of a result.
fn shown(facts: &Facts, field: &str) -> bool {
    facts.result_fields.iter().any(|(f, _)| *f == field)
}

/// The warnings for `r` sent to the ATS of `spec`, in field order; `Err` (422 `invalid_field`
/// naming the field) for what the ATS would reject.
pub fn preflight(spec: &Spec, r: &ResultUpdate) -> ApiResult<Vec<String>> {
    check(spec.title, &spec.facts, r)
}

/// [`preflight`] for an ATS called `title` (in messages) that declares `facts`.
fn check(title: &str, facts: &Facts, r: &ResultUpdate) -> ApiResult<Vec<String>> {
    let mut warnings = Vec::new();
    // The fields the vendor sent: the serialized result omits absent and empty ones.
    let sent = match serde_json::to_value(r) {
        Ok(Value::Object(m)) => m,
        _ => {
            return Err(ApiError::internal_because(
                "pre-flight: the result did not serialize to an object",
            ))
        }
    };
    for field in RESULT_FIELDS {
        if *field == "status" || !sent.contains_key(*field) {
            continue;
        }
        if !shown(facts, field) {
            warnings.push(format!("`{field}` is not shown by {title}: it is dropped."));
            continue;
        }
        match *field {
            "attachments" if r.attachments.len() > facts.attachments => warnings.push(format!(
                "{title} shows at most {} attachment(s): the others are dropped.",
                facts.attachments
            )),
            "score" => {
                if let Some(w) = score(facts.score, title, r)? {
                    warnings.push(w);
                }
            }
            "metadata" => {
                for (label, how) in reshaped_metadata(&r.metadata, facts.metadata_levels) {
                    warnings.push(format!(
                        "`metadata.{label}` is nested deeper than {title} shows: it is sent {how}."
                    ));
                }
            }
            _ => {}
        }
    }
    Ok(warnings)
}

/// What happens to `score` (present) under `shape`.
fn score(shape: ScoreShape, title: &str, r: &ResultUpdate) -> ApiResult<Option<String>> {
    let Some(s) = r.score else { return Ok(None) };
    match shape {
        ScoreShape::Number => Ok(None),
        ScoreShape::Text => Ok(Some(format!(
            "`score` is sent to {title} as text ({}).",
            match r.max_score {
                Some(m) => format!("{s}/{m}"),
                None => format!("{s}"),
            }
        ))),
        ScoreShape::Percent => {
            // `model::parse_result` refuses a `max_score` of 0 or less for every ATS.
            let max = r.max_score.unwrap_or(100.0);
            if !(0.0..=max).contains(&s) {
                return Err(ApiError::invalid_field(
                    "score",
                    &format!("must be between 0 and {max}: {title} shows the score as 0–100"),
                ));
            }
            if max == 100.0 {
                return Ok(None);
            }
            let pct = (s / max * 1000.0).round() / 10.0;
            Ok(Some(format!(
                "`score` {s}/{max} is rescaled to {pct} on {title}'s 0–100 scale."
            )))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{parse_result, Status};
    use crate::providers::{Provider, REGISTRY};
    use serde_json::json;

    fn facts(
        score: ScoreShape,
        attachments: usize,
        fields: &'static [(&'static str, &'static str)],
    ) -> Facts {
        Facts {
            result_fields: fields,
            limits: &[],
            status_mapping: &[],
            score,
            attachments,
            final_result_changeable: false,
            metadata_levels: 0,
        }
    }

    fn result(v: Value) -> ResultUpdate {
        parse_result(&v).unwrap()
    }

    #[test]
    fn nested_metadata_is_reported_as_reshaped() {
        let mut spec = facts(ScoreShape::Number, 0, &[("status", "s"), ("metadata", "m")]);
        let r = result(json!({"status":"IN_PROGRESS","metadata":{"flat":1,"deep":{"a":{"b":2}}}}));
        let w = check("Test", &spec, &r).unwrap();
        assert_eq!(w.len(), 1, "{w:?}");
        assert!(
            w[0].contains("`metadata.deep`") && w[0].contains("flattened to `deep.a.b`"),
            "{w:?}"
        );
        spec.metadata_levels = 1;
        let w = check("Test", &spec, &r).unwrap();
        assert!(w[0].contains("JSON text"), "{w:?}");
        spec.metadata_levels = 2;
        assert!(check("Test", &spec, &r).unwrap().is_empty());
    }

    #[test]
    fn fields_the_ats_does_not_show_are_reported_dropped() {
        let spec = facts(ScoreShape::Number, 0, &[("status", "s"), ("score", "x")]);
        let w = check(
            "Test",
            &spec,
            &result(json!({"status":"IN_PROGRESS","score":3,"summary":"ok","attachments":[{"url":"https://v.example/a"}]})),
        )
        .unwrap();
        assert_eq!(w.len(), 2, "{w:?}");
        assert!(
            w[0].contains("`summary`") && w[0].contains("dropped"),
            "{w:?}"
        );
        assert!(w[1].contains("`attachments`"), "{w:?}");
        // Nothing sent beyond what is shown: no warnings.
        let w = check(
            "Test",
            &spec,
            &result(json!({"status":"STARTED","score":3})),
        )
        .unwrap();
        assert!(w.is_empty(), "{w:?}");
    }

    #[test]
    fn attachments_beyond_the_ats_limit_are_reported() {
        let spec = facts(
            ScoreShape::Number,
            2,
            &[("status", "s"), ("attachments", "a")],
        );
        let a = json!({"url":"https://v.example/a"});
        let two = check(
            "Test",
            &spec,
            &result(json!({"status":"STARTED","attachments":[a, a]})),
        )
        .unwrap();
        assert!(two.is_empty(), "{two:?}");
        let three = check(
            "Test",
            &spec,
            &result(json!({"status":"STARTED","attachments":[a, a, a]})),
        )
        .unwrap();
        assert_eq!(three.len(), 1);
        assert!(three[0].contains("at most 2"), "{three:?}");
    }

    #[test]
    fn percent_scores_are_rescaled_or_refused() {
        let spec = facts(
            ScoreShape::Percent,
            0,
            &[("status", "s"), ("score", "x"), ("max_score", "x")],
        );
        let w = check(
            "Test",
            &spec,
            &result(json!({"status":"STARTED","score":12,"max_score":15})),
        )
        .unwrap();
        assert_eq!(w.len(), 1);
        assert!(w[0].contains("rescaled to 80"), "{w:?}");
        assert!(check(
            "Test",
            &spec,
            &result(json!({"status":"STARTED","score":80,"max_score":100}))
        )
        .unwrap()
        .is_empty());
        for (bad, field) in [
            (
                json!({"status":"STARTED","score":16,"max_score":15}),
                "`score`",
            ),
            (json!({"status":"STARTED","score":120}), "`score`"),
            (json!({"status":"STARTED","score":-1}), "`score`"),
        ] {
            let e = check("Test", &spec, &result(bad.clone())).unwrap_err();
            assert_eq!(e.status, 422, "{bad}");
            assert!(e.message.contains(field), "{bad}: {}", e.message);
        }
    }

    #[test]
    fn text_scores_are_reported_as_text() {
        let spec = facts(
            ScoreShape::Text,
            0,
            &[("status", "s"), ("score", "x"), ("max_score", "x")],
        );
        let w = check(
            "Test",
            &spec,
            &result(json!({"status":"STARTED","score":12,"max_score":15})),
        )
        .unwrap();
        assert_eq!(
            w,
            vec!["`score` is sent to Test as text (12/15).".to_string()]
        );
    }

    /// Every registered provider gets a verdict for a full result: no panic, and a field it
    /// does not declare is always reported.
    #[test]
    fn every_provider_reports_what_it_does_not_show() {
        let full = result(
            json!({"status":"COMPLETED","score":8,"max_score":10,"result_url":"https://v.example/r","started_at":"2026-11-01T10:00:00Z","completed_at":"2026-11-01T11:00:00Z","summary":"s","reason":"r","metadata":{"a":1},"attachments":[{"url":"https://v.example/a"}]}),
        );
        assert_eq!(full.status, Status::Completed);
        for spec in REGISTRY {
            let w = preflight(spec, &full).unwrap();
            for field in RESULT_FIELDS.iter().filter(|f| **f != "status") {
                let reported = w
                    .iter()
                    .any(|m| m.starts_with(&format!("`{field}` is not shown")));
                assert_eq!(
                    reported,
                    !shown(&spec.facts, field),
                    "{} {field}: {w:?}",
                    Provider::of(spec).as_str()
                );
            }
        }
    }
}
