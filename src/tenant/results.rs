//! `POST /v1/tenants/{t}/assessments/{id}/result` (README "Results back to the ATS"): validate,
//! store, emit
//! `record.modified`, then carry the result to the ATS the order came from.

use serde_json::json;
use worker::Response;

use super::{assessments, idempotency, now, Tenant, TenantRequest};
use crate::admin::tenants::Credentials;
use crate::error::{code, ApiError, ApiResult, Context};
use crate::http;
use crate::model::{parse_result, EventType, Status};
use crate::providers::{Idempotency, WriteBack};

/// The request header of an idempotency key (README "Results back to the ATS").
pub const H_IDEMPOTENCY_KEY: &str = "idempotency-key";

/// Result acceptance (README "Results back to the ATS"): whether a result with status
/// `incoming` may be stored on an assessment whose status is `current`, and whether the
/// order's idempotency key stays held afterwards. A final assessment takes no more results
/// (409 `assessment_final`); the key is freed by a final result unless the provider holds it
/// for good ([`Idempotency`]).
pub(super) fn accept(
    current: Status,
    incoming: Status,
    idempotency: Idempotency,
) -> ApiResult<bool> {
    if current.is_final() {
        return Err(ApiError::conflict(
            code::ASSESSMENT_FINAL,
            format!(
                "The assessment is already {}; final results cannot change.",
                current.as_str()
            ),
        ));
    }
    Ok(match idempotency {
        Idempotency::KeyHeldForever => true,
        Idempotency::KeyFreedWhenFinal => !incoming.is_final(),
    })
}

impl Tenant {
    pub(super) async fn post_result(&self, id: &str, call: &TenantRequest) -> ApiResult<Response> {
        let v = call.json()?;
        let r = parse_result(&v)?;
        let idem_key = idempotency::key_from_header(call.header(H_IDEMPOTENCY_KEY))?;
        // Every await comes first: from reading the assessment to writing the result, its
        // event and its outbound calls, nothing awaits, so two concurrent final results cannot
        // both pass the finality check (another request runs while this one awaits KV).
        let creds = self.credentials().await?;
        // The idempotency check comes after the last await and its answer is saved before the
        // next one (`idempotency` protocol), so a key is processed once.
        // A key is the vendor's for one assessment (README "Results back to the ATS"): stored under
        // both.
        let idem = idem_key.map(|k| (format!("{id}\n{k}"), idempotency::request_hash(id, &v)));
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
        let provider = row.provider().context("the assessment's provider")?;
        let spec = provider.spec();
        let active = accept(row.status(), r.status, spec.idempotency)?;
        let t = now();
        // Refuse before storing anything when the ATS would reject the result or it could
        // never reach the ATS; say what the ATS will drop or alter (README "Results back to the
        // ATS").
        let warnings = crate::providers::preflight(spec, &r)?;
        let outbound = (spec.write_back)(&WriteBack {
            assessment_id: &row.id,
            record: &row.record()?,
            order_key: row.dedupe_key.as_deref(),
            result: &r,
            update_ts: assessments::peek_update_ts(&row, t),
            credentials: &creds.source(provider),
            allow_insecure: self.config().allow_insecure,
        })?;
        let sql = self.sql();
        let record = assessments::update(&sql, &row, r.status, Some(&r), active, t)?;
        let ob = self.outbox()?;
        let event = ob.emit(
            EventType::RecordModified,
            Some(&row.id),
            json!({ "candidateAssessment": record, "result": r }),
            t,
        )?;
        if !outbound.is_empty() {
            // The update timestamp the calls carry is now the assessment's latest.
            assessments::next_update_ts(&sql, &row, t)?;
        }
        let call_ids = self.store_calls(provider, &row.id, outbound, t)?;
        let fresh = assessments::get(&sql, id)?.context("the assessment just written")?;
        let mut answer = fresh.view();
        answer["warnings"] = json!(warnings);
        if let Some((key, hash)) = &idem {
            idempotency::save(&sql, key, &row.id, hash, 200, &answer.to_string(), t)?;
        }
        self.kick(ob, event, t).await;
        self.send_after_answer(call_ids, creds)?;
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

#[cfg(test)]
mod tests {
    use super::*;

    const ALL: [Status; 8] = Status::ALL;

    /// `GET /v1/providers` (and the README table rendered from it) says whether a final result
    /// can change: it says what `accept` does, for every ATS.
    #[test]
    fn each_providers_declared_final_result_rule_is_what_accept_does() {
        for p in crate::providers::Provider::all() {
            let spec = p.spec();
            for incoming in ALL {
                assert_eq!(
                    spec.facts.final_result_changeable,
                    accept(Status::Completed, incoming, spec.idempotency).is_ok(),
                    "{} after COMPLETED, {}",
                    spec.title,
                    incoming.as_str()
                );
            }
        }
    }

    #[test]
    fn a_final_assessment_takes_no_more_results() {
        for current in ALL.into_iter().filter(|s| s.is_final()) {
            for incoming in ALL {
                for idem in [Idempotency::KeyHeldForever, Idempotency::KeyFreedWhenFinal] {
                    let e = accept(current, incoming, idem).unwrap_err();
                    assert_eq!((e.status, e.code), (409, code::ASSESSMENT_FINAL));
                    assert!(e.message.contains(current.as_str()), "{}", e.message);
                }
            }
        }
        assert!(ALL.iter().any(|s| s.is_final()) && ALL.iter().any(|s| !s.is_final()));
    }

    #[test]
    fn an_open_assessment_takes_any_result_and_a_final_one_frees_the_key() {
        for current in ALL.into_iter().filter(|s| !s.is_final()) {
            for incoming in ALL {
                assert!(accept(current, incoming, Idempotency::KeyHeldForever).unwrap());
                assert_eq!(
                    accept(current, incoming, Idempotency::KeyFreedWhenFinal).unwrap(),
                    !incoming.is_final(),
                    "{current:?} -> {incoming:?}"
                );
            }
        }
    }
}
