//! Greenhouse's `send_test` order (Greenhouse Assessment Partner API docs, "Send Test"):
//! parsed, with 422 naming the field, and normalized into the record (README "Webhooks you
//! receive").

use super::*;

/// A validated `send_test` order.
#[derive(Debug, Clone, PartialEq)]
pub struct Order {
    pub partner_test_id: String,
    pub callback_url: String,
    pub email: String,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub preferred_name: Option<String>,
    pub phone: Option<String>,
    pub resume_url: Option<String>,
    pub profile_url: Option<String>,
    pub sent_by: Option<String>,
}

/// Parse `send_test`. `url` may sit at the top level or (pre-2019 form) inside `candidate`;
/// ids may be numbers; unknown fields are ignored. The callback must be a Greenhouse URL so
/// a forged order can never make the bridge call an arbitrary host.
pub fn parse_send_test(v: &Value, allow_insecure: bool) -> ApiResult<Order> {
    if !v.is_object() {
        return Err(ApiError::invalid_field("body", "must be a JSON object"));
    }
    let partner_test_id = required(v, &["partner_test_id"])?;
    let email = required(v, &["candidate", "email"])?;
    if !email.contains('@') || email.len() > 320 {
        return Err(ApiError::invalid_field(
            "candidate.email",
            "must be an email address",
        ));
    }
    let url = optional(v, &["url"])
        .or_else(|| optional(v, &["candidate", "url"]))
        .ok_or_else(|| ApiError::invalid_field("url", "is required"))?;
    let callback_url = check_callback(&url, allow_insecure)
        .map_err(|why| ApiError::invalid_field("url", &why))?
        .to_string();
    Ok(Order {
        partner_test_id,
        callback_url,
        email,
        first_name: optional(v, &["candidate", "first_name"]),
        last_name: optional(v, &["candidate", "last_name"]),
        preferred_name: optional(v, &["candidate", "preferred_name"]),
        phone: optional(v, &["candidate", "phone_number"]),
        resume_url: optional(v, &["candidate", "resume_url"]),
        profile_url: optional(v, &["candidate", "greenhouse_profile_url"]),
        sent_by: optional(v, &["sent_by"]),
    })
}

/// `https://app.greenhouse.io/people/{candidate}?application_id={application}` → both ids.
pub fn profile_ids(profile_url: &str) -> (Option<String>, Option<String>) {
    let Some(u) = crate::weburl::WebUrl::parse(profile_url) else {
        return (None, None);
    };
    let segs: Vec<&str> = u.path_segments().map(|s| s.collect()).unwrap_or_default();
    let candidate = segs
        .iter()
        .position(|s| *s == "people")
        .and_then(|i| segs.get(i + 1))
        .filter(|s| !s.is_empty())
        .map(|s| s.to_string());
    let application = u
        .query_pairs()
        .find(|(k, _)| k == "application_id")
        .map(|(_, v)| v.into_owned())
        .filter(|s| !s.is_empty());
    (candidate, application)
}

/// The normalized assessment for an order.
pub fn normalize(
    o: &Order,
    id: &str,
    tenant: &str,
    catalogue: Catalogue<'_>,
    origin: Value,
) -> CandidateAssessment {
    let (candidate_id, application_id) = o
        .profile_url
        .as_deref()
        .map(profile_ids)
        .unwrap_or((None, None));
    let links: Vec<String> = [o.resume_url.clone(), o.profile_url.clone()]
        .into_iter()
        .flatten()
        .collect();
    CandidateAssessment {
        id: id.to_string(),
        application_id,
        assessment_package: AssessmentPackage::from_catalogue(&o.partner_test_id, catalogue),
        callback_url: Some(o.callback_url.clone()),
        candidate: Candidate {
            emails: Some(vec![Email {
                email: o.email.clone(),
                kind: "PERSONAL".into(),
            }]),
            first_name: o.first_name.clone(),
            last_name: o.last_name.clone(),
            id: candidate_id,
            links: (!links.is_empty()).then_some(links),
            location: None,
            phones: o.phone.clone().map(|p| {
                vec![Phone {
                    phone_number: p,
                    kind: "NOT_SPECIFIED".into(),
                }]
            }),
        },
        job_id: None,
        job: None,
        hiring_team: None,
        requester: o.sent_by.clone().map(|email| {
            context(Requester {
                id: None,
                name: None,
                email: Some(email),
            })
        }),
        custom_fields: None,
        // Harvest v3 is what would fill job, hiring team and requester (README "Webhooks you
        // receive").
        enrichment: Some(context(Enrichment {
            status: EnrichmentStatus::NotConfigured,
            missing: ["job", "hiringTeam"]
                .into_iter()
                .chain(o.sent_by.is_none().then_some("requester"))
                .map(String::from)
                .collect(),
            error: None,
        })),
        meta_data: compact(json!({"preferredName": o.preferred_name, "sentBy": o.sent_by})),
        origin_data: origin,
        status: Status::NotSpecified,
        provider: Provider::of(&SPEC),
        tenant_id: tenant.to_string(),
        personal_data_erased: None,
    }
}
#[cfg(test)]
mod tests {
    use super::super::test_support::*;
    use super::*;
    use crate::model::OrderKind;

