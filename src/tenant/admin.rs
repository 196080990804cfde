//! The admin API's calls on one tenant (`/v1/tenants/{t}/…`, docs/contract.md "Admin API"): the
//! dispatch and the tenant's creation and changes. Parsing and views are pure functions in
//! `admin::tenants`; this file loads, calls them and stores.

use serde_json::json;
use worker::Response;

use super::{assessments, endpoints, now, Tenant, TenantRequest};
use crate::admin::tenants::{self, TenantSecrets};
use crate::error::{code, ApiError, ApiResult, Context};
use crate::http;
use crate::model::{parse_packages, EventType};
use crate::routes::Admin;
use crate::secrets;

impl Tenant {
    pub(super) async fn admin(&self, route: Admin, call: &TenantRequest) -> ApiResult<Response> {
        match route {
            Admin::CreateTenant => self.create_tenant(call).await,
            // Answered by the worker from the tenant directory, never forwarded here.
            Admin::ListTenants | Admin::ListProviders => Err(ApiError::route_not_found()),
            Admin::GetTenant(t) => {
                self.load_config()?;
                let s = self.load_secrets(&t).await?;
                let cfg = self.load_config()?;
                let mut v = tenants::view(&cfg, Some(&s), &self.keys()?, &call.origin, now());
                // What the object's SQLite database takes (README "Personal data").
                v["storageBytes"] = json!(self.sql().database_size());
                Ok(http::json(200, &v))
            }
            Admin::PatchTenant(t) => self.patch_tenant(&t, call).await,
            Admin::RotateWebhookSecret(t) => {
                self.load_config()?;
                let fresh = secrets::new_webhook_secret();
                // Rotated on the in-memory copy: a concurrent rotation replaces this one's
                // secret, which then co-signs like any previous secret.
                self.change_secrets(&t, |s| s.rotate_webhook_secret(fresh.clone(), now()))
                    .await?;
                Ok(http::json(201, &json!({"secret": fresh})))
            }
            Admin::CreateKey(t) => self.create_key(&t, call).await,
            Admin::DeleteKey(_, p) => self.delete_key(p).await,
            Admin::PutPackages(_) => {
                let mut cfg = self.load_config()?;
                let v = call.json()?;
                cfg.packages = parse_packages(&v).map_err(|m| {
                    ApiError::new(422, code::INVALID_FIELD, format!("Invalid packages: {m}."))
                })?;
                cfg.updated_at = now();
                self.save_config(&cfg)?;
                Ok(http::json(200, &json!({"data": cfg.packages})))
            }
            Admin::GetPackages(_) => {
                let cfg = self.load_config()?;
                Ok(http::json(200, &json!({"data": cfg.packages})))
            }
            Admin::TestWebhook(t) => {
                let id = self
                    .emit_and_send(
                        EventType::Ping,
                        None,
                        json!({"tenantId": t, "message": "ping from ats-bridge"}),
                    )
                    .await?;
                Ok(http::json(202, &json!({"eventId": id, "state": "pending"})))
            }
            Admin::ListAssessments(_) => {
                self.load_config()?;
                Ok(http::json(
                    200,
                    &assessments::list(&self.sql(), call.query.as_deref())?,
                ))
            }
            Admin::GetAssessment(_, id) => {
                self.load_config()?;
                let row = assessments::get(&self.sql(), &id)?
                    .ok_or_else(|| ApiError::not_found("assessment"))?;
                Ok(http::json(200, &row.view()))
            }
            Admin::PostResult(_, id) => self.post_result(&id, call).await,
            Admin::ListEvents(_) => Ok(http::json(
                200,
                &self.outbox()?.list(call.query.as_deref())?,
            )),
            Admin::GetEvent(_, id) => Ok(http::json(200, &self.outbox()?.get(&id)?)),
            Admin::ReplayEvent(_, id) => {
                // `?endpoint=<id>` replays the delivery to one webhook endpoint; without it (or
                // `webhook`), the delivery to the tenant's webhook (README "Webhook endpoints").
                let q = crate::admin::query::pairs(call.query.as_deref());
                let endpoint = crate::admin::query::get(&q, "endpoint").filter(|e| !e.is_empty());
                let ob = self.outbox()?;
                let due = ob.replay(&id, endpoint)?;
                self.kick(ob, due, now()).await;
                Ok(http::json(
                    202,
                    &json!({"eventId": id, "endpoint": endpoint.unwrap_or(endpoints::WEBHOOK), "state": "pending"}),
                ))
            }
            Admin::ReplayFailedEvents(_) => {
                let ob = self.outbox()?;
                let ids = ob.replay_failed().await?;
                if !ids.is_empty() {
                    let grace = crate::delivery::sweep_grace_ms(&ob.cfg.retry_schedule);
                    self.arm(now() + grace).await;
                }
                Ok(http::json(
                    202,
                    &json!({"replayed": ids.len(), "eventIds": ids}),
                ))
            }
            Admin::ReplayProviderSync(_, id) => self.replay_provider_sync(&id).await,
            Admin::ReplayFailedProviderSyncs(_) => self.replay_failed_provider_syncs().await,
            Admin::CreateConnectLink(t) => self.create_connect_link(&t, call),
            Admin::ListConnectLinks(_) => self.list_connect_links(),
            Admin::RevokeConnectLink(_, id) => self.revoke_connect_link(&id),
            Admin::Erasure(_) => self.erasure(call),
            Admin::CreateEndpoint(_) => self.create_endpoint(call),
            Admin::ListEndpoints(_) => self.list_endpoints(),
            Admin::GetEndpoint(_, id) => self.get_endpoint(&id),
            Admin::PatchEndpoint(_, id) => self.patch_endpoint(&id, call).await,
            Admin::DeleteEndpoint(_, id) => self.delete_endpoint(&id),
            Admin::ListEndpointDeliveries(_, id) => self.endpoint_deliveries(&id, call),
            Admin::ListJobs(_, p) => self.list_jobs(p, call).await,
        }
    }

