//! Domain types shared by the admin API, the providers and the delivery engine.
//! Pure data + parsing: no `worker` runtime here, so everything is unit-testable on the host.

use serde::{Deserialize, Serialize};

pub use crate::providers::Provider;

/// Assessment status (SPEC §7).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Status {
    NotSpecified,
    Pending,
    Started,
    InProgress,
    Completed,
    Rejected,
    Expired,
    Cancelled,
}

impl Status {
    pub const ALL: [Status; 8] = [
        Status::NotSpecified,
        Status::Pending,
        Status::Started,
        Status::InProgress,
        Status::Completed,
        Status::Rejected,
        Status::Expired,
        Status::Cancelled,
    ];
    pub fn as_str(self) -> &'static str {
        match self {
            Status::NotSpecified => "NOT_SPECIFIED",
            Status::Pending => "PENDING",
            Status::Started => "STARTED",
            Status::InProgress => "IN_PROGRESS",
            Status::Completed => "COMPLETED",
            Status::Rejected => "REJECTED",
            Status::Expired => "EXPIRED",
            Status::Cancelled => "CANCELLED",
        }
    }
    pub fn parse(s: &str) -> Option<Status> {
        Status::ALL.into_iter().find(|st| st.as_str() == s)
    }
    /// Final statuses accept no further result (SPEC §9).
    pub fn is_final(self) -> bool {
        matches!(
            self,
            Status::Completed | Status::Rejected | Status::Expired | Status::Cancelled
        )
    }
}

/// What an order asks the vendor for (SPEC §12; README "Background-check and reference-check
/// vendors"). Some ATSs' partner APIs name kinds with the same three words (see the provider
/// files).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OrderKind {
    /// A test, interview or other assessment (the default).
    #[default]
    Assessment,
    BackgroundCheck,
    ReferenceCheck,
}

impl OrderKind {
    pub const ALL: [OrderKind; 3] = [
        OrderKind::Assessment,
        OrderKind::BackgroundCheck,
        OrderKind::ReferenceCheck,
    ];
    /// The wire word: `assessment`, `background_check`, `reference_check`.
    pub fn as_str(self) -> &'static str {
        match self {
            OrderKind::Assessment => "assessment",
            OrderKind::BackgroundCheck => "background_check",
            OrderKind::ReferenceCheck => "reference_check",
        }
    }
    pub fn parse(s: &str) -> Option<OrderKind> {
        OrderKind::ALL.into_iter().find(|k| k.as_str() == s)
    }
    /// The event envelope's `syncDataType`: reference checks count as background checks.
    pub fn sync_data_type(self) -> &'static str {
        match self {
            OrderKind::Assessment => "ats_assessments",
            OrderKind::BackgroundCheck | OrderKind::ReferenceCheck => "ats_background_checks",
        }
    }
}

/// The message for an invalid kind, naming the accepted words.
pub const KIND_WORDS: &str = "must be one of assessment, background_check, reference_check";

/// Parse an optional kind (absent or null → None).
pub fn opt_kind(v: Option<&serde_json::Value>) -> Result<Option<OrderKind>, &'static str> {
    match v {
        None | Some(serde_json::Value::Null) => Ok(None),
        Some(serde_json::Value::String(s)) => OrderKind::parse(s).map(Some).ok_or(KIND_WORDS),
        Some(_) => Err(KIND_WORDS),
    }
}

/// One package the vendor offers (SPEC §5 `PUT /packages`, §12 kinds).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Package {
    pub id: String,
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The vendor's free-form type (e.g. `CODE`), passed through as `assessmentPackage.type`.
    #[serde(default, rename = "type", skip_serializing_if = "Option::is_none")]
    pub package_type: Option<String>,
    /// What the package orders; None: the tenant's `default_kind` applies.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<OrderKind>,
    /// What the package scores separately (README "Teamtailor": offered to recruiters as
    /// Teamtailor's `assessment-criteria`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub criteria: Vec<Criterion>,
}

