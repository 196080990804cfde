//! Event types and the webhook envelope (README "Webhooks you receive").

use super::OrderKind;

/// Event types (README "Webhooks you receive": the `eventType` table).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventType {
    RecordNew,
    RecordModified,
    RecordDeleted,
    ProviderError,
    Ping,
}

impl EventType {
    pub fn as_str(self) -> &'static str {
        match self {
            EventType::RecordNew => "record.new",
            EventType::RecordModified => "record.modified",
            EventType::RecordDeleted => "record.deleted",
            EventType::ProviderError => "provider.error",
            EventType::Ping => "ping",
        }
    }
}

/// The webhook body (README "Webhooks you receive"): the Knit-style envelope vendors already parse.
/// Rendered once at commit time; the stored text is exactly what every attempt sends.
/// `syncDataType` follows the kind of the `candidateAssessment` the event carries (README
/// "Background-check and reference-check vendors":
/// `ats_background_checks` for background and reference checks, else `ats_assessments`, also
/// for events without a record); `syncJobId` is `{syncDataType}_real_time`.
pub fn envelope(
    event_type: EventType,
    event_id: &str,
    record_id: Option<&str>,
    event_data: serde_json::Value,
    now_ms: i64,
) -> String {
    let kind = event_data
        .pointer("/candidateAssessment/assessmentPackage/kind")
        .and_then(|k| k.as_str())
        .and_then(OrderKind::parse)
        .unwrap_or_default();
    let data_type = kind.sync_data_type();
    serde_json::json!({
        "eventType": event_type.as_str(),
        "eventData": event_data,
        "eventId": event_id,
        "recordId": record_id,
        "syncType": "real_time",
        "syncDataType": data_type,
        "syncJobId": format!("{data_type}_real_time"),
        "syncRunId": format!("real_time_{now_ms}"),
        "triggeredAt": now_ms,
    })
    .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn envelope_shape() {
        let body = envelope(
            EventType::RecordNew,
            "evt_1",
            Some("ats_ass_1"),
            json!({"candidateAssessment": {"id": "ats_ass_1"}}),
            1_700_000_000_000,
        );
        let v: serde_json::Value = serde_json::from_str(&body).unwrap();
        assert_eq!(v["eventType"], "record.new");
        assert_eq!(v["eventId"], "evt_1");
        assert_eq!(v["recordId"], "ats_ass_1");
        assert_eq!(v["syncType"], "real_time");
        assert_eq!(v["syncDataType"], "ats_assessments");
        assert_eq!(v["syncJobId"], "ats_assessments_real_time");
        assert_eq!(v["syncRunId"], "real_time_1700000000000");
        assert_eq!(v["triggeredAt"], 1_700_000_000_000i64);
        let ping = envelope(EventType::Ping, "evt_2", None, json!({}), 1);
        assert!(ping.contains(r#""recordId":null"#));
        assert!(ping.contains(r#""syncDataType":"ats_assessments""#));
    }

    #[test]
    fn envelope_data_type_follows_the_order_kind() {
        for (kind, data_type) in [
            ("assessment", "ats_assessments"),
            ("background_check", "ats_background_checks"),
            ("reference_check", "ats_background_checks"),
        ] {
            let data = json!({"candidateAssessment": {"assessmentPackage": {"kind": kind}}});
            let v: serde_json::Value = serde_json::from_str(&envelope(
                EventType::RecordDeleted,
                "evt_1",
                Some("a"),
                data,
                5,
            ))
            .unwrap();
            assert_eq!(v["syncDataType"], data_type, "{kind}");
            assert_eq!(v["syncJobId"], format!("{data_type}_real_time"));
        }
    }
}
