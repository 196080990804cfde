//! Provider edge operations inside the tenant object: one match over the operation kinds of
//! the provider seam (`providers::Handler`, docs/architecture.md). Each order is stored and its
//! event committed in one transaction before the ATS gets its answer; the first webhook
//! attempt starts right after.

use std::collections::HashMap;

use serde_json::{json, Value};
use worker::{Method, Response};

use super::calls::NewCall;
use super::{assessments, links, now, Call, Tenant};
use crate::admin::tenants::{Credentials, TenantConfig};
use crate::delivery::attempt;
use crate::error::{ApiError, ApiResult};
use crate::http;
use crate::model::{
    parse_packages, CandidateAssessment, Catalogue, EventType, Package, Provider, ResultUpdate,
    Status,
};
use crate::providers::{EdgeRequest, Handler, Idempotency, PlacedOrder, StatusView, WriteBack};
use crate::routes::EdgeCall;
use crate::{secrets, targets};

/// The vendor's `packages_url` answer may be reused for this long (SPEC §5).
const PACKAGES_TTL_MS: i64 = 5 * 60 * 1000;
const PACKAGES_TIMEOUT_MS: u64 = 10_000;
/// The vendor's `packages_url` answer is read in full up to this many bytes (SPEC §20: at
/// least 256 KB; README "What the ATSs call"); a longer answer is a 502 naming the cap.
pub const PACKAGES_READ_CAP: usize = 256 * 1024;

/// Cached `packages_url` answers: (url, provider, context as a query string) → (fetched at,
/// packages).
pub type PackageCache = HashMap<(String, Provider, String), (i64, Vec<Package>)>;

