//! One order's Harvest reads: the run's state (application → job → hiring team's users →
//! requester) and the record parts it builds from what it read.

use super::*;

/// What the run reads next.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Stage {
    Application,
    Job,
    TeamUsers,
    Requester,
    Done,
}

/// The reads for one order: application → job → hiring team's users → the `sent_by`
/// requester (Harvest v3 facts in the module doc; README "Order enrichment").
pub struct HarvestRun {
    pub(super) base: String,
    pub(super) application_id: Option<String>,
    pub(super) sent_by: Option<String>,
    pub(super) stage: Stage,
    pub(super) application: Option<Value>,
    pub(super) job_id: Option<String>,
    pub(super) job: Option<Value>,
    /// (role, member as the job lists it) for the hiring team.
    pub(super) team: Vec<(TeamRole, Value)>,
    pub(super) users: Vec<Value>,
    pub(super) requester: Option<Value>,
    pub(super) errors: Vec<String>,
    /// Set when the run was stopped before any read (e.g. no token).
    pub(super) gave_up: bool,
}

/// The reads that complete a Greenhouse order (None: Harvest is not configured).
pub(super) fn enrich(
    record: &CandidateAssessment,
    c: &CredentialSource,
    insecure: bool,
) -> Option<Box<dyn EnrichRun>> {
    HarvestCredentials::of(c)?;
    let mut run = HarvestRun {
        base: String::new(),
        application_id: record.application_id.clone(),
        sent_by: record
            .requester
            .as_ref()
            .and_then(|r| text(r, "email"))
            .or_else(|| record.meta_data.as_ref().and_then(|m| text(m, "sentBy"))),
        stage: Stage::Application,
        application: None,
        job_id: None,
        job: None,
        team: vec![],
        users: vec![],
        requester: None,
        errors: vec![],
        gave_up: false,
    };
    match setting_url(c, API_BASE_SETTING, DEFAULT_API_BASE, insecure) {
        Ok(base) => run.base = base,
        Err(e) => run.give_up(&e.message),
    }
    if run.application_id.is_none() {
        run.errors.push(
            "the order's greenhouse_profile_url names no application, so the job and hiring team cannot be read".into(),
        );
        run.stage = Stage::Requester;
    }
    Some(Box::new(run))
}

impl HarvestRun {
    pub(super) fn list_url(&self, resource: &str, pairs: &[(&str, &str)]) -> String {
        let q = form_urlencoded::Serializer::new(String::new())
            .extend_pairs(pairs)
            .finish();
        format!("{}/{resource}?{q}", self.base)
    }

    /// The next stage after `from` that has something to read.
    pub(super) fn advance(&mut self, from: Stage) {
        self.stage = match from {
            Stage::Application if self.job_id.is_some() => Stage::Job,
            Stage::Application | Stage::Job if !self.team_ids().is_empty() => Stage::TeamUsers,
            Stage::Application | Stage::Job | Stage::TeamUsers if self.sent_by.is_some() => {
                Stage::Requester
            }
            _ => Stage::Done,
        };
    }

    /// Hiring-team user ids that still need an email.
    pub(super) fn team_ids(&self) -> Vec<String> {
        self.team
            .iter()
            .filter(|(_, m)| text(m, "email").is_none())
            .filter_map(|(_, m)| member_id(m))
            .collect()
    }

    pub(super) fn user(&self, id: &str) -> Option<&Value> {
        self.users.iter().find(|u| id_of(u).as_deref() == Some(id))
    }

    pub(super) fn job_value(&self) -> Option<Job> {
        let j = self.job.as_ref()?;
        let names = |k: &str| -> Option<Vec<String>> {
            j.get(k)?
                .as_array()
                .map(|a| a.iter().filter_map(|d| text(d, "name")).collect())
        };
        Some(Job {
            id: id_of(j).or_else(|| self.job_id.clone()),
            name: text(j, "name"),
            requisition_id: text(j, "requisition_id"),
            url: None,
            locations: j.get("offices").and_then(Value::as_array).map(|a| {
                a.iter()
                    .map(|o| Location {
                        name: text(o, "name"),
                        address: o.get("location").and_then(|l| text(l, "name")),
                    })
                    .collect()
            }),
            departments: names("departments"),
        })
    }

    pub(super) fn hiring_team(&self) -> Option<Vec<TeamMember>> {
        self.job.as_ref()?;
        Some(
            self.team
                .iter()
                .map(|(role, m)| {
                    let id = member_id(m);
                    let u = id.as_deref().and_then(|id| self.user(id));
                    let pick = |k: &str| text(m, k).or_else(|| u.and_then(|u| text(u, k)));
                    TeamMember {
                        id,
                        first_name: pick("first_name"),
                        last_name: pick("last_name"),
                        email: text(m, "email").or_else(|| u.and_then(user_email)),
                        role: *role,
                    }
                })
                .collect(),
        )
    }

    pub(super) fn custom_fields(&self) -> Option<Value> {
        let app = self.application.as_ref()?;
        let mut out = Map::new();
        if let Some(Value::Object(keyed)) = app.get("keyed_custom_fields") {
            for (k, f) in keyed {
                out.insert(
                    k.clone(),
                    context(CustomField {
                        label: text(f, "name"),
                        kind: text(f, "type"),
                        value: f.get("value").cloned().unwrap_or(Value::Null),
                    }),
                );
            }
        } else if let Some(Value::Object(plain)) = app.get("custom_fields") {
            for (k, v) in plain {
                out.insert(
                    k.clone(),
                    context(CustomField {
                        label: None,
                        kind: None,
                        value: v.clone(),
                    }),
                );
            }
        }
        (!out.is_empty()).then_some(Value::Object(out))
    }
}

/// A hiring-team member's user id (`id`, or `user_id`).
pub(super) fn member_id(m: &Value) -> Option<String> {
    crate::model::scalar_string(m.get("user_id")).or_else(|| id_of(m))
}

pub(super) fn user_email(u: &Value) -> Option<String> {
    text(u, "primary_email_address").or_else(|| {
        u.get("emails")?
            .as_array()?
            .iter()
            .find_map(|e| e.as_str().map(str::to_string).or_else(|| text(e, "value")))
    })
}

/// The hiring team as a Harvest job lists it: `hiring_team.{hiring_managers, recruiters,
/// coordinators, sourcers}`.
pub(super) fn team_of(job: &Value) -> Vec<(TeamRole, Value)> {
    let Some(t) = job.get("hiring_team") else {
        return vec![];
    };
    [
        ("hiring_managers", TeamRole::HiringManager),
        ("recruiters", TeamRole::Recruiter),
        ("coordinators", TeamRole::Coordinator),
        ("sourcers", TeamRole::Sourcer),
    ]
    .into_iter()
    .flat_map(|(k, role)| {
        t.get(k)
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .map(move |m| (role, m.clone()))
    })
    .collect()
}