/// One thing a package scores separately: `{"id","label"}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Criterion {
    pub id: String,
    pub label: String,
}

impl Package {
    /// The package's kind, or `default` when it names none.
    pub fn kind_or(&self, default: OrderKind) -> OrderKind {
        self.kind.unwrap_or(default)
    }
}

/// Parse and validate a package list (`[{"id","name","description"?,"type"?,"kind"?}]`). Used
/// for the admin `PUT` and for the vendor's `packages_url` answer, so both get the same checks.
/// Errors name the offending element and field, e.g. "`[2].kind` must be one of …".
pub fn parse_packages(v: &serde_json::Value) -> Result<Vec<Package>, String> {
    let arr = v
        .as_array()
        .ok_or_else(|| "the body must be a JSON array of packages".to_string())?;
    if arr.len() > 1000 {
        return Err("at most 1000 packages are allowed".into());
    }
    let mut out = Vec::with_capacity(arr.len());
    let mut seen = std::collections::HashSet::new();
    for (i, p) in arr.iter().enumerate() {
        let obj = p
            .as_object()
            .ok_or_else(|| format!("`[{i}]` must be an object"))?;
        let id = scalar_string(obj.get("id"))
            .filter(|s| !s.is_empty() && s.len() <= 256)
            .ok_or_else(|| format!("`[{i}].id` is required (a non-empty string)"))?;
        let name = scalar_string(obj.get("name"))
            .filter(|s| !s.is_empty() && s.len() <= 512)
            .ok_or_else(|| format!("`[{i}].name` is required (a non-empty string)"))?;
        let description = opt_string(obj.get("description"))
            .map_err(|_| format!("`[{i}].description` must be a string"))?;
        let package_type =
            opt_string(obj.get("type")).map_err(|_| format!("`[{i}].type` must be a string"))?;
        let kind = opt_kind(obj.get("kind")).map_err(|m| format!("`[{i}].kind` {m}"))?;
        if !seen.insert(id.clone()) {
            return Err(format!("`[{i}].id` repeats the id `{id}`"));
        }
        let criteria =
            parse_criteria(obj.get("criteria")).map_err(|why| format!("`[{i}].criteria{why}"))?;
        out.push(Package {
            id,
            name,
            description,
            package_type,
            kind,
            criteria,
        });
    }
    Ok(out)
}

/// A package's optional `criteria: [{"id","label"}]` (at most 50, ids unique). The error
/// continues the field path (`[2].label` is required …).
fn parse_criteria(v: Option<&serde_json::Value>) -> Result<Vec<Criterion>, String> {
    let arr = match v {
        None | Some(serde_json::Value::Null) => return Ok(vec![]),
        Some(serde_json::Value::Array(a)) if a.len() <= 50 => a,
        Some(_) => {
            return Err("` must be an array of at most 50 `{\"id\",\"label\"}` objects".into())
        }
    };
    let mut seen = std::collections::HashSet::new();
    arr.iter()
        .enumerate()
        .map(|(j, c)| {
            let field = |k: &str| {
                scalar_string(c.get(k))
                    .filter(|s| !s.is_empty() && s.len() <= 256)
                    .ok_or_else(|| format!("[{j}].{k}` is required (a non-empty string)"))
            };
            let (id, label) = (field("id")?, field("label")?);
            if !seen.insert(id.clone()) {
                return Err(format!("[{j}].id` repeats the id `{id}`"));
            }
            Ok(Criterion { id, label })
        })
        .collect()
}

