//! The normalized assessment record (README "Webhooks you receive") and the order context ATSs
//! send with it (README "Webhooks you receive", the context table; "Order enrichment").

use serde::{Deserialize, Serialize};

use super::{AssessmentPackage, Provider, Status};

/// The normalized assessment (README "Webhooks you receive"), as carried in
/// `eventData.candidateAssessment`. Every key is always present (null when unknown), like the seeds
/// vendors already parse.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CandidateAssessment {
    pub id: String,
    pub application_id: Option<String>,
    pub assessment_package: AssessmentPackage,
    pub callback_url: Option<String>,
    pub candidate: Candidate,
    pub job_id: Option<String>,
    /// The job the order is for (README "Webhooks you receive"); its `id` equals `job_id`.
    #[serde(default)]
    pub job: Option<serde_json::Value>,
    /// People on the job's hiring team the ATS named (README "Webhooks you receive").
    #[serde(default)]
    pub hiring_team: Option<serde_json::Value>,
    /// Who asked for the assessment in the ATS (README "Webhooks you receive").
    #[serde(default)]
    pub requester: Option<serde_json::Value>,
    /// The ATS's custom fields, keyed by the ATS's field key (README "Webhooks you receive").
    #[serde(default)]
    pub custom_fields: Option<serde_json::Value>,
    /// Whether the record was completed from another source than the order (README "Webhooks you
    /// receive"); null when the provider has no such step.
    #[serde(default)]
    pub enrichment: Option<serde_json::Value>,
    pub meta_data: Option<serde_json::Value>,
    pub origin_data: serde_json::Value,
    pub status: Status,
    pub provider: Provider,
    pub tenant_id: String,
    /// `{"at": RFC 3339, "reason": "request"|"retention"}` once the candidate's personal
    /// data was erased or purged (README "Personal data"); absent before. It stays through
    /// every later change of the record (cancel, result, retry).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub personal_data_erased: Option<serde_json::Value>,
}

/// One of the order-context values (`Job`, `[TeamMember]`, `Requester`, custom fields,
/// `Enrichment`) as the JSON `CandidateAssessment` holds it. The context types are only ever
/// written, so they derive `Serialize` alone; stored records read them back as JSON, which
/// keeps a deserializer per type out of the wasm.
pub fn context<T: Serialize>(v: T) -> serde_json::Value {
    serde_json::to_value(v).unwrap_or(serde_json::Value::Null)
}

/// `candidateAssessment.job` (README "Webhooks you receive"): every key present, null when the ATS
/// did not say.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Job {
    pub id: Option<String>,
    pub name: Option<String>,
    pub requisition_id: Option<String>,
    /// The job's page in the ATS.
    pub url: Option<String>,
    pub locations: Option<Vec<Location>>,
    /// Department names.
    pub departments: Option<Vec<String>>,
}

/// A place a job is at: a display name and, when the ATS has one, a postal address.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Location {
    pub name: Option<String>,
    pub address: Option<String>,
}

/// One `hiringTeam` entry (README "Webhooks you receive").
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TeamMember {
    pub id: Option<String>,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub email: Option<String>,
    pub role: TeamRole,
}

/// A hiring-team role (README "Webhooks you receive"); ATS-specific roles map to the nearest one,
/// else `OTHER`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum TeamRole {
    HiringManager,
    Recruiter,
    Coordinator,
    Sourcer,
    Other,
}

impl TeamRole {
    /// An ATS's free-text role (`"Hiring Manager"`, `"recruiter"`, `"Recruiting Coordinator"`…).
    pub fn from_label(label: &str) -> TeamRole {
        let l = label.to_ascii_lowercase().replace(['_', '-'], " ");
        if l.contains("hiring manager") {
            TeamRole::HiringManager
        } else if l.contains("coordinator") {
            TeamRole::Coordinator
        } else if l.contains("sourcer") {
            TeamRole::Sourcer
        } else if l.contains("recruiter") {
            TeamRole::Recruiter
        } else {
            TeamRole::Other
        }
    }
}

/// `candidateAssessment.requester` (README "Webhooks you receive"): the ATS user who sent the
/// assessment.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Requester {
    pub id: Option<String>,
    pub name: Option<String>,
    pub email: Option<String>,
}

/// One `customFields` value (README "Webhooks you receive"): the ATS's label and type, and the
/// value as the ATS sent it (any JSON).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CustomField {
    pub label: Option<String>,
    #[serde(rename = "type")]
    pub kind: Option<String>,
    pub value: serde_json::Value,
}

/// `candidateAssessment.enrichment` (README "Webhooks you receive").
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Enrichment {
    pub status: EnrichmentStatus,
    /// What could not be filled (e.g. `"job"`, `"hiringTeam"`).
    pub missing: Vec<String>,
    /// Why, in words, when something went wrong.
    pub error: Option<String>,
}

/// How complete `candidateAssessment` is beyond the order itself (README "Webhooks you
/// receive"). Read back too, so a consumer of the crate can match on a stored record's status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EnrichmentStatus {
    Complete,
    Partial,
    Failed,
    NotConfigured,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Candidate {
    pub emails: Option<Vec<Email>>,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub id: Option<String>,
    pub links: Option<Vec<String>>,
    pub location: Option<String>,
    pub phones: Option<Vec<Phone>>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Email {
    pub email: String,
    #[serde(rename = "type")]
    pub kind: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Phone {
    #[serde(rename = "phoneNumber")]
    pub phone_number: String,
    #[serde(rename = "type")]
    pub kind: String,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn records_stored_before_the_context_keys_still_load() {
        let old = json!({"id":"ats_ass_1","applicationId":null,"assessmentPackage":{"id":"p","name":null,"description":null,"metaData":null,"type":null},"callbackUrl":null,"candidate":{"emails":null,"firstName":null,"lastName":null,"id":null,"links":null,"location":null,"phones":null},"jobId":null,"metaData":null,"originData":{},"status":"PENDING","provider":null,"tenantId":"acme"});
        let mut old = old;
        old["provider"] = json!(Provider::all().next().unwrap().as_str());
        let a: CandidateAssessment = serde_json::from_value(old).unwrap();
        assert_eq!(a.job, None);
        let out = serde_json::to_value(&a).unwrap();
        for k in [
            "job",
            "hiringTeam",
            "requester",
            "customFields",
            "enrichment",
        ] {
            assert_eq!(out.get(k), Some(&serde_json::Value::Null), "{k}");
        }
    }

    #[test]
    fn team_roles_from_ats_labels() {
        assert_eq!(
            TeamRole::from_label("Hiring Manager"),
            TeamRole::HiringManager
        );
        assert_eq!(
            TeamRole::from_label("hiring_manager"),
            TeamRole::HiringManager
        );
        assert_eq!(TeamRole::from_label("Recruiter"), TeamRole::Recruiter);
        assert_eq!(
            TeamRole::from_label("Recruiting Coordinator"),
            TeamRole::Coordinator
        );
        assert_eq!(TeamRole::from_label("Sourcer"), TeamRole::Sourcer);
        assert_eq!(TeamRole::from_label("Interviewer"), TeamRole::Other);
    }
}
