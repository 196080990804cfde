//! Recruitee's `send_candidate` body (Recruitee's Assessments partner docs): parsed, with a
//! 422 naming the field, and normalized.

use super::*;

/// Fields of `send_candidate` that the bridge reads itself; every other key is one of the
/// partner's configured inputs (e.g. `phone`, `admin`) and is kept in `metaData.inputs`.
pub(super) const KNOWN: [&str; 8] = [
    "first_name",
    "last_name",
    "email",
    "candidate_id",
    "company_id",
    "report_id",
    "test_id",
    "test_name",
];

/// A validated `POST {urls.send_candidate}` body:
/// `{first_name, last_name, email, candidate_id, company_id, report_id (uuid), test_id,
/// test_name}` plus configured inputs. Ids may arrive as numbers (the docs show both).
#[derive(Debug, Clone, PartialEq)]
pub struct SendCandidate {
    /// Lower-case uuid; the idempotency key of the order.
    pub report_id: String,
    pub test_id: String,
    pub test_name: Option<String>,
    pub candidate_id: String,
    pub company_id: String,
    pub email: String,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    /// The configured inputs beyond the standard fields, as sent.
    pub inputs: Map<String, Value>,
}

/// A uuid in its 8-4-4-4-12 hex form, lower-cased; None for anything else.
pub fn parse_uuid(s: &str) -> Option<String> {
    let b = s.as_bytes();
    let ok = b.len() == 36
        && b.iter().enumerate().all(|(i, c)| match i {
            8 | 13 | 18 | 23 => *c == b'-',
            _ => c.is_ascii_hexdigit(),
        });
    ok.then(|| s.to_ascii_lowercase())
}

/// Parse `send_candidate`. Errors: 422 naming the field (`report_id` must be a uuid, `email`
/// must look like an address); a non-object body is a 422 on `body`.
pub fn parse_send_candidate(v: &Value) -> ApiResult<SendCandidate> {
    let m = v
        .as_object()
        .ok_or_else(|| ApiError::invalid_field("body", "must be a JSON object"))?;
    let report_id = required(v, &["report_id"])?;
    let report_id = parse_uuid(&report_id).ok_or_else(|| {
        ApiError::invalid_field("report_id", "must be a uuid (8-4-4-4-12 hex digits)")
    })?;
    let email = required(v, &["email"])?;
    if !email.contains('@') || email.len() > 320 {
        return Err(ApiError::invalid_field(
            "email",
            "must be the candidate's email address",
        ));
    }
    Ok(SendCandidate {
        report_id,
        test_id: required(v, &["test_id"])?,
        test_name: optional(v, &["test_name"]),
        candidate_id: required(v, &["candidate_id"])?,
        company_id: required(v, &["company_id"])?,
        email,
        first_name: optional(v, &["first_name"]),
        last_name: optional(v, &["last_name"]),
        inputs: m
            .iter()
            .filter(|(k, _)| !KNOWN.contains(&k.as_str()))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect(),
    })
}

/// The phone input, when the partner configured one: a string, or an object with a number.
pub(super) fn phone(inputs: &Map<String, Value>) -> Option<Vec<Phone>> {
    let p = inputs.get("phone")?;
    let number = match p {
        Value::String(s) => Some(s.trim().to_string()),
        Value::Object(_) => optional(p, &["number"])
            .or_else(|| optional(p, &["phone"]))
            .or_else(|| optional(p, &["value"])),
        _ => None,
    }
    .filter(|s| !s.is_empty())?;
    Some(vec![Phone {
        phone_number: number,
        kind: "NOT_SPECIFIED".into(),
    }])
}

/// The `admin` input (the Recruitee user the partner configured it for), as the requester.
pub(super) fn admin(inputs: &Map<String, Value>) -> Option<Requester> {
    let a = inputs.get("admin")?;
    let r = Requester {
        id: optional(a, &["id"]),
        name: optional(a, &["name"]),
        email: optional(a, &["email"]),
    };
    (r.id.is_some() || r.name.is_some() || r.email.is_some()).then_some(r)
}

