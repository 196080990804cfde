//! Provider edge operations inside the tenant object: one match over the operation kinds of
//! the provider seam (`providers::Handler`, docs/architecture.md). Each order is stored and its
//! event committed in one transaction before the ATS gets its answer; the first webhook
//! attempt starts right after.

use serde_json::{json, Value};
use worker::Response;

use super::{assessments, enrich, links, now, Tenant, TenantRequest};
use crate::admin::tenants::Credentials;
use crate::error::{ApiError, ApiResult};
use crate::http;
use crate::model::{CandidateAssessment, Catalogue, EventType, Provider, ResultUpdate, Status};
use crate::providers::{
    Cancellation, EdgeRequest, Handler, Idempotency, PlacedOrder, StatusView, WriteBack,
    ENRICH_BUDGET_MS,
};
use crate::routes::EdgeRoute;
use crate::secrets;

impl Tenant {
    /// Run an authenticated edge call: the provider parses and renders, this object stores.
    pub(super) async fn edge(&self, edge: EdgeRoute, call: &TenantRequest) -> ApiResult<Response> {
        let provider = edge.provider;
        let cfg = self.load_config()?;
        let req = EdgeRequest {
            tenant: &cfg.id,
            body: &call.body,
            query: call.query.as_deref(),
            headers: &call.headers,
            allow_insecure: self.config().allow_insecure,
            settings: &self.config().settings,
        };
        let answer = match &edge.op.handler {
            Handler::ListPackages { render } => {
                let pkgs = self.packages(&cfg, provider, &[]).await?;
                render(&req, &pkgs)?
            }
            Handler::Config { context, render } => {
                let pkgs = self.packages(&cfg, provider, &context(&req)).await?;
                render(&req, &pkgs)?
            }
            Handler::Activation { render, .. } => render(&req)?,
            Handler::Order { parse, render } => {
                let order = parse(&req)?;
                let id = self
                    .place_order(
                        provider,
                        &order.idempotency_key,
                        order.normalize,
                        &call.origin,
                    )
                    .await?;
                render(&id)
            }
            Handler::Status {
                parse,
                not_found,
                render,
            } => {
                let id = parse(&req)?;
                let row = assessments::get(&self.sql(), &id)?
                    .filter(|r| r.provider() == Some(provider))
                    .ok_or_else(|| ApiError::not_found(not_found))?;
                render(&StatusView {
                    status: row.status(),
                    result: row.result(),
                })
            }
            Handler::Cancel {
                parse,
                not_found,
                render,
            } => {
                let id = parse(&req)?;
                let status = self.cancel(provider, &id, not_found, None).await?;
                render(&status.of(&id))?
            }
            Handler::CancelLink { render } => {
                // The link is the credential: unknown tokens get the one edge 401.
                let id = links::resolve(&self.sql(), &call.key_hashes)?
                    .ok_or_else(|| ApiError::unauthorized_edge(provider.spec().edge_auth))?;
                // The ATS handed the cancellation to us: its record is brought to CANCELLED
                // too, through the provider's write-back (e.g. a report set to canceled).
                let creds = self.credentials().await?;
                let done = self
                    .cancel(provider, &id, "assessment", Some(creds))
                    .await?
                    .of(&id);
                // The front door turns the outcome into the link's page for a browser.
                let resp = http::json(200, &render(&done));
                let _ = resp.headers().set(
                    crate::web::H_CANCEL_OUTCOME,
                    &crate::web::cancel_outcome(&done),
                );
                return Ok(resp);
            }
            Handler::ReportError { parse, render } => {
                let reported = parse(&req)?;
                self.report_error(provider, reported).await?;
                render()
            }
        };
        Ok(http::json(200, &answer))
    }