    pub(super) async fn create_tenant(&self, call: &TenantRequest) -> ApiResult<Response> {
        let new = tenants::parse_create(&call.json()?, self.config().allow_insecure)?;
        if self.exists() {
            return Err(ApiError::conflict(
                code::TENANT_EXISTS,
                format!("A tenant with id `{}` already exists.", new.id),
            ));
        }
        let n = now();
        let (cfg, chosen_secret) = new.into_config(n);
        // Claim the id before the first await so a concurrent create gets 409.
        self.migrate();
        self.save_config(&cfg)?;
        self.exists.set(Some(true));
        let secret = chosen_secret.unwrap_or_else(secrets::new_webhook_secret);
        let s = TenantSecrets {
            webhook_secret: secret.clone(),
            ..Default::default()
        };
        // In memory first, so requests arriving while KV is written see the tenant whole.
        *self.secrets.borrow_mut() = Some(s.clone());
        let version = self.secrets_version.get() + 1;
        self.secrets_version.set(version);
        if let Err(e) = self.persist_secrets(&cfg.id, version).await {
            // Undo the claim: a tenant without its secret must not exist half-made.
            let _ = self.sql().exec("DELETE FROM tenant", None);
            *self.config_cache.borrow_mut() = None;
            *self.secrets.borrow_mut() = None;
            self.exists.set(Some(false));
            return Err(e);
        }
        let mut v = tenants::view(&cfg, Some(&s), &[], &call.origin, n);
        v["webhook"]["secret"] = json!(secret);
        Ok(http::json(201, &v))
    }

    pub(super) async fn patch_tenant(&self, t: &str, call: &TenantRequest) -> ApiResult<Response> {
        self.load_config()?;
        let patch = tenants::parse_patch(&call.json()?, self.config().allow_insecure)?;
        // Await first; from here the configuration is read, changed and written with no
        // await in between, so a concurrent 410-disable or PUT packages is never overwritten
        // with what this request read before it.
        self.load_secrets(t).await?;
        let mut cfg = self.load_config()?;
        let touches_secrets = patch.touches_secrets();
        let retention_changed = patch.retention_days != tenants::Change::Keep;
        let (reenabled, version) = {
            let mut slot = self.secrets.borrow_mut();
            let s = slot.as_mut().context("secrets in memory")?;
            // Re-enables only a 410-disabled endpoint (README "Webhooks you receive"): on an
            // enabled one, the same or a new URL never cuts a backoff or a receiver's Retry-After
            // short.
            let reenabled = tenants::apply_patch(&mut cfg, s, patch, now());
            let v = self.secrets_version.get() + touches_secrets as u64;
            self.secrets_version.set(v);
            (reenabled, v)
        };
        self.save_config(&cfg)?;
        let flushed = if reenabled {
            // What the 410 held goes out now through the queue (the rows are marked due in
            // this same synchronous stretch; the messages follow).
            let ob = self.outbox()?;
            ob.flush(None).await?
        } else {
            0
        };
        if touches_secrets {
            // A PATCH is idempotent: if KV fails it answers 500 and can be repeated.
            self.persist_secrets(t, version).await?;
        }
        if retention_changed {
            // The alarm works out the next purge (README "Personal data").
            self.arm(now() + 1_000).await;
        }
        if flushed > 0 {
            let grace = crate::delivery::sweep_grace_ms(&self.config().retry_schedule);
            self.arm(now() + grace).await;
        }
        let s = self.load_secrets(t).await?;
        Ok(http::json(
            200,
            &tenants::view(&cfg, Some(&s), &self.keys()?, &call.origin, now()),
        ))
    }
}