/// A string, or a number rendered as a string (providers once sent numeric ids).
pub fn scalar_string(v: Option<&serde_json::Value>) -> Option<String> {
    match v? {
        serde_json::Value::String(s) => Some(s.clone()),
        serde_json::Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// Absent or null → None; string → Some; anything else is an error.
pub fn opt_string(v: Option<&serde_json::Value>) -> Result<Option<String>, &'static str> {
    match v {
        None | Some(serde_json::Value::Null) => Ok(None),
        Some(serde_json::Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err("must be a string"),
    }
}

/// The normalized assessment (SPEC §7), as carried in `eventData.candidateAssessment`.
/// Every key is always present (null when unknown), like the seeds vendors already parse.
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
    /// Whether the record was completed from another source than the order (README "Webhooks you receive");
    /// null when the provider has no such step.
    #[serde(default)]
    pub enrichment: Option<serde_json::Value>,
    pub meta_data: Option<serde_json::Value>,
    pub origin_data: serde_json::Value,
    pub status: Status,
    pub provider: Provider,
    pub tenant_id: String,
}

/// One of the order-context values (`Job`, `[TeamMember]`, `Requester`, custom fields,
/// `Enrichment`) as the JSON `CandidateAssessment` holds it. The context types are only ever
/// written, so they derive `Serialize` alone; stored records read them back as JSON, which
/// keeps a deserializer per type out of the wasm.
pub fn context<T: Serialize>(v: T) -> serde_json::Value {
    serde_json::to_value(v).unwrap_or(serde_json::Value::Null)
}

/// `candidateAssessment.job` (README "Webhooks you receive"): every key present, null when the ATS did not say.
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

/// A hiring-team role (README "Webhooks you receive"); ATS-specific roles map to the nearest one, else `OTHER`.
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

/// `candidateAssessment.requester` (README "Webhooks you receive"): the ATS user who sent the assessment.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Requester {
    pub id: Option<String>,
    pub name: Option<String>,
    pub email: Option<String>,
}

/// One `customFields` value (README "Webhooks you receive"): the ATS's label and type, and the value as the ATS
/// sent it (any JSON).
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

/// `candidateAssessment.assessmentPackage` (SPEC §7, §12).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AssessmentPackage {
    pub id: Option<String>,
    pub name: Option<String>,
    pub description: Option<String>,
    pub meta_data: Option<serde_json::Value>,
    /// The vendor's free-form type from the catalogue.
    #[serde(rename = "type")]
    pub package_type: Option<String>,
    /// What was ordered. Records stored before kinds existed read as `assessment`.
    #[serde(default)]
    pub kind: OrderKind,
}

/// The tenant's packages as an order sees them: the list (None when its source failed) and
/// the kind of a package that names none or is not in the list (the tenant's `default_kind`).
/// `Catalogue::default()`: no list known, kind `assessment`.
#[derive(Debug, Clone, Copy, Default)]
pub struct Catalogue<'a> {
    pub packages: Option<&'a [Package]>,
    pub default_kind: OrderKind,
}

impl AssessmentPackage {
    /// The package `id` as ordered, named (and its kind taken) from the tenant's catalogue when
    /// it is known there; otherwise name and description are null and the kind is the default.
    pub fn from_catalogue(id: &str, catalogue: Catalogue<'_>) -> Self {
        let p = catalogue
            .packages
            .and_then(|c| c.iter().find(|p| p.id == id));
        AssessmentPackage {
            id: Some(id.to_string()),
            name: p.map(|p| p.name.clone()),
            description: p.and_then(|p| p.description.clone()),
            meta_data: None,
            package_type: p.and_then(|p| p.package_type.clone()),
            kind: p.map_or(catalogue.default_kind, |p| {
                p.kind_or(catalogue.default_kind)
            }),
        }
    }
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

/// A vendor's result for an assessment (SPEC §9 body), validated.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ResultUpdate {
    pub status: Status,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub score: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_score: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub result_url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub started_at: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub completed_at: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub summary: Option<String>,
    /// Flat object of primitives (ATSs show it as labels → values; see each provider's
    /// `Facts::result_fields`).
    #[serde(default, skip_serializing_if = "serde_json::Map::is_empty")]
    pub metadata: serde_json::Map<String, serde_json::Value>,
    /// Why it was cancelled/expired/rejected, when the vendor says (shown by the ATSs whose
    /// `Facts::result_fields` carry a reason).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Files the vendor wants the recruiter to see (README "Results": at most
    /// [`MAX_ATTACHMENTS`], https URLs); passed to the ATSs whose `Facts::attachments` allow
    /// them, reported as a pre-flight warning elsewhere.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub attachments: Vec<Attachment>,
}

