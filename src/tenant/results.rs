//! `POST /v1/tenants/{t}/assessments/{id}/result` (SPEC §9): validate, store, emit
//! `record.modified`, then carry the result to the ATS the order came from.

use serde_json::json;
use worker::Response;

use super::calls::NewCall;
use super::{assessments, idempotency, now, Call, Tenant};
use crate::admin::tenants::Credentials;
use crate::error::{code, ApiError, ApiResult};
use crate::http;
use crate::model::{parse_result, EventType, Provider};
use crate::providers::{Idempotency, WriteBack};

/// The request header of an idempotency key (README "Results").
pub const H_IDEMPOTENCY_KEY: &str = "idempotency-key";

impl Tenant {
    pub(super) async fn post_result(&self, id: &str, call: &Call) -> ApiResult<Response> {
        let v = call.json()?;
        let r = parse_result(&v)?;
        let idem_key = idempotency::key_from_header(call.header(H_IDEMPOTENCY_KEY))?;
        // Every await comes first: from reading the assessment to writing the result, its
        // event and its outbound calls, nothing awaits, so two concurrent final results cannot
        // both pass the finality check (another request runs while this one awaits KV).
        let creds = self.credentials().await?;
        // The idempotency check comes after the last await and its answer is saved before the
        // next one (`idempotency` protocol), so a key is processed once.
        let idem = idem_key.map(|k| (k, idempotency::request_hash(id, &v)));
        if let Some((key, hash)) = &idem {
            if let idempotency::NextAction::Replay { status, body } =
                idempotency::begin(&self.sql(), key, hash, now())?
            {
                let resp = http::raw_json(status, body);
                let _ = resp.headers().set("idempotent-replayed", "true");
                return Ok(resp);
            }
        }
        let row =
            assessments::get(&self.sql(), id)?.ok_or_else(|| ApiError::not_found("assessment"))?;
        if row.status().is_final() {
            return Err(ApiError::conflict(
                code::ASSESSMENT_FINAL,
                format!(
                    "The assessment is already {}; final results cannot change.",
                    row.status().as_str()
                ),
            ));
        }
        let provider = row.provider().ok_or_else(ApiError::internal)?;
        let spec = provider.spec();
        let t = now();
        // Refuse before storing anything when the ATS would reject the result or it could
        // never reach the ATS; say what the ATS will drop or alter (README "Results").
        let warnings = crate::providers::preflight(spec, &r)?;
        let outbound = (spec.write_back)(&WriteBack {
            assessment_id: &row.id,
            record: &row.record()?,
            result: &r,
            update_ts: assessments::peek_update_ts(&row, t),
            credentials: &creds.source(provider),
            allow_insecure: self.config().allow_insecure,
        })?;
        let sql = self.sql();
        let active = match spec.idempotency {
            Idempotency::KeyHeldForever => true,
            Idempotency::KeyFreedWhenFinal => !r.status.is_final(),
        };
        let record = assessments::update(&sql, &row, r.status, Some(&r), active, t)?;
        let ob = self.outbox()?;
        let event = ob.emit(
            EventType::RecordModified,
            Some(&row.id),
            json!({ "candidateAssessment": record, "result": r }),
            t,
        )?;
        let mut call_ids = Vec::new();
        if !outbound.is_empty() {
            // The update timestamp the calls carry is now the assessment's latest.
            assessments::next_update_ts(&sql, &row, t)?;
            let calls = self.calls()?;
            for c in outbound {
                call_ids.push(calls.insert(
                    NewCall {
                        assessment_id: row.id.clone(),
                        provider,
                        label: c.label,
                        method: c.method,
                        url: c.url,
                        body: c.body,
                    },
                    t,
                )?);
            }
        }
        let fresh = assessments::get(&sql, id)?.ok_or_else(ApiError::internal)?;
        let mut answer = fresh.view();
        answer["warnings"] = json!(warnings);
        if let Some((key, hash)) = &idem {
            idempotency::save(&sql, key, &row.id, hash, 200, &answer.to_string(), t)?;
        }
        self.kick(ob, event, t).await;
        if !call_ids.is_empty() {
            let calls = self.calls()?;
            let auth = move |p: Provider| creds.authorization(p);
            self.state.wait_until(async move {
                for call_id in call_ids {
                    calls.attempt(&call_id, None, &auth).await;
                }
            });
        }
        Ok(http::json(200, &answer))
    }

    /// Every provider's credentials for this tenant: its fields' values and the deployment's
    /// settings (`Spec::credentials`, `Spec::settings`).
    pub(super) async fn credentials(&self) -> ApiResult<Credentials> {
        let cfg = self.load_config()?;
        let s = self.load_secrets(&cfg.id).await?;
        Ok(Credentials::resolve(&cfg, &s, &self.config().settings))
    }
}
