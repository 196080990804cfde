//! Erasure of a member of the customer's staff (README "Personal data"): an erasure by email
//! that matches no candidate but a recruiter, hiring manager or requester named on orders.
//! They are data subjects too: what the bridge stored about that person — their hiring-team
//! entry, the requester, their entry in the ATS's raw order (`originData`, `metaData`), the
//! enrichment note — is removed from every assessment and event body naming them. The
//! candidate's data of those assessments stays.
//!
//! The rule for JSON the ATS wrote (an order, its metadata, an error report): an object
//! nested inside it that holds the address is that person's entry, and all its values go
//! (null; a `role` stays, it is not personal); at the top level of a value (e.g. an order's
//! `sent_by` next to the candidate) only the strings holding the address go. A key holding
//! the address goes with its value.

use super::*;

/// Keys an emptied entry keeps: what the person was, not who.
const KEPT_IN_ENTRY: &[&str] = &["role"];

/// `v` without anything about the person with address `email` (lower-cased), and whether
/// anything changed. `depth` is 0 for a value's top level (see the module doc).
pub fn scrub_person(v: &Value, email: &str, depth: usize) -> (Value, bool) {
    let holds = |s: &str| mentions_email(&Value::String(s.into()), email);
    match v {
        Value::String(s) if holds(s) => (Value::Null, true),
        Value::Array(list) => {
            let mut changed = false;
            let out = list
                .iter()
                .map(|x| {
                    let (x, c) = scrub_person(x, email, depth);
                    changed |= c;
                    x
                })
                .collect();
            (Value::Array(out), changed)
        }
        Value::Object(m) => {
            let entry = depth > 0 && m.values().any(|x| x.as_str().is_some_and(holds));
            let mut changed = false;
            let mut out = serde_json::Map::new();
            for (k, x) in m {
                if holds(k) {
                    changed = true;
                    continue;
                }
                let scalar = !(x.is_object() || x.is_array() || x.is_null());
                if entry && scalar && !KEPT_IN_ENTRY.contains(&k.as_str()) {
                    changed = true;
                    out.insert(k.clone(), Value::Null);
                    continue;
                }
                let (x, c) = scrub_person(x, email, depth + 1);
                changed |= c;
                out.insert(k.clone(), x);
            }
            (Value::Object(out), changed)
        }
        _ => (v.clone(), false),
    }
}

/// A normalized record (`candidateAssessment`) without the staff member with address `email`:
/// a `requester` or `hiringTeam` entry naming them keeps only its keys (null values; an
/// entry's `role` stays); every other field is scrubbed by [`scrub_person`] from its top
/// level. Returns whether anything changed.
pub fn scrub_record(record: &Value, email: &str) -> (Value, bool) {
    let Some(m) = record.as_object() else {
        return (record.clone(), false);
    };
    let mut changed = false;
    let mut out = serde_json::Map::new();
    for (k, x) in m {
        let x = match k.as_str() {
            "requester" | "hiringTeam" => {
                // Each entry is the person's: treat it as nested.
                let (x, c) = scrub_person(x, email, 1);
                changed |= c;
                x
            }
            _ => {
                let (x, c) = scrub_person(x, email, 0);
                changed |= c;
                x
            }
        };
        out.insert(k.clone(), x);
    }
    (Value::Object(out), changed)
}

/// An event body (the Standard Webhooks envelope, README "Webhooks you receive") without the
/// staff member: its `eventData.candidateAssessment` as [`scrub_record`], every other part
/// of `eventData` from its top level. An erased or unparsable body is left as it is (None).
/// Returns the new body when anything changed.
pub fn scrub_event_body(body: &str, email: &str) -> Option<String> {
    let mut v: Value = serde_json::from_str(body).ok()?;
    if !mentions_email(&v, email) {
        return None;
    }
    let mut changed = false;
    if let Some(data) = v.get_mut("eventData").and_then(Value::as_object_mut) {
        for (k, x) in data.iter_mut() {
            let (y, c) = if k == "candidateAssessment" {
                scrub_record(x, email)
            } else {
                scrub_person(x, email, 0)
            };
            changed |= c;
            *x = y;
        }
    }
    // Anything left outside eventData (the envelope holds ids and times only).
    let (v, c) = scrub_person(&v, email, 0);
    (changed || c).then(|| v.to_string())
}