    #[test]
    fn parses_and_normalizes_the_seed_order() {
        let v = order_json();
        let o = parse_send_test(&v, false).unwrap();
        let cat = vec![Package {
            id: "pkg_9f3aK21".into(),
            name: "Backend".into(),
            description: Some("90 min".into()),
            package_type: Some("CODE".into()),
            kind: None,
            criteria: vec![],
        }];
        let catalogue = Catalogue {
            packages: Some(&cat),
            default_kind: OrderKind::BackgroundCheck,
        };
        let a = normalize(&o, "ats_ass_1", "acme", catalogue, v.clone());
        assert_eq!(a.application_id.as_deref(), Some("87456321"));
        assert_eq!(a.candidate.id.as_deref(), Some("762198"));
        assert_eq!(a.candidate.emails.as_ref().unwrap()[0].kind, "PERSONAL");
        assert_eq!(
            a.candidate.phones.as_ref().unwrap()[0].kind,
            "NOT_SPECIFIED"
        );
        assert_eq!(a.candidate.links.as_ref().unwrap().len(), 2);
        assert_eq!(a.assessment_package.name.as_deref(), Some("Backend"));
        assert_eq!(a.assessment_package.package_type.as_deref(), Some("CODE"));
        assert_eq!(a.assessment_package.kind, OrderKind::BackgroundCheck);
        assert_eq!(a.status, Status::NotSpecified);
        assert_eq!(a.origin_data, v);
        let out = serde_json::to_value(&a).unwrap();
        assert_eq!(out["callbackUrl"], v["url"]);
        assert_eq!(out["provider"], "greenhouse");
        assert_eq!(out["tenantId"], "acme");
        assert!(out["jobId"].is_null());
        assert!(out["job"].is_null() && out["hiringTeam"].is_null());
        assert!(out["customFields"].is_null());
        assert_eq!(
            out["requester"],
            json!({"id": null, "name": null, "email": "recruiter@example.com"})
        );
        assert_eq!(
            out["enrichment"],
            json!({"status": "not_configured", "missing": ["job", "hiringTeam"], "error": null})
        );
        assert_eq!(
            out["candidate"]["phones"][0]["phoneNumber"],
            "+1-555-123-4567"
        );
    }

    #[test]
    fn tolerates_old_and_odd_forms() {
        let v = json!({"partner_test_id": 42, "candidate": {"email": "a@b.c", "url": "https://app2.greenhouse.io/x/1", "first_name": null}, "extra": {"x": 1}});
        let o = parse_send_test(&v, false).unwrap();
        assert_eq!(o.partner_test_id, "42");
        assert_eq!(o.callback_url, "https://app2.greenhouse.io/x/1");
        assert_eq!(o.first_name, None);
        let a = serde_json::to_value(normalize(&o, "i", "t", Catalogue::default(), v)).unwrap();
        assert!(a["requester"].is_null(), "no sent_by, no requester");
        assert_eq!(
            a["enrichment"]["missing"],
            json!(["job", "hiringTeam", "requester"])
        );
    }

    #[test]
    fn refuses_missing_fields_and_foreign_callbacks() {
        let mut v = order_json();
        v["url"] = json!("https://evil.example/x");
        assert!(parse_send_test(&v, false)
            .unwrap_err()
            .message
            .contains("`url`"));
        assert!(parse_send_test(&v, true).is_ok());
        for (path, field) in [("partner_test_id", "partner_test_id"), ("url", "url")] {
            let mut v = order_json();
            v.as_object_mut().unwrap().remove(path);
            let e = parse_send_test(&v, false).unwrap_err();
            assert_eq!(e.status, 422);
            assert!(e.message.contains(field));
        }
        let mut v = order_json();
        v["candidate"].as_object_mut().unwrap().remove("email");
        assert!(parse_send_test(&v, false)
            .unwrap_err()
            .message
            .contains("candidate.email"));
    }

    #[test]
    fn profile_url_ids() {
        assert_eq!(
            profile_ids("https://app4.greenhouse.io/people/1?application_id=2"),
            (Some("1".into()), Some("2".into()))
        );
        assert_eq!(profile_ids("not a url"), (None, None));
        assert_eq!(
            profile_ids("https://app.greenhouse.io/people/"),
            (None, None)
        );
    }
}