/// One attachment of a result: an https `url` (at most 2048 characters) and a `description`
/// (at most 500 characters) shown next to it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Attachment {
    pub url: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

/// Most attachments one result may carry (README "Results").
pub const MAX_ATTACHMENTS: usize = 5;

/// Validate a result's `attachments` (422 `invalid_field` naming `attachments[i].url` etc.).
fn parse_attachments(
    v: Option<&serde_json::Value>,
) -> Result<Vec<Attachment>, crate::error::ApiError> {
    use crate::error::ApiError;
    use serde_json::Value;
    let items = match v {
        None | Some(Value::Null) => return Ok(Vec::new()),
        Some(Value::Array(a)) => a,
        Some(_) => return Err(ApiError::invalid_field("attachments", "must be an array")),
    };
    if items.len() > MAX_ATTACHMENTS {
        return Err(ApiError::invalid_field(
            "attachments",
            &format!("may hold at most {MAX_ATTACHMENTS} entries"),
        ));
    }
    let mut out = Vec::new();
    for (i, item) in items.iter().enumerate() {
        let field = |k: &str| format!("attachments[{i}].{k}");
        let o = item.as_object().ok_or_else(|| {
            ApiError::invalid_field(
                &format!("attachments[{i}]"),
                "must be an object {url, description}",
            )
        })?;
        if let Some(k) = o
            .keys()
            .find(|k| !["url", "description"].contains(&k.as_str()))
        {
            return Err(ApiError::invalid_field(&field(k), "is not a known field"));
        }
        let url = match o.get("url") {
            Some(Value::String(u)) if u.len() <= 2048 => match crate::weburl::WebUrl::parse(u) {
                Some(p) if p.scheme() == "https" && p.host().is_some() => u.clone(),
                _ => {
                    return Err(ApiError::invalid_field(
                        &field("url"),
                        "must be an https URL of at most 2048 characters",
                    ))
                }
            },
            Some(Value::String(_)) => {
                return Err(ApiError::invalid_field(
                    &field("url"),
                    "must be an https URL of at most 2048 characters",
                ))
            }
            _ => {
                return Err(ApiError::invalid_field(
                    &field("url"),
                    "is required (an https URL)",
                ))
            }
        };
        let description = match o.get("description") {
            None | Some(Value::Null) => None,
            Some(Value::String(d)) if d.len() <= 500 => Some(d.clone()),
            Some(_) => {
                return Err(ApiError::invalid_field(
                    &field("description"),
                    "must be a string of at most 500 characters",
                ))
            }
        };
        out.push(Attachment { url, description });
    }
    Ok(out)
}

