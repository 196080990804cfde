//! Placing an order (`providers::Handler::Order`): stored and its `record.new` committed in
//! one transaction before the ATS gets its answer (README "Edge endpoints").

use serde_json::json;

use super::calls::sync_failure;
use crate::error::ApiResult;
use crate::model::{CandidateAssessment, Catalogue, EventType, Provider};
use crate::providers::{PlacedOrder, ENRICH_BUDGET_MS};
use crate::secrets;
use crate::tenant::{assessments, enrich, links, now, Tenant};

impl Tenant {
    /// Store a new order and commit its `record.new` (one transaction), unless an active
    /// assessment already holds `idempotency_key`: then its id comes back and nothing is emitted.
    /// A provider's `after_order` call(s) (e.g. a "report sent" carrying the order's cancel
    /// link, `providers::PlacedOrder`) are stored in the same transaction and sent right after the answer, with retries.
    pub(super) async fn place_order(
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
        // still accepted with the name and description null (docs/contract.md "Admin API").
        let catalogue = match self.packages_at_hand(&cfg, provider, &[]) {
            // Known, or a failure remembered for a while: the order goes on at once.
            Some(known) => known.ok(),
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
}
