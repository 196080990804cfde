//! Provider edge operations inside the tenant object: one match over the operation kinds of
//! the provider seam (`providers::Handler`, docs/architecture.md). Each order is stored and its
//! event committed in one transaction before the ATS gets its answer; the first webhook
//! attempt starts right after.
//!
//! `order.rs` places orders, `cancel.rs` cancels, `calls.rs` stores and sends the provider
//! calls they cause; this file dispatches and takes the ATS's error reports.

mod calls;
mod cancel;
mod order;

use serde_json::{json, Value};
use worker::Response;

use super::{assessments, links, now, Tenant, TenantRequest};
use crate::error::{ApiError, ApiResult};
use crate::http;
use crate::model::{EventType, Provider};
use crate::providers::{EdgeRequest, Handler, StatusView};
use crate::routes::EdgeRoute;

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
                // The link is the credential: unknown tokens get the one cancel-link 401.
                let id = links::resolve(&self.sql(), &call.key_hashes)?
                    .ok_or_else(crate::providers::invalid_cancel_link)?;
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
            let record = serde_json::to_value(row.record()?).unwrap_or(Value::Null);
            // An erased assessment takes no personal data back (README "Personal data"): the
            // report keeps only its time and code, like the errors the erasure redacted.
            if crate::tenant::privacy::is_erased_record(&record) {
                let redacted =
                    crate::tenant::privacy::redact_errors(&json!([data["providerError"]]));
                data["providerError"] = redacted[0].clone();
                data["providerError"]["provider"] = json!(provider.as_str());
            }
            assessments::append_error(&sql, row, data["providerError"].clone())?;
            data["candidateAssessment"] = record;
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