/// Validate a `POST …/result` body.
pub fn parse_result(v: &serde_json::Value) -> Result<ResultUpdate, crate::error::ApiError> {
    use crate::error::ApiError;
    use serde_json::Value;
    let m = v
        .as_object()
        .ok_or_else(|| ApiError::invalid_field("body", "must be a JSON object"))?;
    const KNOWN: [&str; 10] = [
        "status",
        "score",
        "max_score",
        "result_url",
        "started_at",
        "completed_at",
        "summary",
        "metadata",
        "reason",
        "attachments",
    ];
    if let Some(k) = m.keys().find(|k| !KNOWN.contains(&k.as_str())) {
        return Err(ApiError::invalid_field(k, "is not a known field"));
    }
    let status = match m.get("status") {
        Some(Value::String(s)) => Status::parse(s)
            .filter(|s| *s != Status::NotSpecified)
            .ok_or_else(|| {
                ApiError::invalid_field(
                    "status",
                    "must be one of PENDING, STARTED, IN_PROGRESS, COMPLETED, REJECTED, EXPIRED, CANCELLED",
                )
            })?,
        _ => return Err(ApiError::invalid_field("status", "is required")),
    };
    let number = |k: &str| -> Result<Option<f64>, ApiError> {
        match m.get(k) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Number(n)) => n
                .as_f64()
                .filter(|f| f.is_finite())
                .map(Some)
                .ok_or_else(|| ApiError::invalid_field(k, "must be a finite number")),
            Some(_) => Err(ApiError::invalid_field(k, "must be a number")),
        }
    };
    let text = |k: &str, max: usize| -> Result<Option<String>, ApiError> {
        match m.get(k) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) if s.len() <= max => Ok(Some(s.clone())),
            Some(Value::String(_)) => Err(ApiError::invalid_field(
                k,
                &format!("must be at most {max} characters"),
            )),
            Some(_) => Err(ApiError::invalid_field(k, "must be a string")),
        }
    };
    let time = |k: &str| -> Result<Option<String>, ApiError> {
        match text(k, 64)? {
            None => Ok(None),
            Some(s) if parse_rfc3339(&s).is_some() => Ok(Some(s)),
            Some(_) => Err(ApiError::invalid_field(
                k,
                "must be an RFC 3339 timestamp like 2026-11-01T10:00:00Z",
            )),
        }
    };
    let result_url = match text("result_url", 2048)? {
        None => None,
        Some(u) => match crate::weburl::WebUrl::parse(&u) {
            Some(parsed) if parsed.scheme() == "https" && parsed.host().is_some() => Some(u),
            _ => {
                return Err(ApiError::invalid_field(
                    "result_url",
                    "must be an https URL (the ATS shows it to recruiters)",
                ))
            }
        },
    };
    if status == Status::Completed && result_url.is_none() {
        return Err(ApiError::invalid_field(
            "result_url",
            "is required when status is COMPLETED",
        ));
    }
    let metadata = match m.get("metadata") {
        None | Some(Value::Null) => serde_json::Map::new(),
        Some(Value::Object(o)) => {
            if o.len() > 50 {
                return Err(ApiError::invalid_field(
                    "metadata",
                    "may hold at most 50 entries",
                ));
            }
            for (k, v) in o {
                if k.is_empty() || k.len() > 100 {
                    return Err(ApiError::invalid_field(
                        "metadata",
                        "keys must be 1–100 characters",
                    ));
                }
                match v {
                    Value::String(s) if s.len() > 2000 => {
                        return Err(ApiError::invalid_field(
                            &format!("metadata.{k}"),
                            "must be at most 2000 characters",
                        ))
                    }
                    Value::String(_) | Value::Number(_) | Value::Bool(_) | Value::Null => {}
                    _ => {
                        return Err(ApiError::invalid_field(
                            &format!("metadata.{k}"),
                            "must be a string, number, boolean or null (a flat object)",
                        ))
                    }
                }
            }
            o.clone()
        }
        Some(_) => return Err(ApiError::invalid_field("metadata", "must be an object")),
    };
    Ok(ResultUpdate {
        status,
        score: number("score")?,
        max_score: number("max_score")?,
        result_url,
        started_at: time("started_at")?,
        completed_at: time("completed_at")?,
        summary: text("summary", 10_000)?,
        metadata,
        reason: text("reason", 500)?,
        attachments: parse_attachments(m.get("attachments"))?,
    })
}

/// Event types (SPEC §7).
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

/// The webhook body (SPEC §7): the Knit-style envelope vendors already parse.
/// Rendered once at commit time; the stored text is exactly what every attempt sends.
/// `syncDataType` follows the kind of the `candidateAssessment` the event carries (SPEC §12:
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

/// Tenant slug rule: `[a-z0-9][a-z0-9-]{0,62}` (SPEC §3).
pub fn is_valid_slug(s: &str) -> bool {
    let b = s.as_bytes();
    !b.is_empty()
        && b.len() <= 63
        && (b[0].is_ascii_lowercase() || b[0].is_ascii_digit())
        && b.iter()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == b'-')
}