/// The enrichment note when an erasure of a staff member stopped reads still running (their
/// data would come back with the ATS's answers).
pub fn enrichment_stopped_for_staff() -> &'static str {
    "stopped: the personal data of someone on the hiring team was erased on request; the reads were cancelled and no record.modified follows"
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAM: &str = "sam.lee@example.com";

    fn record() -> Value {
        json!({
            "id": "ats_ass_1",
            "candidate": {"emails": [{"email": "ada@example.com", "type": "personal"}], "firstName": "Ada"},
            "hiringTeam": [
                {"id": "u1", "firstName": "Sam", "lastName": "Lee", "email": "Sam.Lee@Example.com", "role": "RECRUITER"},
                {"id": "u2", "firstName": "Kim", "lastName": "Oh", "email": "kim@example.com", "role": "HIRING_MANAGER"}
            ],
            "requester": {"id": "7", "name": "Sam Lee", "email": SAM},
            "metaData": {"preferredName": "Addie", "sentBy": SAM,
                         "inputs": {"phone": "+1 555", "admin": {"id": 771, "name": "Sam Lee", "email": SAM}}},
            "originData": {"candidate": {"email": "ada@example.com"}, "sent_by": SAM,
                           "job": {"hiringTeam": [{"userId": "u1", "firstName": "Sam", "email": SAM, "role": "Recruiter"}]},
                           "recruiter": {"name": "Sam Lee", "email": SAM, "phone": "+46"}},
            "enrichment": {"status": "partial", "missing": [], "error": "the ATS has no user with the email sam.lee@example.com"},
            "customFields": {"owner": {"label": "Owner", "value": SAM}}
        })
    }

    #[test]
    fn the_staff_member_goes_and_the_candidate_stays() {
        let (r, changed) = scrub_record(&record(), SAM);
        assert!(changed);
        let text = r.to_string();
        assert!(!text.to_lowercase().contains("sam"), "{text}");
        assert!(
            !text.contains("u1") && !text.contains("771") && !text.contains("+46"),
            "{text}"
        );
        // The hiring-team entry keeps its role; the other member and the candidate stay.
        assert_eq!(r["hiringTeam"][0]["role"], "RECRUITER");
        assert_eq!(r["hiringTeam"][0]["email"], Value::Null);
        assert_eq!(r["hiringTeam"][1]["email"], "kim@example.com");
        assert_eq!(
            r["requester"],
            json!({"id": null, "name": null, "email": null})
        );
        assert_eq!(r["candidate"]["firstName"], "Ada");
        assert_eq!(
            r["metaData"]["preferredName"], "Addie",
            "the top level keeps its other fields"
        );
        assert_eq!(r["metaData"]["inputs"]["phone"], "+1 555");
        assert_eq!(r["originData"]["candidate"]["email"], "ada@example.com");
        assert_eq!(r["originData"]["job"]["hiringTeam"][0]["role"], "Recruiter");
        assert_eq!(r["enrichment"]["status"], "partial");
        assert_eq!(r["enrichment"]["error"], Value::Null);
        assert_eq!(r["id"], "ats_ass_1");
        // Idempotent: nothing more to change.
        assert!(!scrub_record(&r, SAM).1);
        // Someone not named changes nothing.
        assert!(!scrub_record(&record(), "nobody@example.com").1);
    }

    /// Every provider's order fixture (`fixtures/<provider>/record.new.expected.json`, its
    /// `originData` being the raw order beside it): each staff member it names (hiring team,
    /// requester) is gone after their erasure — from the record, `metaData` and the raw
    /// order — and the candidate is untouched.
    #[test]
    fn every_providers_fixture_loses_its_staff_and_keeps_its_candidate() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures");
        let mut people = 0;
        for dir in std::fs::read_dir(&root).unwrap().flatten() {
            let Ok(expected) = std::fs::read_to_string(dir.path().join("record.new.expected.json"))
            else {
                continue;
            };
            let event: Value = serde_json::from_str(&expected).unwrap();
            let mut record = event["eventData"]["candidateAssessment"].clone();
            let mut staff: Vec<(String, Vec<String>)> = Vec::new();
            let entries = record["hiringTeam"].as_array().cloned().unwrap_or_default();
            for p in entries.iter().chain([&record["requester"]]) {
                if let Some(e) = p["email"].as_str() {
                    let names = ["firstName", "lastName", "name"]
                        .iter()
                        .filter_map(|k| p[*k].as_str())
                        .flat_map(|n| n.split_whitespace().map(String::from))
                        .collect();
                    staff.push((e.to_lowercase(), names));
                }
            }
            // The raw order: the request fixture beside it that names a staff member.
            for f in std::fs::read_dir(dir.path()).unwrap().flatten() {
                let name = f.file_name().to_string_lossy().to_string();
                if name.ends_with(".expected.json") || !name.ends_with(".json") {
                    continue;
                }
                let raw: Value =
                    serde_json::from_str(&std::fs::read_to_string(f.path()).unwrap()).unwrap();
                if staff.iter().any(|(e, _)| mentions_email(&raw, e)) {
                    record["originData"] = raw;
                }
            }
            for (email, names) in &staff {
                people += 1;
                let (out, changed) = scrub_record(&record, email);
                assert!(changed, "{email}");
                assert!(!mentions_email(&out, email), "{email} left in {out}");
                let text = out.to_string();
                for n in names {
                    assert!(!text.contains(n.as_str()), "{n} ({email}) left in {text}");
                }
                assert_eq!(out["candidate"], record["candidate"], "{email}");
                assert_eq!(out["id"], record["id"]);
            }
        }
        assert!(people >= 4, "the fixtures name {people} staff members");
    }

    #[test]
    fn whole_addresses_only_and_keys_too() {
        let (v, c) = scrub_person(
            &json!({"to": "am.lee@example.com", "x": {"m.lee@example.com": 1}}),
            "m.lee@example.com",
            0,
        );
        assert!(c);
        assert_eq!(v, json!({"to": "am.lee@example.com", "x": {}}));
    }

    #[test]
    fn event_bodies_are_scrubbed_like_the_record() {
        let body = json!({"eventId": "evt_1", "eventType": "record.new",
            "eventData": {"candidateAssessment": record()}})
        .to_string();
        let out = scrub_event_body(&body, SAM).unwrap();
        let v: Value = serde_json::from_str(&out).unwrap();
        assert_eq!(
            v["eventData"]["candidateAssessment"]["metaData"]["preferredName"],
            "Addie"
        );
        assert_eq!(
            v["eventData"]["candidateAssessment"]["hiringTeam"][0]["role"],
            "RECRUITER"
        );
        assert!(!out.to_lowercase().contains("sam"), "{out}");
        assert_eq!(v["eventId"], "evt_1");
        assert_eq!(scrub_event_body(&out, SAM), None);
        assert_eq!(scrub_event_body(ERASED_BODY, SAM), None);
        let report = json!({"eventData": {"providerError": {"code": "x", "message": "mail to sam.lee@example.com bounced"}}}).to_string();
        let v: Value = serde_json::from_str(&scrub_event_body(&report, SAM).unwrap()).unwrap();
        assert_eq!(
            v["eventData"]["providerError"],
            json!({"code": "x", "message": null})
        );
    }
}
