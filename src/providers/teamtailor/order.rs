//! A partner event's order (`POST {BASE_URL}/webhook`, Teamtailor's "Webhooks" doc): parsed,
//! checked and normalized into a `CandidateAssessment`.

use super::*;

/// A partner result's `update-url`: `https://` on one of [`API_HOSTS`] exactly, default port,
/// no credentials (any target [`targets::check_target`] accepts when insecure targets are
/// allowed, for local tests).
pub fn check_update_url(raw: &str, allow_insecure: bool) -> Result<WebUrl, Refusal> {
    let url = targets::check_target(raw, allow_insecure)?;
    if allow_insecure {
        return Ok(url);
    }
    let on_api_host = matches!(url.host(), Some(Host::Domain(d)) if targets::host_allowed(d, SPEC.outbound_hosts));
    if url.scheme() == "https" && on_api_host && url.port().is_none() {
        Ok(url)
    } else {
        let hosts: Vec<&str> = SPEC
            .outbound_hosts
            .iter()
            .map(|h| match h {
                AllowedHost::Exact(h) | AllowedHost::SubdomainOf(h) => *h,
            })
            .collect();
        Err(format!(
            "must be an https URL on {} (Teamtailor's partner API)",
            hosts.join(", ")
        ))
    }
}

/// A validated order (`POST {BASE_URL}/webhook`, Teamtailor's "Webhooks" doc): what the
/// bridge needs from `partner-event`; everything else is read from the raw body when
/// normalizing.
#[derive(Debug, Clone, PartialEq)]
pub struct Order {
    /// `partner-event.id`, which the optional signature covers.
    pub event_id: Option<String>,
    /// `partner-event.partner-result.id`: the idempotency key of the order.
    pub result_id: String,
    /// `partner-event.partner-result.update-url`, checked by [`check_update_url`].
    pub update_url: String,
    /// `partner-event.webhook-data.test`: the package the recruiter picked in [`config`].
    pub test: String,
    pub email: String,
}

/// Parse a webhook body. Missing or invalid fields answer `422` naming the field in
/// Teamtailor's terms and saying what the recruiter can do about it.
pub fn parse_order(v: &Value, allow_insecure: bool) -> ApiResult<Order> {
    let event = v
        .get("partner-event")
        .filter(|e| e.is_object())
        .ok_or_else(|| ApiError::invalid_field("partner-event", "is required (an object)"))?;
    let result_id = optional(event, &["partner-result", "id"])
        .ok_or_else(|| ApiError::invalid_field("partner-event.partner-result.id", "is required"))?;
    let url = optional(event, &["partner-result", "update-url"]).ok_or_else(|| {
        ApiError::invalid_field("partner-event.partner-result.update-url", "is required")
    })?;
    let update_url = check_update_url(&url, allow_insecure)
        .map_err(|why| ApiError::invalid_field("partner-event.partner-result.update-url", &why))?
        .to_string();
    let email = optional(event, &["candidate", "email"]).ok_or_else(|| {
        ApiError::invalid_field(
            "partner-event.candidate.email",
            "is required: the candidate has no email address in Teamtailor, so the test cannot be sent; add one and run the trigger again",
        )
    })?;
    if !email.contains('@') || email.len() > 320 {
        return Err(ApiError::invalid_field(
            "partner-event.candidate.email",
            "must be an email address",
        ));
    }
    let test = optional(event, &["webhook-data", "test"]).ok_or_else(|| {
        ApiError::invalid_field(
            "partner-event.webhook-data.test",
            "is required: no test was picked for this trigger; edit the trigger in Teamtailor and pick a test",
        )
    })?;
    Ok(Order {
        event_id: optional(event, &["id"]),
        result_id,
        update_url,
        test,
        email,
    })
}

