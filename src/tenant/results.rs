//! `POST /v1/tenants/{t}/assessments/{id}/result` (SPEC §9): validate, store, emit
//! `record.modified`, then carry the result to the ATS the order came from.

use serde_json::json;
use worker::{Method, Response};

use super::calls::{Basic, NewCall};
use super::{assessments, now, Call, Tenant};
use crate::error::{ApiError, ApiResult};
use crate::http;
use crate::model::{parse_result, EventType, Provider, Status};
use crate::providers::ashby;
use crate::targets;

impl Tenant {
    pub(super) async fn post_result(&self, id: &str, call: &Call) -> ApiResult<Response> {
        let v = call.json()?;
        let r = parse_result(&v)?;
        let row =
            assessments::get(&self.sql(), id)?.ok_or_else(|| ApiError::not_found("assessment"))?;
        if row.status().is_final() {
            return Err(ApiError::conflict(
                "assessment_final",
                format!(
                    "The assessment is already {}; final results cannot change.",
                    row.status().as_str()
                ),
            ));
        }
        let provider = row.provider().ok_or_else(ApiError::internal)?;
        let creds = self.credentials().await?;
        // Refuse before storing anything when the result could never reach the ATS.
        let outbound = match provider {
            Provider::Greenhouse if r.status == Status::Completed => {
                if creds(Provider::Greenhouse).is_none() {
                    return Err(ApiError::new(
                        422,
                        "greenhouse_credentials_missing",
                        "Greenhouse partner credentials are not configured: set greenhouse.partner_username and greenhouse.partner_password on the tenant, or GREENHOUSE_PARTNER_USERNAME/GREENHOUSE_PARTNER_PASSWORD on the deployment.",
                    ));
                }
                let callback = row.record()?.callback_url.unwrap_or_default();
                let url =
                    targets::check_greenhouse_callback(&callback, self.config().allow_insecure)
                        .map_err(|why| ApiError::invalid_field("callbackUrl", &why))?;
                Some(NewCall {
                    assessment_id: row.id.clone(),
                    provider,
                    label: "Greenhouse completion PATCH",
                    method: Method::Patch,
                    url: url.to_string(),
                    body: None,
                })
            }
            Provider::Greenhouse => None,
            // Wired through the provider seam (issue 12); no Teamtailor order exists before.
            Provider::Teamtailor => None,
            // Every accepted Ashby result is forwarded as an assessment.update.
            Provider::Ashby => {
                if creds(Provider::Ashby).is_none() {
                    return Err(ApiError::new(
                        422,
                        "ashby_api_key_missing",
                        "The tenant has no Ashby API key: set it with PATCH /v1/tenants/{id} {\"ashby\":{\"api_key\":\"…\"}} before sending results.",
                    ));
                }
                let base = &self.config().ashby_api_base;
                let url = targets::check_target(
                    &format!("{base}/assessment.update"),
                    self.config().allow_insecure,
                )
                .map_err(|why| {
                    ApiError::new(
                        422,
                        "invalid_configuration",
                        format!("ASHBY_API_BASE {why}."),
                    )
                })?;
                Some(NewCall {
                    assessment_id: row.id.clone(),
                    provider,
                    label: "Ashby assessment.update",
                    method: Method::Post,
                    url: url.to_string(),
                    // The body needs the update timestamp, assigned when storing below.
                    body: None,
                })
            }
        };
        let t = now();
        let sql = self.sql();
        // Greenhouse keys its idempotency on the callback url for good; others free the key
        // once the assessment is final so a new order can start.
        let active = provider == Provider::Greenhouse || !r.status.is_final();
        let record = assessments::update(&sql, &row, r.status, Some(&r), active, t)?;
        let ob = self.outbox()?;
        let event = ob.emit(
            EventType::RecordModified,
            Some(&row.id),
            json!({ "candidateAssessment": record, "result": r }),
            t,
        )?;
        let call_id = match outbound {
            Some(mut c) => {
                if provider == Provider::Ashby {
                    let ts = assessments::next_update_ts(&sql, &row, t)?;
                    c.body = Some(ashby::update_body(&row.id, ts, &r).to_string());
                }
                Some(self.calls()?.insert(c, t)?)
            }
            None => None,
        };
        self.kick(ob, event, t).await;
        if let Some(call_id) = call_id {
            let calls = self.calls()?;
            self.state.wait_until(async move {
                calls.attempt(&call_id, None, &creds).await;
            });
        }
        let fresh = assessments::get(&sql, id)?.ok_or_else(ApiError::internal)?;
        Ok(http::json(200, &fresh.view()))
    }

    /// Basic credentials per provider: Greenhouse partner credentials (the tenant's override,
    /// else the deployment's), Ashby the tenant's API key as username.
    pub(super) async fn credentials(
        &self,
    ) -> ApiResult<impl Fn(Provider) -> Option<Basic> + 'static> {
        let cfg = self.load_config()?;
        let s = self.load_secrets(&cfg.id).await?;
        let env = self.config();
        let gh = match (
            cfg.greenhouse_partner_username,
            s.greenhouse_partner_password,
        ) {
            (Some(u), Some(p)) => Some((u, p)),
            _ => match (
                &env.greenhouse_partner_username,
                &env.greenhouse_partner_password,
            ) {
                (Some(u), Some(p)) => Some((u.clone(), p.clone())),
                _ => None,
            },
        };
        let ab = s.ashby_api_key.map(|k| (k, String::new()));
        Ok(move |p: Provider| match p {
            Provider::Greenhouse => gh.clone(),
            Provider::Ashby => ab.clone(),
            Provider::Teamtailor => None,
        })
    }
}
