//! The run as the provider seam drives it (`EnrichRun`): the next read, what each answer
//! means, and the outcome (README "Order enrichment").

use super::run::{team_of, user_email, HarvestRun, Stage};
use super::*;

impl EnrichRun for HarvestRun {
    fn next(&mut self) -> Option<Read> {
        let read = |url, cache_ms| Some(Read { url, cache_ms });
        match self.stage {
            Stage::Done => None,
            Stage::Application => {
                let id = self.application_id.clone()?;
                read(self.list_url(APPLICATIONS, &[("ids", &id)]), 0)
            }
            Stage::Job => {
                let id = self.job_id.clone()?;
                read(self.list_url(JOBS, &[("ids", &id)]), 0)
            }
            Stage::TeamUsers => {
                let ids = self.team_ids().join(",");
                read(self.list_url(USERS, &[("ids", &ids)]), USER_CACHE_MS)
            }
            Stage::Requester => {
                let email = self.sent_by.clone()?;
                read(self.list_url(USERS, &[("email", &email)]), USER_CACHE_MS)
            }
        }
    }

    fn answer(&mut self, a: &ReadAnswer) {
        let stage = self.stage;
        let ok = matches!(a.status, Some(200..=299));
        let found = if ok { items(&a.body) } else { None };
        let (what, resource) = match stage {
            Stage::Application => (
                format!(
                    "application {}",
                    self.application_id.as_deref().unwrap_or("")
                ),
                APPLICATIONS,
            ),
            Stage::Job => (
                format!("job {}", self.job_id.as_deref().unwrap_or("")),
                JOBS,
            ),
            Stage::TeamUsers => ("the hiring team's users".to_string(), USERS),
            Stage::Requester => ("the requester (sent_by)".to_string(), USERS),
            Stage::Done => return,
        };
        match (found, ok) {
            (None, true) => self.errors.push(format!(
                "Harvest v3 answered {what} with an unreadable list"
            )),
            (None, false) => {
                self.errors.push(read_failure(&what, resource, a));
                // The token is refused everywhere once it is refused here: stop.
                if a.status == Some(401) {
                    self.stage = Stage::Done;
                    return;
                }
            }
            (Some(list), true) => match stage {
                Stage::Application => {
                    let wanted = self.application_id.clone();
                    match list.into_iter().find(|x| id_of(x) == wanted) {
                        Some(app) => {
                            self.job_id = crate::model::scalar_string(app.get("job_id")).or_else(
                                || {
                                    app.get("jobs")
                                        .and_then(|j| j.get(0))
                                        .and_then(id_of)
                                },
                            );
                            if self.job_id.is_none() {
                                self.errors
                                    .push(format!("Harvest v3's {what} names no job"));
                            }
                            self.application = Some(app);
                        }
                        None => self.errors.push(format!(
                            "Harvest v3 has no {what} (unknown to Greenhouse, or not visible to these credentials)"
                        )),
                    }
                }
                Stage::Job => {
                    let wanted = self.job_id.clone();
                    match list.into_iter().find(|x| id_of(x) == wanted) {
                        Some(job) => {
                            self.team = team_of(&job);
                            self.job = Some(job);
                        }
                        None => self.errors.push(format!("Harvest v3 has no {what}")),
                    }
                }
                Stage::TeamUsers => self.users.extend(list),
                Stage::Requester => {
                    let email = self.sent_by.clone().unwrap_or_default();
                    self.requester = list.into_iter().find(|u| {
                        user_email(u).is_some_and(|e| e.eq_ignore_ascii_case(&email))
                            || u.get("emails").and_then(Value::as_array).is_some_and(|a| {
                                a.iter().any(|e| {
                                    e.as_str().is_some_and(|e| e.eq_ignore_ascii_case(&email))
                                })
                            })
                    });
                    if self.requester.is_none() {
                        self.errors
                            .push(format!("Harvest v3 has no user with the email {email}"));
                    }
                }
                Stage::Done => {}
            },
            (Some(_), false) => {}
        }
        self.advance(stage);
    }

    fn outcome(&self, finished: bool) -> Enriched {
        let job = self.job_value();
        let team = self.hiring_team();
        let requester = self.requester.as_ref().map(|u| Requester {
            id: id_of(u),
            name: text(u, "name").or_else(|| {
                let n = [text(u, "first_name"), text(u, "last_name")]
                    .into_iter()
                    .flatten()
                    .collect::<Vec<_>>()
                    .join(" ");
                (!n.is_empty()).then_some(n)
            }),
            email: user_email(u).or_else(|| self.sent_by.clone()),
        });
        let mut missing: Vec<String> = Vec::new();
        if job.as_ref().is_none_or(|j| j.name.is_none()) {
            missing.push("job".into());
        }
        if team.as_ref().is_none_or(|t| t.is_empty()) {
            missing.push("hiringTeam".into());
        }
        if self.sent_by.is_none() {
            missing.push("requester".into());
        }
        let mut errors = self.errors.clone();
        if !finished {
            errors.push(format!(
                "Harvest v3 had not finished when this event was sent (the {} s budget); a record.modified with the completed record follows",
                ENRICH_BUDGET_MS / 1000
            ));
        }
        let gained = job.is_some() || requester.is_some() || self.application.is_some();
        let status = if !finished {
            EnrichmentStatus::Partial
        } else if missing.is_empty() && errors.is_empty() {
            EnrichmentStatus::Complete
        } else if gained && !self.gave_up {
            EnrichmentStatus::Partial
        } else {
            EnrichmentStatus::Failed
        };
        let error = (!errors.is_empty()).then(|| errors.join("; "));
        Enriched {
            job_id: job.as_ref().and_then(|j| j.id.clone()),
            job: job.map(context),
            hiring_team: team.filter(|t| !t.is_empty()).map(context),
            requester: requester.map(context),
            custom_fields: self.custom_fields(),
            enrichment: context(Enrichment {
                status,
                missing,
                error,
            }),
        }
    }

    fn give_up(&mut self, why: &str) {
        self.errors.push(why.to_string());
        self.gave_up = true;
        self.stage = Stage::Done;
    }
}