/// The normalized assessment for an order (README "Webhooks you receive"): the candidate,
/// the job (title, locations), the recruiter as hiring team, `triggered-by` as requester,
/// custom fields, and the rest (stage, tags, questions, company, form values) in `metaData`.
pub fn normalize(
    o: &Order,
    id: &str,
    tenant: &str,
    catalogue: Catalogue<'_>,
    origin: Value,
) -> CandidateAssessment {
    let event = origin.get("partner-event").cloned().unwrap_or(Value::Null);
    let cand = event.get("candidate").cloned().unwrap_or(Value::Null);
    let job_v = cand.get("job").filter(|j| j.is_object());
    let locations: Option<Vec<Location>> =
        cand.get("locations").and_then(Value::as_array).map(|a| {
            a.iter()
                .filter(|l| l.is_object())
                .take(100)
                .map(|l| Location {
                    name: optional(l, &["name"]),
                    address: optional(l, &["address"]),
                })
                .collect()
        });
    let job = job_v.map(|j| Job {
        id: optional(j, &["id"]),
        name: optional(j, &["title"]),
        requisition_id: None,
        url: None,
        locations: locations.clone(),
        departments: None,
    });
    let recruiter = cand
        .get("recruiter")
        .filter(|r| optional(r, &["name"]).is_some() || optional(r, &["email"]).is_some());
    let hiring_team = recruiter.map(|r| {
        let (first_name, last_name) = split_name(optional(r, &["name"]));
        vec![TeamMember {
            id: None,
            first_name,
            last_name,
            email: optional(r, &["email"]),
            role: TeamRole::Recruiter,
        }]
    });
    let requester = job_v
        .and_then(|j| j.get("triggered-by"))
        .filter(|t| t.is_object())
        .map(|t| Requester {
            id: optional(t, &["id"]),
            name: optional(t, &["name"]),
            email: optional(t, &["email"]),
        });
    let mut fields = std::collections::BTreeMap::new();
    custom_fields(cand.get("custom-fields"), "", &mut fields);
    custom_fields(
        job_v.and_then(|j| j.get("custom-fields")),
        "job.",
        &mut fields,
    );
    let resume = optional(&cand, &["resume", "url"]);
    let company = event.get("company").or_else(|| origin.get("company"));
    CandidateAssessment {
        id: id.to_string(),
        application_id: None,
        assessment_package: AssessmentPackage::from_catalogue(&o.test, catalogue),
        callback_url: Some(o.update_url.clone()),
        candidate: Candidate {
            emails: Some(vec![Email {
                email: o.email.clone(),
                kind: "PRIMARY".into(),
            }]),
            first_name: optional(&cand, &["first-name"]),
            last_name: optional(&cand, &["last-name"]),
            id: optional(&cand, &["id"]),
            links: resume.map(|u| vec![u]),
            location: None,
            phones: optional(&cand, &["phone"]).map(|p| {
                vec![Phone {
                    phone_number: p,
                    kind: "NOT_SPECIFIED".into(),
                }]
            }),
        },
        job_id: job.as_ref().and_then(|j| j.id.clone()),
        job: job.map(context),
        hiring_team: hiring_team.map(context),
        requester: requester.map(context),
        custom_fields: (!fields.is_empty()).then(|| context(fields)),
        enrichment: None,
        meta_data: compact(json!({
            "partnerEventId": o.event_id,
            "partnerResultId": o.result_id,
            "webhookData": event.get("webhook-data"),
            "candidateUuid": optional(&cand, &["uuid"]),
            "candidateTags": cand.get("tags").filter(|t| t.is_array()),
            "jobStage": job_v.and_then(|j| optional(j, &["stage"])),
            "jobStageId": job_v.and_then(|j| optional(j, &["stage-id"])),
            "jobTags": job_v.and_then(|j| j.get("tags")).filter(|t| t.is_array()),
            "triggerId": job_v.and_then(|j| optional(j, &["trigger-id"])),
            "questions": cand.get("questions").filter(|q| q.is_array()),
            "company": company.filter(|c| c.is_object()).and_then(|c| compact(json!({
                "uuid": optional(c, &["uuid"]),
                "name": optional(c, &["name"]),
                "url": optional(c, &["url"]),
            }))),
        })),
        origin_data: origin,
        status: Status::NotSpecified,
        provider: Provider::of(&SPEC),
        tenant_id: tenant.to_string(),
        personal_data_erased: None,
    }
}

/// `"Edison Kuhn"` → (`Edison`, `Kuhn`): split at the first space; one word is a first name.
pub(super) fn split_name(name: Option<String>) -> (Option<String>, Option<String>) {
    match name {
        None => (None, None),
        Some(n) => match n.split_once(char::is_whitespace) {
            Some((first, last)) if !last.trim().is_empty() => {
                (Some(first.to_string()), Some(last.trim().to_string()))
            }
            _ => (Some(n), None),
        },
    }
}

