//! Cancelling an assessment (`providers::Handler::Cancel`, `Handler::CancelLink`): CANCELLED
//! with one `record.deleted`, or, for an assessment already final, nothing but its real status
//! for the provider's answer (README "Edge endpoints", "Cancel links").

use serde_json::json;

use super::calls::sync_failure;
use crate::admin::tenants::Credentials;
use crate::error::{ApiError, ApiResult};
use crate::model::{EventType, Provider, ResultUpdate, Status};
use crate::providers::{Cancellation, Idempotency, WriteBack};
use crate::tenant::{assessments, now, Tenant};

impl Tenant {
    /// Cancel: CANCELLED, `record.deleted` carrying the full stored assessment (its
    /// `originData` stays the order request); the assessment's provider calls still waiting
    /// to go are not sent (`ProviderCalls::stop_for_cancellation`). An assessment already final (a repeat
    /// included) is left as it is: no event, no write-back; the answer is its status.
    /// With `write_back` credentials, the cancellation is also carried to the ATS as a
    /// CANCELLED result (stored in the same transaction, sent after the answer, retried).
    pub(super) async fn cancel(
        &self,
        provider: Provider,
        id: &str,
        not_found: &str,
        write_back: Option<Credentials>,
    ) -> ApiResult<CancelStatus> {
        let sql = self.sql();
        let row = assessments::get(&sql, id)?
            .filter(|r| r.provider() == Some(provider))
            .ok_or_else(|| ApiError::not_found(not_found))?;
        if row.status().is_final() {
            return Ok(CancelStatus::AlreadyFinal(row.status()));
        }
        let t = now();
        let spec = provider.spec();
        // A key held for good (e.g. an ATS's report id) stays taken after a cancellation.
        let active = spec.idempotency == Idempotency::KeyHeldForever;
        let record = assessments::update(&sql, &row, Status::Cancelled, None, active, t)?;
        // Progress write-backs still waiting to go are not sent after the ATS's own
        // cancellation (README "Order per assessment"); a cancellation write-back below is
        // stored after them and goes once any call in flight has ended.
        self.provider_calls()?
            .stop_for_cancellation(&row.id, spec.title, t)?;
        let ob = self.outbox()?;
        let event = ob.emit(
            EventType::RecordDeleted,
            Some(&row.id),
            json!({ "candidateAssessment": record }),
            t,
        )?;
        let mut call_ids = Vec::new();
        if let Some(creds) = &write_back {
            let cancelled = cancelled_result();
            let outbound = (spec.write_back)(&WriteBack {
                assessment_id: &row.id,
                record: &record,
                order_key: row.dedupe_key.as_deref(),
                result: &cancelled,
                update_ts: assessments::peek_update_ts(&row, t),
                credentials: &creds.source(provider),
                allow_insecure: self.config().allow_insecure,
            });
            match outbound {
                Ok(outbound) if !outbound.is_empty() => {
                    assessments::next_update_ts(&sql, &row, t)?;
                    call_ids = self.store_calls(provider, &row.id, outbound, t)?;
                }
                Ok(_) => {}
                Err(e) => assessments::set_sync(
                    &sql,
                    &row.id,
                    &sync_failure(&format!("{} cancellation", spec.title), &e, t),
                )?,
            }
        }
        self.kick(ob, event, t).await;
        if let Some(creds) = write_back {
            self.send_after_answer(call_ids, creds)?;
        }
        Ok(CancelStatus::Cancelled)
    }
}

impl Tenant {
    /// A cancel link opened in a browser (README "Cancel links"): `{"status"}` of the
    /// assessment the link is bound to, so its page can say it is already final; nothing
    /// changes. An unknown link (or tenant) answers 404.
    pub(in crate::tenant) fn cancel_link_status(
        &self,
        call: &crate::tenant::TenantRequest,
    ) -> ApiResult<worker::Response> {
        if !self.exists() {
            return Err(ApiError::not_found("cancel link"));
        }
        let sql = self.sql();
        let row = crate::tenant::links::resolve(&sql, &call.key_hashes)?
            .map(|id| assessments::get(&sql, &id))
            .transpose()?
            .flatten()
            .ok_or_else(|| ApiError::not_found("cancel link"))?;
        Ok(crate::http::json(
            200,
            &json!({"status": row.status().as_str()}),
        ))
    }
}

/// What [`Tenant::cancel`] did: cancelled the assessment, or found it already final.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum CancelStatus {
    Cancelled,
    AlreadyFinal(Status),
}

impl CancelStatus {
    /// The outcome for assessment `id`, as the provider's `render` gets it.
    pub(super) fn of(self, id: &str) -> Cancellation<'_> {
        match self {
            CancelStatus::Cancelled => Cancellation {
                assessment_id: id,
                status: Status::Cancelled,
                cancelled: true,
            },
            CancelStatus::AlreadyFinal(status) => Cancellation {
                assessment_id: id,
                status,
                cancelled: false,
            },
        }
    }
}

/// A CANCELLED result, as a cancellation the ATS handed to the bridge carries back to it.
fn cancelled_result() -> ResultUpdate {
    ResultUpdate::status_only(Status::Cancelled)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cancel_reports_the_real_status() {
        let now = CancelStatus::Cancelled.of("ats_ass_1");
        assert_eq!((now.status, now.cancelled), (Status::Cancelled, true));
        assert_eq!(now.already_final(), None);
        let done = CancelStatus::AlreadyFinal(Status::Completed).of("ats_ass_1");
        assert_eq!((done.status, done.cancelled), (Status::Completed, false));
        assert_eq!(
            done.already_final().as_deref(),
            Some("The assessment was already completed; nothing was canceled.")
        );
        let again = CancelStatus::AlreadyFinal(Status::Cancelled).of("ats_ass_1");
        assert_eq!((again.status, again.cancelled), (Status::Cancelled, false));
    }

    #[test]
    fn a_cancellation_carries_only_its_status() {
        let r = cancelled_result();
        assert_eq!(r.status, Status::Cancelled);
        assert_eq!(
            serde_json::to_value(&r).unwrap(),
            json!({"status": "CANCELLED"}),
            "nothing else is sent to the ATS"
        );
    }
}
