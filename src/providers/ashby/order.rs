//! Ashby's `assessment.start` and `assessment.cancel` bodies (Ashby's Assessment Partner API
//! docs): parsed, with 422 `{"message"}` naming the missing field, and normalized.

use super::*;

/// A validated `assessment.start`.
#[derive(Debug, Clone, PartialEq)]
pub struct Start {
    pub assessment_type_id: String,
    pub candidate_id: String,
    pub email: String,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub profile_url: Option<String>,
    pub application_id: String,
    pub application_status: Option<String>,
    pub job_id: Option<String>,
    pub job_name: Option<String>,
    pub req_id: Option<String>,
    pub job_url: Option<String>,
    pub hiring_team: Option<Value>,
}

impl Start {
    /// Idempotency key: one active assessment per application and assessment type.
    pub fn idempotency_key(&self) -> String {
        format!("{}\u{1f}{}", self.application_id, self.assessment_type_id)
    }
}

/// A 422 in Ashby's shape whose message names the field in words and in JSON terms.
pub(super) fn missing(what: &str, field: &str) -> ApiError {
    let mut e = ApiError::new(
        422,
        code::INVALID_FIELD,
        format!("The assessment could not be started: {what} is missing (`{field}`)."),
    );
    e.shape = ErrorShape::ValidationMessage;
    e
}

pub(super) fn need(v: &Value, path: &[&str], what: &str) -> ApiResult<String> {
    optional(v, path).ok_or_else(|| missing(what, &path.join(".")))
}

pub fn parse_start(v: &Value) -> ApiResult<Start> {
    if !v.is_object() {
        return Err(ApiError::invalid_field("body", "must be a JSON object")
            .shaped(ErrorShape::ValidationMessage));
    }
    let email = need(v, &["candidate", "email"], "the candidate's email address")?;
    if !email.contains('@') {
        let mut e = ApiError::new(
            422,
            code::INVALID_FIELD,
            format!("The candidate's email address `{email}` is not valid (`candidate.email`)."),
        );
        e.shape = ErrorShape::ValidationMessage;
        return Err(e);
    }
    Ok(Start {
        assessment_type_id: need(v, &["assessment_type_id"], "the assessment type")?,
        candidate_id: need(v, &["candidate", "ashby_id"], "the candidate's Ashby id")?,
        email,
        first_name: optional(v, &["candidate", "first_name"]),
        last_name: optional(v, &["candidate", "last_name"]),
        profile_url: optional(v, &["candidate", "ashby_profile_url"]),
        application_id: need(
            v,
            &["application", "ashby_id"],
            "the application's Ashby id",
        )?,
        application_status: optional(v, &["application", "status"]),
        job_id: optional(v, &["job", "ashby_id"]),
        job_name: optional(v, &["job", "name"]),
        req_id: optional(v, &["job", "req_id"]),
        job_url: optional(v, &["job", "ashby_job_url"]),
        hiring_team: v
            .get("job")
            .and_then(|j| j.get("hiringTeam"))
            .filter(|h| h.is_array())
            .cloned(),
    })
}

/// `assessment.cancel` → the assessment id.
pub fn parse_cancel(v: &Value) -> ApiResult<String> {
    if !v.is_object() {
        return Err(ApiError::invalid_field("body", "must be a JSON object")
            .shaped(ErrorShape::ValidationMessage));
    }
    scalar_string(v.get("assessment_id"))
        .filter(|s| !s.is_empty())
        .ok_or_else(|| {
            let mut e = ApiError::new(
                422,
                code::INVALID_FIELD,
                "The assessment could not be cancelled: the assessment id is missing (`assessment_id`).",
            );
            e.shape = ErrorShape::ValidationMessage;
            e
        })
}

pub fn normalize(
    s: &Start,
    id: &str,
    tenant: &str,
    catalogue: Catalogue<'_>,
    origin: Value,
) -> CandidateAssessment {
    CandidateAssessment {
        id: id.to_string(),
        application_id: Some(s.application_id.clone()),
        assessment_package: AssessmentPackage::from_catalogue(&s.assessment_type_id, catalogue),
        callback_url: None,
        candidate: Candidate {
            emails: Some(vec![Email {
                email: s.email.clone(),
                kind: "PRIMARY".into(),
            }]),
            first_name: s.first_name.clone(),
            last_name: s.last_name.clone(),
            id: Some(s.candidate_id.clone()),
            links: s.profile_url.clone().map(|u| vec![u]),
            location: None,
            phones: None,
        },
        job_id: s.job_id.clone(),
        job: (s.job_id.is_some() || s.job_name.is_some()).then(|| {
            context(Job {
                id: s.job_id.clone(),
                name: s.job_name.clone(),
                requisition_id: s.req_id.clone(),
                url: s.job_url.clone(),
                locations: None,
                departments: None,
            })
        }),
        hiring_team: s.hiring_team.as_ref().map(|t| context(hiring_team(t))),
        requester: None,
        custom_fields: None,
        enrichment: None,
        meta_data: compact(json!({
            "jobName": s.job_name,
            "jobReqId": s.req_id,
            "jobUrl": s.job_url,
            "applicationStatus": s.application_status,
            "hiringTeam": s.hiring_team,
        })),
        origin_data: origin,
        status: Status::NotSpecified,
        provider: Provider::of(&SPEC),
        tenant_id: tenant.to_string(),
        personal_data_erased: None,
    }
}