/// The normalized record (README "Webhooks you receive", "Recruitee"). Recruitee sends no job or
/// application: `applicationId`,
/// `jobId` and `callbackUrl` are null; the package name falls back to Recruitee's `test_name`
/// when the catalogue does not know the test.
pub fn normalize(
    o: &SendCandidate,
    id: &str,
    tenant: &str,
    catalogue: Catalogue<'_>,
    origin: Value,
) -> CandidateAssessment {
    let mut package = AssessmentPackage::from_catalogue(&o.test_id, catalogue);
    if package.name.is_none() {
        package.name = o.test_name.clone();
    }
    CandidateAssessment {
        id: id.to_string(),
        application_id: None,
        assessment_package: package,
        callback_url: None,
        candidate: Candidate {
            emails: Some(vec![Email {
                email: o.email.clone(),
                kind: "PRIMARY".into(),
            }]),
            first_name: o.first_name.clone(),
            last_name: o.last_name.clone(),
            id: Some(o.candidate_id.clone()),
            links: None,
            location: None,
            phones: phone(&o.inputs),
        },
        job_id: None,
        job: None,
        hiring_team: None,
        requester: admin(&o.inputs).map(context),
        custom_fields: None,
        // Recruitee sends no job context and the bridge has no other source for it.
        enrichment: Some(context(Enrichment {
            status: EnrichmentStatus::NotConfigured,
            missing: ["job", "hiringTeam"]
                .into_iter()
                .chain(admin(&o.inputs).is_none().then_some("requester"))
                .map(String::from)
                .collect(),
            error: None,
        })),
        meta_data: compact(json!({
            "reportId": o.report_id,
            "companyId": o.company_id,
            "testName": o.test_name,
            "inputs": (!o.inputs.is_empty()).then(|| Value::Object(o.inputs.clone())),
        })),
        origin_data: origin,
        status: Status::NotSpecified,
        provider: Provider::of(&SPEC),
        tenant_id: tenant.to_string(),
        personal_data_erased: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::providers::recruitee::test_support::*;

    #[test]
    fn parses_the_fixture_and_keeps_extra_inputs() {
        let v = fixture();
        let o = parse_send_candidate(&v).unwrap();
        assert_eq!(o.report_id, "5f0c2a4e-8d1b-4c7a-9e3f-2b6d8a1c4e90");
        assert_eq!(o.test_id, "bg-standard");
        assert_eq!(o.candidate_id, "48213");
        assert_eq!(o.company_id, "9021");
        assert_eq!(o.first_name.as_deref(), Some("Mira"));
        assert_eq!(o.inputs.len(), 2, "phone and admin are configured inputs");
        assert!(o.inputs.contains_key("phone") && o.inputs.contains_key("admin"));
    }

    #[test]
    fn refuses_bad_input_naming_the_field() {
        for (field, bad) in [
            ("report_id", json!("not-a-uuid")),
            ("report_id", json!(null)),
            ("report_id", json!("5f0c2a4e8d1b4c7a9e3f2b6d8a1c4e90")),
            ("email", json!("no-at-sign")),
            ("email", json!("")),
            ("test_id", json!(null)),
            ("candidate_id", json!({"x": 1})),
            ("company_id", json!(null)),
        ] {
            let mut v = fixture();
            v[field] = bad.clone();
            let e = parse_send_candidate(&v).unwrap_err();
            assert_eq!(e.status, 422, "{field}={bad}");
            assert!(e.message.contains(field), "{field}: {}", e.message);
        }
        let e = parse_send_candidate(&json!([1])).unwrap_err();
        assert_eq!(e.status, 422);
        // Numbers are accepted for ids; an upper-case uuid is normalized.
        let mut v = fixture();
        v["test_id"] = json!(2);
        v["report_id"] = json!("5F0C2A4E-8D1B-4C7A-9E3F-2B6D8A1C4E90");
        let o = parse_send_candidate(&v).unwrap();
        assert_eq!(o.test_id, "2");
        assert_eq!(o.report_id, "5f0c2a4e-8d1b-4c7a-9e3f-2b6d8a1c4e90");
    }

    #[test]
    fn normalizes_into_the_candidate_assessment() {
        let v = fixture();
        let o = parse_send_candidate(&v).unwrap();
        let cat = vec![Package {
            id: "bg-standard".into(),
            name: "Standard criminal record check".into(),
            description: Some("7 years".into()),
            package_type: Some("CRIMINAL_RECORD".into()),
            kind: Some(OrderKind::BackgroundCheck),
            criteria: vec![],
        }];
        let catalogue = Catalogue {
            packages: Some(&cat),
            default_kind: OrderKind::Assessment,
        };
        let a = normalize(&o, "ats_ass_1", "acme", catalogue, v.clone());
        let out = serde_json::to_value(&a).unwrap();
        assert_eq!(out["provider"], "recruitee");
        assert_eq!(out["candidate"]["id"], "48213");
        assert_eq!(
            out["candidate"]["emails"][0],
            json!({"email": "mira.novak@example.org", "type": "PRIMARY"})
        );
        assert_eq!(
            out["candidate"]["phones"][0],
            json!({"phoneNumber": "+386 40 555 123", "type": "NOT_SPECIFIED"})
        );
        assert_eq!(
            out["assessmentPackage"]["name"],
            "Standard criminal record check"
        );
        assert_eq!(out["assessmentPackage"]["kind"], "background_check");
        assert_eq!(out["assessmentPackage"]["type"], "CRIMINAL_RECORD");
        assert_eq!(out["metaData"]["reportId"], o.report_id);
        assert_eq!(out["metaData"]["companyId"], "9021");
        assert_eq!(out["metaData"]["inputs"]["admin"], v["admin"]);
        assert!(out["applicationId"].is_null() && out["jobId"].is_null());
        assert!(out["callbackUrl"].is_null());
        assert_eq!(out["originData"], v);
        assert_eq!(out["status"], "NOT_SPECIFIED");

        // Unknown to the catalogue: Recruitee's own test name, the tenant's default kind.
        let none = Catalogue {
            packages: None,
            default_kind: OrderKind::ReferenceCheck,
        };
        let a = normalize(&o, "ats_ass_2", "acme", none, v);
        assert_eq!(a.assessment_package.name.as_deref(), Some("Standard check"));
        assert_eq!(a.assessment_package.kind, OrderKind::ReferenceCheck);
    }
}