    /// Store a new order and commit its `record.new` (one transaction), unless an active
    /// assessment already holds `idempotency_key`: then its id comes back and nothing is emitted.
    /// A provider's `after_order` call(s) (e.g. a "report sent" carrying the order's cancel
    /// link, `providers::PlacedOrder`) are stored in the same transaction and sent right after the answer, with retries.
    async fn place_order(
        &self,
        provider: Provider,
        idempotency_key: &str,
        normalize: impl FnOnce(&str, &str, Catalogue<'_>) -> CandidateAssessment,
        origin: &str,
    ) -> ApiResult<String> {
        if let Some(id) = assessments::find_active_id(&self.sql(), provider, idempotency_key)? {
            return Ok(id);
        }
        let cfg = self.load_config()?;
        let after_order = provider.spec().after_order;
        let read_api = provider.spec().read_api;
        let creds = match (after_order, read_api) {
            (None, None) => None,
            _ => Some(self.credentials().await?),
        };
        // Enrichment signs its own first attempt after the answer (README "Order enrichment").
        let signing = match (read_api, &creds) {
            (Some(_), Some(_)) => Some(self.load_secrets(&cfg.id).await?),
            _ => None,
        };
        let mut awaited = creds.is_some();
        // Name the package from the catalogue; if the vendor's endpoint fails the order is
        // still accepted with the name and description null (SPEC §5).
        let catalogue = match self.packages_at_hand(&cfg, provider, &[]) {
            Some(p) => Some(p),
            None => {
                awaited = true;
                self.packages(&cfg, provider, &[]).await.ok()
            }
        };
        // Look again: another copy of this order may have committed while we awaited.
        if awaited {
            if let Some(id) = assessments::find_active_id(&self.sql(), provider, idempotency_key)? {
                return Ok(id);
            }
        }
        let id = secrets::new_id("ats_ass_");
        let mut a = normalize(
            &id,
            &cfg.id,
            Catalogue {
                packages: catalogue.as_deref(),
                default_kind: cfg.default_kind,
            },
        );
        // The reads that complete the record, if the tenant configured the provider's read
        // API; the record is stored (and the held record.new carries it) as the budget would
        // leave it, `partial`, until they finish.
        let insecure = self.config().allow_insecure;
        let run = match (read_api, &creds) {
            (Some(api), Some(c)) => (api.enrich)(&a, &c.source(provider), insecure),
            _ => None,
        };
        if let Some(run) = &run {
            run.outcome(false).apply(&mut a);
        }
        let t = now();
        let ob = self.outbox()?;
        let sql = self.sql();
        assessments::insert(&sql, &a, idempotency_key, t)?;
        let data = json!({ "candidateAssessment": a });
        let (event, held) = match (&run, read_api) {
            (Some(_), Some(_)) => {
                let deadline = t + ENRICH_BUDGET_MS;
                let event_id = ob.emit_held(EventType::RecordNew, &id, data, t, deadline)?;
                enrich::start(&sql, &id, provider, &event_id, t)?;
                (None, Some(event_id))
            }
            _ => (
                Some(ob.emit(EventType::RecordNew, Some(&id), data, t)?),
                None,
            ),
        };
        let mut call_ids = Vec::new();
        if let (Some(after_order), Some(creds)) = (after_order, &creds) {
            let cancel_url = match links::operation(provider) {
                Some(op) => Some(links::mint(&sql, provider, op, origin, &cfg.id, &id, t)?),
                None => None,
            };
            let placed = PlacedOrder {
                assessment_id: &id,
                record: &a,
                cancel_url: cancel_url.as_deref(),
                credentials: &creds.source(provider),
                allow_insecure: self.config().allow_insecure,
            };
            match after_order(&placed) {
                Ok(outbound) => call_ids = self.store_calls(provider, &id, outbound, t)?,
                // The order stands; what could not be sent is shown on the assessment.
                Err(e) => assessments::set_sync(
                    &sql,
                    &id,
                    &sync_failure(&format!("{} after the order", provider.spec().title), &e, t),
                )?,
            }
        }
        match (event, held, run, read_api, &creds, signing) {
            (Some(event), ..) => {
                self.kick(ob, event, t).await;
            }
            (None, Some(event_id), Some(run), Some(api), Some(c), Some(signing)) => {
                // The sweep sends the held event at its due time if nothing else does.
                let grace = crate::delivery::sweep_grace_ms(&ob.cfg.retry_schedule);
                self.arm(t + ENRICH_BUDGET_MS + grace).await;
                let e = enrich::Enrichment {
                    sql: self.sql(),
                    outbox: ob,
                    state: self.read_state.clone(),
                    api,
                    credentials: c.source(provider),
                    allow_insecure: insecure,
                    secrets: signing,
                    assessment_id: id.clone(),
                    event_id,
                };
                self.enrich_after_answer(e, run, t + ENRICH_BUDGET_MS);
            }
            _ => {}
        }
        if let Some(creds) = creds {
            self.send_after_answer(call_ids, creds)?;
        }
        Ok(id)
    }

    /// Cancel: CANCELLED, `record.deleted` carrying the full stored assessment (its
    /// `originData` stays the order request). An assessment already final (a repeat
    /// included) is left as it is: no event, no write-back; the answer is its status.
    /// With `write_back` credentials, the cancellation is also carried to the ATS as a
    /// CANCELLED result (stored in the same transaction, sent after the answer, retried).
    async fn cancel(
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

    /// The ATS reports an error about a call of ours: kept on the assessment when it names one
    /// of this provider's, and sent as `provider.error`.
    async fn report_error(
        &self,
        provider: Provider,
        reported: crate::providers::ReportedError,
    ) -> ApiResult<()> {
        let sql = self.sql();
        let known = match &reported.assessment_id {
            Some(id) => assessments::get(&sql, id)?.filter(|r| r.provider() == Some(provider)),
            None => None,
        };
        let t = now();
        let mut data = json!({ "providerError": reported.detail });
        data["providerError"]["provider"] = json!(provider.as_str());
        data["providerError"]["receivedAt"] = json!(crate::model::rfc3339(t));
        if let Some(row) = &known {
            assessments::append_error(&sql, row, data["providerError"].clone())?;
            data["candidateAssessment"] =
                serde_json::to_value(row.record()?).unwrap_or(Value::Null);
        }
        let ob = self.outbox()?;
        let event = ob.emit(
            EventType::ProviderError,
            known.as_ref().map(|r| r.id.as_str()),
            data,
            t,
        )?;
        self.kick(ob, event, t).await;
        Ok(())
    }
}

/// What [`Tenant::cancel`] did: cancelled the assessment, or found it already final.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum CancelStatus {
    Cancelled,
    AlreadyFinal(Status),
}

impl CancelStatus {
    /// The outcome for assessment `id`, as the provider's `render` gets it.
    fn of(self, id: &str) -> Cancellation<'_> {
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
    ResultUpdate {
        status: Status::Cancelled,
        score: None,
        max_score: None,
        result_url: None,
        started_at: None,
        completed_at: None,
        summary: None,
        metadata: Default::default(),
        reason: None,
        attachments: Vec::new(),
    }
}

/// The assessment's sync state (`providerSync`, README "Results back to the ATS") when the
/// provider refused to build its calls at all: failed, no attempts, the refusal's code and
/// message, at `t` (ms).
pub(super) fn sync_failure(call: &str, e: &ApiError, t: i64) -> Value {
    json!({"state": "failed", "call": call,
        "attempts": 0, "lastStatus": null,
        "error": {"code": e.code, "message": e.message},
        "updatedAt": crate::model::rfc3339(t)})
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_refused_call_shows_as_failed_without_attempts() {
        let e = ApiError::invalid_field("callbackUrl", "is missing");
        assert_eq!(
            sync_failure("X cancellation", &e, 0),
            json!({"state": "failed", "call": "X cancellation", "attempts": 0,
                "lastStatus": null,
                "error": {"code": "invalid_field", "message": "`callbackUrl` is missing."},
                "updatedAt": "1970-01-01T00:00:00.000Z"})
        );
    }

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