/// `job.hiringTeam[{userId, firstName, lastName, email, role}]` → `hiringTeam` (README "Webhooks you receive");
/// entries that are not objects are skipped, Ashby's role labels map to the nearest role.
pub(super) fn hiring_team(team: &Value) -> Vec<TeamMember> {
    team.as_array()
        .into_iter()
        .flatten()
        .filter(|m| m.is_object())
        .map(|m| TeamMember {
            id: optional(m, &["userId"]),
            first_name: optional(m, &["firstName"]),
            last_name: optional(m, &["lastName"]),
            email: optional(m, &["email"]),
            role: optional(m, &["role"])
                .map(|r| TeamRole::from_label(&r))
                .unwrap_or(TeamRole::Other),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::OrderKind;
    use crate::providers::ashby::test_support::*;

    #[test]
    fn normalizes_start() {
        let v = start_json();
        let s = parse_start(&v).unwrap();
        let cat = vec![Package {
            id: "pkg_456".into(),
            name: "Frontend".into(),
            description: Some("Skills".into()),
            package_type: Some("SKILLS_TEST".into()),
            kind: Some(OrderKind::ReferenceCheck),
            criteria: vec![],
        }];
        let catalogue = Catalogue {
            packages: Some(&cat),
            default_kind: OrderKind::Assessment,
        };
        let a = normalize(&s, "ats_ass_1", "acme", catalogue, v.clone());
        let out = serde_json::to_value(&a).unwrap();
        assert_eq!(out["applicationId"], "app_123abc");
        assert_eq!(out["jobId"], "job_456def");
        assert_eq!(out["candidate"]["id"], "cand_789xyz");
        assert_eq!(
            out["candidate"]["emails"][0],
            json!({"email": "alex@example.com", "type": "PRIMARY"})
        );
        assert_eq!(
            out["candidate"]["links"][0],
            "https://app.ashbyhq.com/candidates/cand_789xyz"
        );
        assert_eq!(out["assessmentPackage"]["name"], "Frontend");
        assert_eq!(out["assessmentPackage"]["description"], "Skills");
        assert_eq!(out["assessmentPackage"]["type"], "SKILLS_TEST");
        assert_eq!(out["assessmentPackage"]["kind"], "reference_check");
        assert_eq!(out["metaData"]["jobName"], "Senior Frontend Engineer");
        assert!(out["callbackUrl"].is_null());
        assert_eq!(out["originData"], v);
        assert_eq!(out["provider"], "ashby");
        assert_eq!(
            out["job"],
            json!({"id": "job_456def", "name": "Senior Frontend Engineer", "requisitionId": "R-7", "url": "https://app.ashbyhq.com/jobs/job_456def", "locations": null, "departments": null})
        );
        assert_eq!(
            out["hiringTeam"],
            json!([{"id": "u1", "firstName": "Sam", "lastName": "Lee", "email": "sam@example.com", "role": "RECRUITER"}])
        );
        for k in ["requester", "customFields", "enrichment"] {
            assert!(out[k].is_null(), "{k} is present and null");
            assert!(out.as_object().unwrap().contains_key(k), "{k} is present");
        }
        assert_eq!(s.idempotency_key(), "app_123abc\u{1f}pkg_456");
    }

    #[test]
    fn validation_messages_name_the_field_in_ashby_shape() {
        for (path, field) in [
            (vec!["candidate", "email"], "candidate.email"),
            (vec!["candidate", "ashby_id"], "candidate.ashby_id"),
            (vec!["application", "ashby_id"], "application.ashby_id"),
            (vec!["assessment_type_id"], "assessment_type_id"),
        ] {
            let mut v = start_json();
            let (last, parents) = path.split_last().unwrap();
            let mut cur = &mut v;
            for p in parents {
                cur = cur.get_mut(*p).unwrap();
            }
            cur.as_object_mut().unwrap().remove(*last);
            let e = parse_start(&v).unwrap_err();
            assert_eq!(e.status, 422);
            let body: Value = serde_json::from_str(&e.body()).unwrap();
            assert!(
                body["message"].as_str().unwrap().contains(field),
                "{}",
                e.body()
            );
        }
        assert_eq!(parse_cancel(&json!({"assessment_id": "x"})).unwrap(), "x");
        assert!(parse_cancel(&json!({}))
            .unwrap_err()
            .body()
            .contains("assessment_id"));
    }
}