/// What a `packages_url` question says besides tenant and provider (`Handler::Config`'s
/// context), e.g. `[("job_id", "5521")]`.
pub type PackageContext = [(&'static str, String)];

impl Tenant {
    /// Run an authenticated edge call: the provider parses and renders, this object stores.
    pub(super) async fn edge(&self, edge: EdgeCall, call: &Call) -> ApiResult<Response> {
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
                self.cancel(provider, &id, not_found, None).await?;
                render(&id)
            }
            Handler::CancelLink { render } => {
                // The link is the credential: unknown tokens get the one edge 401.
                let id = links::resolve(&self.sql(), &call.key_hashes)?
                    .ok_or_else(|| ApiError::unauthorized_edge(provider.spec().edge_auth))?;
                // The ATS handed the cancellation to us: its record is brought to CANCELLED
                // too, through the provider's write-back (Recruitee: report `canceled`).
                let creds = self.credentials().await?;
                self.cancel(provider, &id, "assessment", Some(creds))
                    .await?;
                render(&id)
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
    /// assessment already holds `dedupe_key`: then its id comes back and nothing is emitted.
    /// A provider's `after_order` call(s) (e.g. a "report sent" carrying the order's cancel
    /// link, `providers::PlacedOrder`) are stored in the same transaction and sent right after the answer, with retries.
    async fn place_order(
        &self,
        provider: Provider,
        dedupe_key: &str,
        normalize: impl FnOnce(&str, &str, Catalogue<'_>) -> CandidateAssessment,
        origin: &str,
    ) -> ApiResult<String> {
        if let Some(id) = assessments::find_active_id(&self.sql(), provider, dedupe_key)? {
            return Ok(id);
        }
        let cfg = self.load_config()?;
        let after_order = provider.spec().after_order;
        let creds = match after_order {
            Some(_) => Some(self.credentials().await?),
            None => None,
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
            if let Some(id) = assessments::find_active_id(&self.sql(), provider, dedupe_key)? {
                return Ok(id);
            }
        }
        let id = secrets::new_id("ats_ass_");
        let a = normalize(
            &id,
            &cfg.id,
            Catalogue {
                packages: catalogue.as_deref(),
                default_kind: cfg.default_kind,
            },
        );
        let t = now();
        let ob = self.outbox()?;
        let sql = self.sql();
        assessments::insert(&sql, &a, dedupe_key, t)?;
        let event = ob.emit(
            EventType::RecordNew,
            Some(&id),
            json!({ "candidateAssessment": a }),
            t,
        )?;
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
                Ok(outbound) => {
                    let calls = self.calls()?;
                    for c in outbound {
                        call_ids.push(calls.insert(
                            NewCall {
                                assessment_id: id.clone(),
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
                // The order stands; what could not be sent is shown on the assessment.
                Err(e) => assessments::set_sync(
                    &sql,
                    &id,
                    &json!({"state": "failed", "call": format!("{} after the order", provider.spec().title),
                        "attempts": 0, "lastStatus": null,
                        "error": {"code": e.code, "message": e.message},
                        "updatedAt": crate::model::rfc3339(t)}),
                )?,
            }
        }
        self.kick(ob, event, t).await;
        if let (false, Some(creds)) = (call_ids.is_empty(), creds) {
            let calls = self.calls()?;
            let auth = move |p: Provider| creds.authorization(p);
            self.state.wait_until(async move {
                for call_id in call_ids {
                    calls.attempt(&call_id, None, &auth).await;
                }
            });
        }
        Ok(id)
    }

    /// Cancel: CANCELLED, `record.deleted` carrying the full stored assessment (its
    /// `originData` stays the order request). Repeats succeed without a second event.
    /// With `write_back` credentials, the cancellation is also carried to the ATS as a
    /// CANCELLED result (stored in the same transaction, sent after the answer, retried).
    async fn cancel(
        &self,
        provider: Provider,
        id: &str,
        not_found: &str,
        write_back: Option<Credentials>,
    ) -> ApiResult<()> {
        let sql = self.sql();
        let row = assessments::get(&sql, id)?
            .filter(|r| r.provider() == Some(provider))
            .ok_or_else(|| ApiError::not_found(not_found))?;
        if row.status().is_final() {
            return Ok(());
        }
        let t = now();
        let spec = provider.spec();
        // A key held for good (e.g. Recruitee's report id) stays taken after a cancellation.
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
            let cancelled = ResultUpdate {
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
            };
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
                Ok(_) => {}
                Err(e) => assessments::set_sync(
                    &sql,
                    &row.id,
                    &json!({"state": "failed", "call": format!("{} cancellation", spec.title),
                        "attempts": 0, "lastStatus": null,
                        "error": {"code": e.code, "message": e.message},
                        "updatedAt": crate::model::rfc3339(t)}),
                )?,
            }
        }
        self.kick(ob, event, t).await;
        if let (false, Some(creds)) = (call_ids.is_empty(), write_back) {
            let calls = self.calls()?;
            let auth = move |p: Provider| creds.authorization(p);
            self.state.wait_until(async move {
                for call_id in call_ids {
                    calls.attempt(&call_id, None, &auth).await;
                }
            });
        }
        Ok(())
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

    /// The tenant's packages, in SPEC §5 order: the vendor's `packages_url` (cached for 5
    /// minutes; a failure is a 502, never silently replaced), else the stored list, else
    /// `static_package_id`, else none.
    pub(super) async fn packages(
        &self,
        cfg: &TenantConfig,
        provider: Provider,
        context: &PackageContext,
    ) -> ApiResult<Vec<Package>> {
        if let Some(p) = self.packages_at_hand(cfg, provider, context) {
            return Ok(p);
        }
        let url = cfg.packages_url.clone().unwrap_or_default();
        let t = now();
        let fetched = self.fetch_packages(cfg, &url, provider, context).await?;
        self.package_cache
            .borrow_mut()
            .insert((url, provider, context_key(context)), (t, fetched.clone()));
        Ok(fetched)
    }

    /// The packages if they are known without I/O: stored, static, or a fresh cached answer
    /// of `packages_url`. None: `packages_url` has to be asked.
    fn packages_at_hand(
        &self,
        cfg: &TenantConfig,
        provider: Provider,
        context: &PackageContext,
    ) -> Option<Vec<Package>> {
        let Some(url) = &cfg.packages_url else {
            if !cfg.packages.is_empty() {
                return Some(cfg.packages.clone());
            }
            return Some(
                cfg.static_package_id
                    .iter()
                    .map(|id| Package {
                        id: id.clone(),
                        name: id.clone(),
                        description: None,
                        package_type: None,
                        kind: Some(cfg.default_kind),
                        criteria: vec![],
                    })
                    .collect(),
            );
        };
        let cache = self.package_cache.borrow();
        let (at, p) = cache.get(&(url.clone(), provider, context_key(context)))?;
        (now() - at < PACKAGES_TTL_MS).then(|| p.clone())
    }

    async fn fetch_packages(
        &self,
        cfg: &TenantConfig,
        url: &str,
        provider: Provider,
        context: &PackageContext,
    ) -> ApiResult<Vec<Package>> {
        let upstream = |why: String| {
            worker::console_warn!(
                "{}",
                json!({"msg": "packages_url failed", "tenant": cfg.id, "why": why})
            );
            ApiError::upstream(format!("The vendor's packages_url failed: {why}."))
        };
        targets::check_target(url, self.config().allow_insecure)
            .map_err(|why| upstream(format!("the URL {why}")))?;
        let secrets = self.load_secrets(&cfg.id).await?;
        let mut body = json!({ "tenant_id": cfg.id, "provider": provider.as_str() });
        for (k, v) in context {
            body[*k] = json!(v);
        }
        let body = body.to_string();
        let headers = attempt::signed_headers(
            &secrets.signing_secrets(now()),
            &secrets::new_id("msg_"),
            &body,
            now(),
        );
        let r = attempt::send_with_timeout(
            Method::Post,
            url,
            headers,
            Some(body),
            PACKAGES_TIMEOUT_MS,
            PACKAGES_READ_CAP,
        )
        .await;
        match r.status {
            Some(s) if (200..300).contains(&s) => {}
            Some(s) => return Err(upstream(format!("HTTP {s}"))),
            None => return Err(upstream(r.error().unwrap_or_else(|| "no answer".into()))),
        }
        if r.body_over_cap {
            return Err(upstream(format!(
                "the answer exceeds the {} KB cap on packages_url answers",
                PACKAGES_READ_CAP / 1024
            )));
        }
        let v: Value = serde_json::from_str(&r.body)
            .map_err(|_| upstream("the answer is not a JSON array of packages".into()))?;
        parse_packages(&v).map_err(upstream)
    }
}

/// The cache-key form of a package context: `job_id=5521&stage_id=88` ("" when empty).
fn context_key(context: &PackageContext) -> String {
    form_urlencoded::Serializer::new(String::new())
        .extend_pairs(context.iter().map(|(k, v)| (*k, v.as_str())))
        .finish()
}