/// Milliseconds since the epoch → RFC 3339 UTC (`2026-11-01T10:00:00.000Z`).
pub fn rfc3339(ms: i64) -> String {
    let secs = ms.div_euclid(1000);
    let millis = ms.rem_euclid(1000);
    let days = secs.div_euclid(86_400);
    let sod = secs.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{millis:03}Z",
        sod / 3600,
        (sod % 3600) / 60,
        sod % 60
    )
}

/// Howard Hinnant's days→civil date algorithm (proleptic Gregorian).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// Parse an RFC 3339 timestamp (`YYYY-MM-DDTHH:MM:SS[.fff](Z|±HH:MM)`) into epoch ms.
pub fn parse_rfc3339(s: &str) -> Option<i64> {
    let b = s.as_bytes();
    if b.len() < 20 || b[4] != b'-' || b[7] != b'-' || !(b[10] == b'T' || b[10] == b't') {
        return None;
    }
    let num = |r: std::ops::Range<usize>| -> Option<i64> {
        let t = s.get(r)?;
        t.bytes()
            .all(|c| c.is_ascii_digit())
            .then(|| t.parse().ok())?
    };
    let (y, mo, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
    if b[13] != b':' || b[16] != b':' {
        return None;
    }
    let (h, mi, se) = (num(11..13)?, num(14..16)?, num(17..19)?);
    if !(1..=12).contains(&mo) || !(1..=31).contains(&d) || h > 23 || mi > 59 || se > 60 {
        return None;
    }
    let mut i = 19;
    let mut ms = 0i64;
    if b.get(i) == Some(&b'.') {
        i += 1;
        let start = i;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        if i == start {
            return None;
        }
        let frac = &s[start..i.min(start + 3)];
        ms = frac.parse::<i64>().ok()? * 10i64.pow(3 - frac.len() as u32);
    }
    let offset_min = match s.get(i..)? {
        "Z" | "z" => 0,
        rest if rest.len() == 6 && (rest.starts_with('+') || rest.starts_with('-')) => {
            let oh = num(i + 1..i + 3)?;
            let om = num(i + 4..i + 6)?;
            if b[i + 3] != b':' {
                return None;
            }
            let sign = if rest.starts_with('-') { -1 } else { 1 };
            sign * (oh * 60 + om)
        }
        _ => return None,
    };
    let days = days_from_civil(y, mo as u32, d as u32);
    Some(((days * 86_400 + h * 3600 + mi * 60 + se) - offset_min * 60) * 1000 + ms)
}

fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let m = m as i64;
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + d as i64 - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
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

    #[test]
    fn kinds_parse_and_default() {
        for k in OrderKind::ALL {
            assert_eq!(OrderKind::parse(k.as_str()), Some(k));
            assert_eq!(serde_json::to_value(k).unwrap(), k.as_str());
        }
        assert_eq!(OrderKind::parse("Background_Check"), None);
        assert_eq!(opt_kind(Some(&json!(null))), Ok(None));
        assert!(opt_kind(Some(&json!(3))).is_err());
        // A record stored before kinds existed reads as an assessment.
        let old: AssessmentPackage = serde_json::from_value(
            json!({"id":"p","name":null,"description":null,"metaData":null,"type":"CODE"}),
        )
        .unwrap();
        assert_eq!(old.kind, OrderKind::Assessment);
        let cat = vec![
            Package {
                id: "bg".into(),
                name: "Check".into(),
                description: None,
                package_type: Some("CRIMINAL".into()),
                kind: Some(OrderKind::BackgroundCheck),
                criteria: vec![],
            },
            Package {
                id: "plain".into(),
                name: "Plain".into(),
                description: None,
                package_type: None,
                kind: None,
                criteria: vec![],
            },
        ];
        let with = |default_kind| Catalogue {
            packages: Some(&cat),
            default_kind,
        };
        let bg = AssessmentPackage::from_catalogue("bg", with(OrderKind::Assessment));
        assert_eq!(bg.kind, OrderKind::BackgroundCheck);
        assert_eq!(bg.package_type.as_deref(), Some("CRIMINAL"));
        let plain = AssessmentPackage::from_catalogue("plain", with(OrderKind::ReferenceCheck));
        assert_eq!(plain.kind, OrderKind::ReferenceCheck);
        let unknown = AssessmentPackage::from_catalogue("nope", with(OrderKind::BackgroundCheck));
        assert_eq!(unknown.kind, OrderKind::BackgroundCheck);
        assert_eq!(unknown.name, None);
        let failed = AssessmentPackage::from_catalogue(
            "bg",
            Catalogue {
                packages: None,
                default_kind: OrderKind::Assessment,
            },
        );
        assert_eq!(failed.kind, OrderKind::Assessment);
    }

    #[test]
    fn result_validation() {
        let ok = parse_result(&json!({"status":"COMPLETED","score":87.5,"max_score":100,"result_url":"https://v.example/r/1","started_at":"2026-11-01T10:00:00Z","completed_at":"2026-11-01T11:00:00Z","summary":"Strong","metadata":{"Plagiarism":false}})).unwrap();
        assert_eq!(ok.status, Status::Completed);
        assert_eq!(ok.score, Some(87.5));
        assert_eq!(ok.metadata["Plagiarism"], false);
        for (bad, field) in [
            (json!({}), "status"),
            (json!({"status":"DONE"}), "status"),
            (json!({"status":"NOT_SPECIFIED"}), "status"),
            (json!({"status":"COMPLETED"}), "result_url"),
            (
                json!({"status":"COMPLETED","result_url":"http://v.example/r"}),
                "result_url",
            ),
            (json!({"status":"IN_PROGRESS","score":"high"}), "score"),
            (
                json!({"status":"IN_PROGRESS","started_at":"yesterday"}),
                "started_at",
            ),
            (
                json!({"status":"IN_PROGRESS","metadata":{"a":{"b":1}}}),
                "metadata.a",
            ),
            (json!({"status":"IN_PROGRESS","metadata":[1]}), "metadata"),
            (json!({"status":"IN_PROGRESS","colour":"red"}), "colour"),
            (
                json!({"status":"IN_PROGRESS","attachments":[{"url":"http://v.example/a.pdf"}]}),
                "attachments[0].url",
            ),
            (
                json!({"status":"IN_PROGRESS","attachments":[{"description":"x"}]}),
                "attachments[0].url",
            ),
            (
                json!({"status":"IN_PROGRESS","attachments":[{"url":"https://v.example/a","description":7}]}),
                "attachments[0].description",
            ),
            (
                json!({"status":"IN_PROGRESS","attachments":[{"url":"https://v.example/a"}, {"url":"https://v.example/a"}, {"url":"https://v.example/a"}, {"url":"https://v.example/a"}, {"url":"https://v.example/a"}, {"url":"https://v.example/a"}]}),
                "attachments",
            ),
            (
                json!({"status":"IN_PROGRESS","attachments":{}}),
                "attachments",
            ),
        ] {
            let e = parse_result(&bad).unwrap_err();
            assert_eq!(e.status, 422, "{bad}");
            assert!(e.message.contains(field), "{bad}: {}", e.message);
        }
        assert!(parse_result(&json!({"status":"STARTED"})).is_ok());
        let with = parse_result(&json!({"status":"STARTED","attachments":[{"url":"https://v.example/r.pdf","description":"Report"}]})).unwrap();
        assert_eq!(with.attachments.len(), 1);
        assert_eq!(with.attachments[0].description.as_deref(), Some("Report"));
    }

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

    #[test]
    fn slugs() {
        assert!(is_valid_slug("acme"));
        assert!(is_valid_slug("a"));
        assert!(is_valid_slug("0-acme-9"));
        assert!(is_valid_slug(&"a".repeat(63)));
        assert!(!is_valid_slug(&"a".repeat(64)));
        assert!(!is_valid_slug("-acme"));
        assert!(!is_valid_slug("Acme"));
        assert!(!is_valid_slug("ac_me"));
        assert!(!is_valid_slug(""));
        assert!(!is_valid_slug("acmé"));
    }

    #[test]
    fn statuses_round_trip() {
        for s in Status::ALL {
            assert_eq!(Status::parse(s.as_str()), Some(s));
        }
        assert_eq!(Status::parse("completed"), None);
        assert!(Status::Cancelled.is_final());
        assert!(!Status::InProgress.is_final());
    }

    #[test]
    fn packages() {
        let p = parse_packages(&json!([{"id":"p1","name":"One","type":"CODE"},{"id":2,"name":"Two","description":null}])).unwrap();
        assert_eq!(p[0].package_type.as_deref(), Some("CODE"));
        assert_eq!(p[0].kind, None);
        assert_eq!(p[1].id, "2");
        let k = parse_packages(&json!([{"id":"b","name":"B","kind":"background_check"}])).unwrap();
        assert_eq!(k[0].kind, Some(OrderKind::BackgroundCheck));
        let e = parse_packages(
            &json!([{"id":"a","name":"A"},{"id":"b","name":"B","kind":"drug_test"}]),
        )
        .unwrap_err();
        assert!(e.contains("`[1].kind`"), "{e}");
        assert!(parse_packages(&json!([{"id":"b","name":"B","kind":true}])).is_err());
        assert!(parse_packages(&json!({"id":"x"})).is_err());
        assert!(parse_packages(&json!([{"id":"x"}]))
            .unwrap_err()
            .contains("[0].name"));
        assert!(
            parse_packages(&json!([{"id":"x","name":"a"},{"id":"x","name":"b"}]))
                .unwrap_err()
                .contains("repeats")
        );
        assert!(parse_packages(&json!([{"id":"x","name":"a","type":5}])).is_err());
        let c =
            parse_packages(&json!([{"id":"x","name":"a","criteria":[{"id":"c1","label":"SQL"}]}]))
                .unwrap();
        assert_eq!(
            c[0].criteria,
            vec![Criterion {
                id: "c1".into(),
                label: "SQL".into()
            }]
        );
        assert!(p[0].criteria.is_empty());
        for (bad, says) in [
            (
                json!([{"id":"x","name":"a","criteria":{}}]),
                "`[0].criteria` must be an array",
            ),
            (
                json!([{"id":"x","name":"a","criteria":[{"id":"c"}]}]),
                "`[0].criteria[0].label` is required",
            ),
            (
                json!([{"id":"x","name":"a","criteria":[{"id":"c","label":"A"},{"id":"c","label":"B"}]}]),
                "`[0].criteria[1].id` repeats",
            ),
        ] {
            let e = parse_packages(&bad).unwrap_err();
            assert!(e.contains(says), "{e}");
        }
    }

    #[test]
    fn time_format_round_trip() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(rfc3339(1_793_527_200_123), "2026-11-01T10:00:00.123Z");
        for ms in [0i64, 951_782_400_000, 1_793_527_200_123, 4_102_444_799_999] {
            assert_eq!(parse_rfc3339(&rfc3339(ms)), Some(ms));
        }
        assert_eq!(
            parse_rfc3339("2026-11-01T11:00:00+01:00"),
            parse_rfc3339("2026-11-01T10:00:00Z")
        );
        assert_eq!(parse_rfc3339("2026-13-01T10:00:00Z"), None);
        assert_eq!(parse_rfc3339("yesterday"), None);
        assert_eq!(parse_rfc3339("2026-11-01T10:00:00"), None);
        assert_eq!(parse_rfc3339("2026-11-01T10:00:00.Z"), None);
    }
}
