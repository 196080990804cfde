//! A webhook endpoint's `POST`/`PATCH` body (README "Webhook endpoints"): parsed and checked,
//! a pure rule with host tests.

use super::*;

/// Longest `description`, in characters.
pub const MAX_DESCRIPTION: usize = 500;

/// The event types an endpoint can ask for (README "Webhooks you receive").
pub const EVENT_TYPES: &[EventType] = &[
    EventType::RecordNew,
    EventType::RecordModified,
    EventType::RecordDeleted,
    EventType::ProviderError,
    EventType::Ping,
];

/// A parsed `POST`/`PATCH` body: None = not given (keep).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct EndpointInput {
    pub url: Option<String>,
    pub event_types: Option<Vec<String>>,
    /// `Some(None)`: cleared with `null`.
    pub description: Option<Option<String>>,
}

/// Pure rule: parse and check a body `{url, event_types?, description?}` (`url` required when
/// `creating`). 422 naming the field: an unknown field, a URL the bridge may not call
/// (`https` only unless insecure targets are allowed), an unknown event type, a description
/// over [`MAX_DESCRIPTION`] characters.
pub fn parse(v: &Value, creating: bool, allow_insecure: bool) -> ApiResult<EndpointInput> {
    let m: &Map<String, Value> = v
        .as_object()
        .ok_or_else(|| ApiError::invalid_field("body", "must be a JSON object"))?;
    if let Some(k) = m
        .keys()
        .find(|k| !["url", "event_types", "description"].contains(&k.as_str()))
    {
        return Err(ApiError::invalid_field(
            k,
            "is not a known field (url, event_types, description)",
        ));
    }
    let url = match m.get("url") {
        None if creating => return Err(ApiError::invalid_field("url", "is required")),
        None => None,
        Some(Value::String(s)) if !s.trim().is_empty() && s.len() <= 2048 => Some(
            targets::check_target(s.trim(), allow_insecure)
                .map(|u| u.to_string())
                .map_err(|why| ApiError::invalid_field("url", &why))?,
        ),
        Some(_) => {
            return Err(ApiError::invalid_field(
                "url",
                "must be a non-empty URL of at most 2048 characters",
            ))
        }
    };
    let known = || {
        EVENT_TYPES
            .iter()
            .map(|t| t.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    };
    let event_types = match m.get("event_types") {
        None => None,
        Some(Value::Null) => Some(vec![]),
        Some(Value::Array(items)) => {
            let mut out: Vec<String> = Vec::new();
            for i in items {
                let t = i
                    .as_str()
                    .filter(|t| EVENT_TYPES.iter().any(|e| e.as_str() == *t))
                    .ok_or_else(|| {
                        ApiError::invalid_field(
                            "event_types",
                            &format!("may only hold {} (empty: every type)", known()),
                        )
                    })?;
                if !out.iter().any(|o| o == t) {
                    out.push(t.to_string());
                }
            }
            Some(out)
        }
        Some(_) => {
            return Err(ApiError::invalid_field(
                "event_types",
                &format!("must be an array of {} (empty: every type)", known()),
            ))
        }
    };
    let description = match m.get("description") {
        None => None,
        Some(Value::Null) => Some(None),
        Some(Value::String(s)) if s.chars().count() <= MAX_DESCRIPTION => {
            Some(Some(s.trim().to_string()).filter(|s| !s.is_empty()))
        }
        Some(_) => {
            return Err(ApiError::invalid_field(
                "description",
                &format!("must be a string of at most {MAX_DESCRIPTION} characters, or null"),
            ))
        }
    };
    Ok(EndpointInput {
        url,
        event_types,
        description,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_new_endpoint_needs_a_url_the_bridge_may_call() {
        assert_eq!(parse(&json!({}), true, false).unwrap_err().status, 422);
        let e = parse(&json!({"url": "http://x.example/h"}), true, false).unwrap_err();
        assert!(e.message.contains("`url`"), "{}", e.message);
        let ok = parse(&json!({"url": "https://x.example/h"}), true, false).unwrap();
        assert_eq!(ok.url.as_deref(), Some("https://x.example/h"));
        assert_eq!(ok.event_types, None);
        assert_eq!(
            parse(&json!({}), false, false).unwrap(),
            EndpointInput::default()
        );
    }

    #[test]
    fn event_types_are_known_names_deduplicated_and_null_means_all() {
        let v = json!({"url": "https://x.example", "event_types": ["record.new", "ping", "record.new"]});
        assert_eq!(
            parse(&v, true, false).unwrap().event_types,
            Some(vec!["record.new".to_string(), "ping".to_string()])
        );
        let all = json!({"event_types": null});
        assert_eq!(parse(&all, false, false).unwrap().event_types, Some(vec![]));
        for bad in [json!(["record.created"]), json!("record.new"), json!([1])] {
            let e = parse(&json!({ "event_types": bad }), false, false).unwrap_err();
            assert_eq!(e.status, 422);
            assert!(e.message.contains("`event_types`"), "{}", e.message);
        }
    }

    #[test]
    fn description_and_unknown_fields() {
        assert_eq!(
            parse(&json!({"description": null}), false, false)
                .unwrap()
                .description,
            Some(None)
        );
        assert_eq!(
            parse(&json!({"description": " Orders "}), false, false)
                .unwrap()
                .description,
            Some(Some("Orders".into()))
        );
        let long = "x".repeat(MAX_DESCRIPTION + 1);
        assert_eq!(
            parse(&json!({ "description": long }), false, false)
                .unwrap_err()
                .status,
            422
        );
        let e = parse(&json!({"secret": "whsec_x"}), false, false).unwrap_err();
        assert!(e.message.contains("`secret`"), "{}", e.message);
        assert_eq!(parse(&json!([1]), false, false).unwrap_err().status, 422);
    }

    #[test]
    fn every_event_type_can_be_asked_for() {
        for t in EVENT_TYPES {
            let v = json!({ "event_types": [t.as_str()] });
            assert!(parse(&v, false, false).is_ok());
        }
    }
}