/// Teamtailor's `custom-fields: [{"<key>": {"value", "type"}}, …]` into `customFields`
/// (keys prefixed with `prefix`); at most 200, entries of another shape skipped.
pub(super) fn custom_fields(
    list: Option<&Value>,
    prefix: &str,
    out: &mut std::collections::BTreeMap<String, CustomField>,
) {
    let Some(items) = list.and_then(Value::as_array) else {
        return;
    };
    for item in items.iter().filter_map(Value::as_object) {
        for (key, field) in item {
            if out.len() >= 200 || key.len() > 200 {
                return;
            }
            if let Some(f) = field.as_object().filter(|f| f.contains_key("value")) {
                out.insert(
                    format!("{prefix}{key}"),
                    CustomField {
                        label: None,
                        kind: f.get("type").and_then(Value::as_str).map(String::from),
                        value: f["value"].clone(),
                    },
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::providers::teamtailor::test_support::*;

    #[test]
    fn update_urls_only_on_teamtailor_api_hosts() {
        for ok in [
            "https://api.teamtailor.com/partner/v1/partner-results/1a2b",
            "https://api.na.teamtailor.com/partner/v1/partner-results/1a2b",
            "https://api.au.teamtailor.com/partner/v1/partner-results/1a2b",
            "https://API.Teamtailor.com/partner/v1/partner-results/1a2b",
        ] {
            assert!(check_update_url(ok, false).is_ok(), "{ok}");
        }
        for bad in [
            "http://api.teamtailor.com/partner/v1/partner-results/1",
            "https://api.teamtailor.com:8443/partner/v1/partner-results/1",
            "https://user:pw@api.teamtailor.com/partner/v1/partner-results/1",
            "https://api.teamtailor.com@evil.example/x",
            "https://api.teamtailor.com.evil.example/x",
            "https://evil.example/api.teamtailor.com",
            "https://teamtailor.com/partner/v1/partner-results/1",
            "https://app.teamtailor.com/partner/v1/partner-results/1",
            "https://api.teamtailor.com./partner/v1/partner-results/1",
            "https://127.0.0.1/partner/v1/partner-results/1",
            "not a url",
        ] {
            assert!(check_update_url(bad, false).is_err(), "{bad}");
        }
        assert!(check_update_url("http://127.0.0.1:9/partner-results/1", true).is_ok());
        assert!(check_update_url("ftp://127.0.0.1/x", true).is_err());
    }

    #[test]
    fn parses_and_normalizes_the_fixture_order() {
        let v = order_json();
        let o = parse_order(&v, false).unwrap();
        assert_eq!(o.test, "pkg_backend");
        assert_eq!(o.email, "maja.lind@example.com");
        let cat = vec![Package {
            id: "pkg_backend".into(),
            name: "Backend take-home".into(),
            description: None,
            package_type: Some("CODE".into()),
            kind: None,
            criteria: vec![],
        }];
        let catalogue = Catalogue {
            packages: Some(&cat),
            default_kind: crate::model::OrderKind::Assessment,
        };
        let a = normalize(&o, "ats_ass_1", "acme", catalogue, v.clone());
        let out = serde_json::to_value(&a).unwrap();
        let expected: Value = serde_json::from_str(include_str!(
            "../../../fixtures/teamtailor/record.new.expected.json"
        ))
        .unwrap();
        let mut expected = expected["eventData"]["candidateAssessment"].clone();
        expected["id"] = json!("ats_ass_1");
        expected["tenantId"] = json!("acme");
        expected["callbackUrl"] = v["partner-event"]["partner-result"]["update-url"].clone();
        expected["metaData"]["partnerEventId"] = v["partner-event"]["id"].clone();
        expected["metaData"]["partnerResultId"] =
            v["partner-event"]["partner-result"]["id"].clone();
        expected["originData"] = v.clone();
        expected["status"] = json!("NOT_SPECIFIED");
        assert_eq!(out, expected);
    }

    #[test]
    fn order_refusals_name_the_field() {
        let cases: Vec<(&[&str], &str)> = vec![
            (&["partner-event"], "`partner-event`"),
            (
                &["partner-event", "partner-result", "id"],
                "partner-result.id",
            ),
            (
                &["partner-event", "partner-result", "update-url"],
                "update-url",
            ),
            (&["partner-event", "candidate", "email"], "candidate.email"),
            (
                &["partner-event", "webhook-data", "test"],
                "webhook-data.test",
            ),
        ];
        for (path, field) in cases {
            let mut v = order_json();
            let (last, parents) = path.split_last().unwrap();
            let mut cur = &mut v;
            for p in parents {
                cur = cur.get_mut(*p).unwrap();
            }
            cur.as_object_mut().unwrap().remove(*last);
            let e = parse_order(&v, false).unwrap_err();
            assert_eq!(e.status, 422, "{path:?}");
            assert!(e.message.contains(field), "{path:?}: {}", e.message);
        }
        let mut v = order_json();
        v["partner-event"]["partner-result"]["update-url"] = json!("https://evil.example/x");
        assert!(parse_order(&v, false)
            .unwrap_err()
            .message
            .contains("api.teamtailor.com"));
        v["partner-event"]["candidate"]["email"] = json!("nobody");
        assert_eq!(parse_order(&v, true).unwrap_err().status, 422);
        assert_eq!(parse_order(&json!([1]), false).unwrap_err().status, 422);
        // A numeric option id is a test id too.
        let mut v = order_json();
        v["partner-event"]["webhook-data"]["test"] = json!(3);
        assert_eq!(parse_order(&v, false).unwrap().test, "3");
    }

    #[test]
    fn sparse_orders_leave_context_null() {
        let v = json!({"partner-event": {"webhook-data": {"test": "p"}, "partner-result": {"id": "r1", "update-url": "https://api.teamtailor.com/partner/v1/partner-results/r1"}, "candidate": {"email": "a@b.c", "recruiter": {"name": null}, "custom-fields": [{"x": 1}, "y"]}}});
        let o = parse_order(&v, false).unwrap();
        let out = serde_json::to_value(normalize(&o, "i", "t", NO_CATALOGUE, v)).unwrap();
        for k in [
            "job",
            "jobId",
            "hiringTeam",
            "requester",
            "customFields",
            "enrichment",
        ] {
            assert!(out[k].is_null(), "{k}: {}", out[k]);
        }
        assert_eq!(out["assessmentPackage"]["id"], "p");
        assert!(out["assessmentPackage"]["name"].is_null());
        assert_eq!(split_name(Some("Cher".into())), (Some("Cher".into()), None));
    }
}
