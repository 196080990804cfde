//! The `TENANTS` Durable Object: one instance per tenant, the authority for its keys,
//! configuration, assessments, events and delivery attempts (SQLite storage API).
//!
//! Atomicity: every write that belongs to one change (an assessment and its event, a key and
//! its replacement) is issued synchronously with no `await` in between, which the runtime
//! commits as one implicit transaction; the response waits for it (output gate).
//!
//! Races: the input gate does not close around KV reads and writes or outbound fetches, so
//! another request can run while a handler awaits one. Every handler therefore does its
//! awaiting (loading secrets, credentials) first, and then reads the state it decides on and
//! writes the decision with no await in between; KV writes of the secrets go one at a time
//! from the in-memory copy (`change_secrets`).

mod assessments;
mod calls;
mod connect;
mod edge;
mod endpoints;
mod erasure;
mod idempotency;
mod links;
mod migrations;
mod outbox;
pub(crate) mod privacy;
mod results;
mod schedule;
mod serial;
mod store;

use std::cell::{Cell, OnceCell, RefCell};
use std::rc::Rc;

use serde::Deserialize;
use serde_json::{json, Value};
use worker::{
    durable_object, Date, DurableObject, Env, Request, Response, Result, SqlStorage,
    SqlStorageValue, State,
};

use crate::admin::tenants::{self, KeyInfo, TenantConfig, TenantSecrets, ROTATION_WINDOW_MS};
use crate::config::Config;
use crate::delivery::{MsgKind, QueueMsg};
use crate::error::{code, ApiError, ApiResult, Context};
use crate::http;
use crate::model::EventType;
use crate::model::{parse_packages, Provider};
use crate::router::{H_KEY_HASHES, H_ORIGIN, H_REQUEST_ID};
use crate::routes::{self, Admin, EdgeCall, Method};
use crate::secrets;
use crate::weburl::WebUrl;
use calls::Calls;
use outbox::{Due, Outbox};

#[durable_object]
pub struct Tenant {
    state: State,
    env: Env,
    cfg: OnceCell<Config>,
    /// Whether this object's storage holds a tenant (checked once, then kept in memory).
    exists: Cell<Option<bool>>,
    /// KV-held secrets, cached: every write to them goes through this object.
    secrets: RefCell<Option<TenantSecrets>>,
    /// Changes made to `secrets` in memory, and how many of them KV holds.
    secrets_version: Cell<u64>,
    secrets_written: Cell<u64>,
    /// KV writes of the secrets, one at a time.
    secrets_serial: serial::Serial,
    /// The alarm time last set by this instance (None: unknown, ask storage).
    alarm_at: Cell<Option<i64>>,
    package_cache: RefCell<edge::PackageCache>,
    config_cache: store::ConfigCache,
    /// The `keys` rows (None: not read yet). Every write to `keys` goes through this object
    /// and clears it, so edge authentication needs no query.
    key_cache: RefCell<Option<Rc<Vec<KeyRow>>>>,
}

/// A row of `keys`: a provider's current key hash and, during a rotation grace period, the
/// previous one.
#[derive(Deserialize)]
struct KeyRow {
    provider: String,
    hash: String,
    created_at: i64,
    previous_hash: Option<String>,
    previous_until: Option<i64>,
}

/// What a handler needs from the incoming request.
pub(crate) struct Call {
    method: Method,
    path: String,
    query: Option<String>,
    origin: String,
    key_hashes: Vec<String>,
    /// The request's headers (the front door forwards only what the provider declared).
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Call {
    /// A request header's value (names compared case-insensitively).
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
    fn json(&self) -> ApiResult<Value> {
        if self.body.is_empty() {
            return Err(ApiError::bad_json("the body is empty"));
        }
        serde_json::from_slice(&self.body).map_err(ApiError::bad_json)
    }
}

pub(crate) fn now() -> i64 {
    Date::now().as_millis() as i64
}

/// `map_err(internal("what"))`: an internal fault with context, logged once where the
/// response is made (`http::error`). Only `outbox.rs` and `calls.rs` still use it; everything
/// else writes `.context("what")` (`error::Context`).
pub(crate) fn internal<E: std::fmt::Display>(what: &str) -> impl Fn(E) -> ApiError + '_ {
    move |e| ApiError::internal_because(format!("tenant object: {what}: {e}"))
}

impl DurableObject for Tenant {
    fn new(state: State, env: Env) -> Self {
        Tenant {
            state,
            env,
            cfg: OnceCell::new(),
            exists: Cell::new(None),
            secrets: RefCell::new(None),
            secrets_version: Cell::new(0),
            secrets_written: Cell::new(0),
            secrets_serial: Default::default(),
            alarm_at: Cell::new(None),
            package_cache: RefCell::new(Default::default()),
            config_cache: Default::default(),
            key_cache: RefCell::new(None),
        }
    }

    async fn fetch(&self, mut req: Request) -> Result<Response> {
        let href = req.inner().url();
        let url = WebUrl::parse(&href)
            .ok_or_else(|| worker::Error::RustError(format!("failed to parse Url: {href}")))?;
        let header = |n: &str| req.headers().get(n).ok().flatten();
        let request_id = header(H_REQUEST_ID);
        let call = Call {
            method: Method::parse(req.method().as_ref()),
            path: url.path().to_string(),
            query: url.query().map(str::to_string),
            origin: header(H_ORIGIN).unwrap_or_default(),
            key_hashes: header(H_KEY_HASHES)
                .map(|h| h.split(',').map(str::to_string).collect())
                .unwrap_or_default(),
            headers: req.headers().entries().collect(),
            body: req.bytes().await.unwrap_or_default(),
        };
        let resp = match self.dispatch(&call).await {
            Ok(r) => r,
            Err(e) => http::error(&e),
        };
        Ok(match request_id {
            Some(id) => http::with_header(resp, H_REQUEST_ID, &id),
            None => resp,
        })
    }

    /// The periodic sweep: re-enqueue overdue pending events, then re-arm.
    async fn alarm(&self) -> Result<Response> {
        self.alarm_at.set(None);
        if self.exists() {
            let webhooks = match self.outbox() {
                Ok(o) => o.sweep().await,
                Err(e) => Err(e),
            };
            let calls = match self.calls() {
                Ok(c) => c.sweep().await,
                Err(e) => Err(e),
            };
            // Retention (README "Personal data"): a bounded purge per alarm.
            let retention = self.retention_pass();
            // Idempotency keys past their 24 hours (README "Results"): a bounded purge too.
            let keys = idempotency::purge(&self.sql(), now());
            let next = match (webhooks, calls, retention, keys) {
                (Ok(a), Ok(b), Ok(c), Ok(d)) => a.into_iter().chain(b).chain(c).chain(d).min(),
                (a, b, c, d) => {
                    worker::console_error!(
                        "sweep failed: {:?} {:?} {:?} {:?}",
                        a.err(),
                        b.err(),
                        c.err(),
                        d.err()
                    );
                    Some(now() + 30_000)
                }
            };
            if let Some(next) = next {
                self.arm(next).await;
            }
        }
        Response::ok("swept")
    }
}

impl Tenant {
    fn sql(&self) -> SqlStorage {
        self.state.storage().sql()
    }

    fn config(&self) -> &Config {
        self.cfg.get_or_init(|| Config::from_env(&self.env))
    }

    fn kv(&self) -> ApiResult<worker::KvStore> {
        self.env.kv("SECRETS").context("SECRETS binding")
    }

    /// Does this object hold a tenant? Answered from memory after the first look.
    fn exists(&self) -> bool {
        if let Some(e) = self.exists.get() {
            return e;
        }
        #[derive(Deserialize)]
        struct N {
            n: i64,
        }
        let has_table = self
            .sql()
            .exec(
                "SELECT count(*) AS n FROM sqlite_master WHERE type='table' AND name='tenant'",
                None,
            )
            .and_then(|c| c.one::<N>())
            .map(|r| r.n > 0)
            .unwrap_or(false);
        let e = has_table
            && self
                .sql()
                .exec("SELECT count(*) AS n FROM tenant", None)
                .and_then(|c| c.one::<N>())
                .map(|r| r.n > 0)
                .unwrap_or(false);
        if e {
            self.migrate();
        }
        self.exists.set(Some(e));
        e
    }

    /// Bring storage to the schema this code expects (`migrations::LADDER`).
    fn migrate(&self) {
        if let Err(e) = migrations::migrate(&self.sql()) {
            worker::console_error!("tenant object: {e}");
        }
    }

    fn load_config(&self) -> ApiResult<TenantConfig> {
        if !self.exists() {
            return Err(ApiError::not_found("tenant"));
        }
        store::read_config(&self.sql(), &self.config_cache)
    }

    fn save_config(&self, cfg: &TenantConfig) -> ApiResult<()> {
        store::write_config(&self.sql(), &self.config_cache, cfg)
    }

    /// The outbox for this tenant (owned handles, so deliveries can outlive the request).
    fn outbox(&self) -> ApiResult<Outbox> {
        let cfg = self.load_config()?;
        Ok(Outbox {
            sql: self.sql(),
            config_cache: self.config_cache.clone(),
            env: self.env.clone(),
            cfg: self.config().clone(),
            tenant: cfg.id,
        })
    }

    fn calls(&self) -> ApiResult<Calls> {
        let cfg = self.load_config()?;
        Ok(Calls {
            sql: self.sql(),
            env: self.env.clone(),
            cfg: self.config().clone(),
            tenant: cfg.id,
        })
    }

    /// Make sure the sweep alarm fires no later than `at`. The decision is recorded in memory
    /// before the storage call, so a concurrent `arm` builds on it instead of overriding an
    /// earlier alarm with a later one.
    async fn arm(&self, at: i64) {
        let storage = self.state.storage();
        let current = match self.alarm_at.get() {
            Some(a) => Some(a),
            None => {
                let stored = storage.get_alarm().await.ok().flatten();
                // Another `arm` may have decided while this one awaited: its decision stands.
                self.alarm_at.get().or(stored)
            }
        };
        if current.is_some_and(|c| c <= at && c > now() - 60_000) {
            self.alarm_at.set(current);
            return;
        }
        self.alarm_at.set(Some(at));
        let date = worker::js_sys::Date::new(&(at as f64).into());
        if let Err(e) = storage.set_alarm(worker::ScheduledTime::new(date)).await {
            worker::console_error!("set alarm: {e}");
            self.alarm_at.set(None);
        }
    }

    /// Commit an event, arm the sweep, and start the first attempt at once (after the
    /// response, in `wait_until`; the output gate holds the fetch until the commit is durable).
    async fn emit_and_send(
        &self,
        ty: EventType,
        record_id: Option<&str>,
        data: Value,
    ) -> ApiResult<String> {
        let ob = self.outbox()?;
        let t = now();
        let e = ob.emit(ty, record_id, data, t)?;
        Ok(self.kick(ob, e, t).await)
    }

    /// Arm the safety-net alarm and attempt the event at once, after the response (in
    /// `wait_until`). Returns the event id.
    async fn kick(&self, ob: Outbox, due: Due, t: i64) -> String {
        let id = due.id().to_string();
        self.arm(t + crate::delivery::sweep_grace_ms(&ob.cfg.retry_schedule))
            .await;
        match self.load_secrets(&ob.tenant).await {
            Ok(secrets) => self
                .state
                .wait_until(async move { ob.attempt_now(due, &secrets).await }),
            Err(err) => {
                ob.unclaim(&due);
                worker::console_error!("no secrets for immediate attempt (sweep will retry): {err}")
            }
        }
        id
    }

    async fn load_secrets(&self, tenant: &str) -> ApiResult<TenantSecrets> {
        if let Some(s) = self.secrets.borrow().as_ref() {
            return Ok(s.clone());
        }
        let s: TenantSecrets = self
            .kv()?
            .get(&format!("tenant:{tenant}"))
            .json()
            .await
            .context("read secrets")?
            .context("secrets in KV")?;
        // Another handler may have loaded (and changed) them while this one awaited: the
        // copy in memory is then the newer one.
        Ok(self.secrets.borrow_mut().get_or_insert(s).clone())
    }

    /// Change the tenant's secrets. `change` decides and applies the change on the in-memory
    /// copy with no await in between, so concurrent changes (two rotations) build on each
    /// other instead of one overwriting the other; then KV is written. On a KV failure the
    /// in-memory copy is dropped (the next reader gets KV's) and the answer is a 500.
    async fn change_secrets<R>(
        &self,
        tenant: &str,
        change: impl FnOnce(&mut TenantSecrets) -> R,
    ) -> ApiResult<R> {
        self.load_secrets(tenant).await?;
        let (out, version) = {
            let mut slot = self.secrets.borrow_mut();
            let s = slot.as_mut().context("secrets in memory")?;
            let out = change(s);
            let v = self.secrets_version.get() + 1;
            self.secrets_version.set(v);
            (out, v)
        };
        self.persist_secrets(tenant, version).await?;
        Ok(out)
    }

    /// Write the in-memory secrets to KV until KV holds change `version` (one write at a
    /// time; each writes the newest copy, so the last to land is the newest).
    async fn persist_secrets(&self, tenant: &str, version: u64) -> ApiResult<()> {
        let _turn = self.secrets_serial.turn().await;
        if self.secrets_written.get() >= version {
            return Ok(()); // an earlier write carried this change
        }
        let (text, newest) = match self.secrets.borrow().as_ref() {
            Some(s) => (
                serde_json::to_string(s).context("encode secrets")?,
                self.secrets_version.get(),
            ),
            // A failed write dropped the copy this change was made on.
            None => {
                return Err(ApiError::internal_because(
                    "secrets: a failed write dropped the copy this change was made on",
                ))
            }
        };
        let written = match self.kv()?.put(&format!("tenant:{tenant}"), text) {
            Ok(put) => put.execute().await.context("write secrets"),
            Err(e) => Err(e).context("kv put"),
        };
        match written {
            Ok(()) => {
                self.secrets_written
                    .set(self.secrets_written.get().max(newest));
                Ok(())
            }
            Err(e) => {
                *self.secrets.borrow_mut() = None;
                Err(e)
            }
        }
    }

    fn key_rows(&self) -> ApiResult<Rc<Vec<KeyRow>>> {
        if let Some(rows) = self.key_cache.borrow().as_ref() {
            return Ok(rows.clone());
        }
        let rows: Rc<Vec<KeyRow>> = Rc::new(
            self.sql()
                .exec(
                    "SELECT provider, hash, created_at, previous_hash, previous_until FROM keys ORDER BY provider",
                    None,
                )
                .and_then(|c| c.to_array())
                .context("read keys")?,
        );
        *self.key_cache.borrow_mut() = Some(rows.clone());
        Ok(rows)
    }

    fn keys(&self) -> ApiResult<Vec<KeyInfo>> {
        Ok(self
            .key_rows()?
            .iter()
            .map(|r| KeyInfo {
                provider: r.provider.clone(),
                created_at: r.created_at,
            })
            .collect())
    }

    fn key_hash(&self, p: Provider) -> ApiResult<Option<String>> {
        Ok(self
            .key_rows()?
            .iter()
            .find(|r| r.provider == p.as_str())
            .map(|r| r.hash.clone()))
    }

    async fn dispatch(&self, call: &Call) -> ApiResult<Response> {
        let segs = routes::segments(&call.path);
        match segs.as_slice() {
            ["v1", rest @ ..] => {
                let route = routes::match_admin(call.method, rest)?;
                self.admin(route, call).await
            }
            ["internal", op] => self.internal_call(op, call).await,
            ["connect", t, token, action @ ..] => self.connect_call(t, token, action, call).await,
            ["t", rest @ ..] => {
                let edge = routes::match_edge(call.method, rest)?;
                self.edge_call(edge.call, call).await
            }
            ["p", rest @ ..] => {
                let edge = routes::match_partner(call.method, rest)?;
                self.edge_call(edge, call).await
            }
            _ => Err(ApiError::route_not_found()),
        }
    }

    /// An edge call: authenticate, run, and answer errors in the provider's shape.
    async fn edge_call(&self, edge: EdgeCall, call: &Call) -> ApiResult<Response> {
        let shape = edge.provider.spec().error_shape;
        // A cancel link is its own credential, checked by its handler against the stored
        // link hashes; every other operation needs the provider's key.
        let authenticated = match edge.op.handler {
            crate::providers::Handler::CancelLink { .. } if self.exists() => Ok(()),
            crate::providers::Handler::CancelLink { .. } => {
                Err(ApiError::unauthorized_edge(edge.provider.spec().edge_auth))
            }
            _ => self.authenticate(edge.provider, call),
        };
        match authenticated {
            Ok(()) => self.edge(edge, call).await,
            Err(e) => Err(e),
        }
        .map_err(|e| e.shaped(shape))
    }

    /// Edge authentication against the authoritative key hashes (SPEC §4). Unknown tenant,
    /// wrong provider, revoked or rotated key: the same 401.
    fn authenticate(&self, provider: Provider, call: &Call) -> ApiResult<()> {
        if !self.exists() {
            return Err(ApiError::unauthorized_edge(provider.spec().edge_auth));
        }
        let (name, t) = (provider.as_str(), now());
        let rows = self.key_rows()?;
        // The previous key counts only inside its rotation grace period.
        let hashes = rows.iter().filter(|r| r.provider == name).flat_map(|r| {
            let previous = r
                .previous_hash
                .as_ref()
                .filter(|_| r.previous_until > Some(t));
            std::iter::once(&r.hash).chain(previous)
        });
        let mut ok = false;
        for stored in hashes {
            for h in &call.key_hashes {
                ok |= secrets::ct_eq(h, stored);
            }
        }
        if ok {
            Ok(())
        } else {
            Err(ApiError::unauthorized_edge(provider.spec().edge_auth))
        }
    }

    async fn admin(&self, route: Admin, call: &Call) -> ApiResult<Response> {
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
                self.change_secrets(&t, |s| {
                    let n = now();
                    s.previous_webhook_secrets.retain(|(_, until)| *until > n);
                    s.previous_webhook_secrets.insert(
                        0,
                        (
                            std::mem::replace(&mut s.webhook_secret, fresh.clone()),
                            n + ROTATION_WINDOW_MS,
                        ),
                    );
                })
                .await?;
                Ok(http::json(201, &json!({"secret": fresh})))
            }
            Admin::CreateKey(t) => self.create_key(&t, call).await,
            Admin::DeleteKey(t, p) => {
                self.load_config()?;
                let old = self.key_hash(p)?;
                self.sql()
                    .exec(
                        "DELETE FROM keys WHERE provider = ?",
                        vec![p.as_str().into()],
                    )
                    .context("delete key")?;
                self.key_cache.replace(None);
                if let Some(old) = old {
                    // The index entry is only a cache; the row above is what edge auth reads.
                    let _ = self.kv()?.delete(&format!("key:{old}")).await;
                }
                let _ = t;
                Ok(http::empty(204))
            }
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
                // `?endpoint=<id>` replays the delivery to one extra endpoint; without it (or
                // `webhook`), the delivery to the tenant's webhook.
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
        }
    }

    /// Calls from this worker's own queue consumer (never routed from the public internet:
    /// the front door only forwards `/v1` and `/t` paths).
    async fn internal_call(&self, op: &str, call: &Call) -> ApiResult<Response> {
        let msg: QueueMsg = serde_json::from_slice(&call.body).map_err(ApiError::bad_json)?;
        if !self.exists() {
            return Err(ApiError::not_found("tenant"));
        }
        let ob = self.outbox()?;
        match op {
            "deliver" => {
                let next = match msg.k {
                    MsgKind::Webhook | MsgKind::Endpoint => {
                        let secrets = self.load_secrets(&ob.tenant).await?;
                        ob.on_message(&msg, &secrets).await?;
                        ob.next_due()?
                    }
                    MsgKind::Provider => {
                        let calls = self.calls()?;
                        let creds = self.credentials().await?;
                        calls.on_message(&msg, &|p| creds.authorization(p)).await?;
                        calls.next_due()?
                    }
                };
                if let Some(next) = next {
                    self.arm(next).await;
                }
            }
            "dead-letter" => match msg.k {
                MsgKind::Webhook | MsgKind::Endpoint => ob.on_dead_letter(&msg)?,
                MsgKind::Provider => self.calls()?.on_dead_letter(&msg)?,
            },
            _ => return Err(ApiError::route_not_found()),
        }
        Ok(http::json(200, &json!({"ok": true})))
    }

    async fn create_tenant(&self, call: &Call) -> ApiResult<Response> {
        let new = tenants::parse_create(&call.json()?, self.config().allow_insecure)?;
        if self.exists() {
            return Err(ApiError::conflict(
                code::TENANT_EXISTS,
                format!("A tenant with id `{}` already exists.", new.id),
            ));
        }
        let n = now();
        let cfg = TenantConfig {
            id: new.id.clone(),
            name: new.name,
            webhook_url: new.webhook_url,
            webhook_disabled: false,
            packages_url: None,
            static_package_id: None,
            packages: vec![],
            default_kind: Default::default(),
            credentials: Default::default(),
            retention_days: crate::tenant::privacy::default_retention_days(),
            created_at: n,
            updated_at: n,
        };
        // Claim the id before the first await so a concurrent create gets 409.
        self.migrate();
        self.save_config(&cfg)?;
        self.exists.set(Some(true));
        let secret = new
            .webhook_secret
            .unwrap_or_else(secrets::new_webhook_secret);
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

    async fn patch_tenant(&self, t: &str, call: &Call) -> ApiResult<Response> {
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
            // Re-enables only a 410-disabled endpoint (SPEC §20): on an enabled one, the same
            // or a new URL never cuts a backoff or a receiver's Retry-After short.
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

    async fn create_key(&self, t: &str, call: &Call) -> ApiResult<Response> {
        self.load_config()?;
        let v = call.json()?;
        let provider = match v.get("provider") {
            Some(Value::String(p)) => Provider::parse(p).ok_or_else(|| {
                ApiError::invalid_field(
                    "provider",
                    &format!("must be {}", crate::providers::names_or(true)),
                )
            })?,
            _ => {
                return Err(ApiError::invalid_field(
                    "provider",
                    &format!("is required ({})", crate::providers::names_or(true)),
                ))
            }
        };
        // Optional overlap for rotations without downtime: the old key keeps working this long
        // (default 0: dead on the very next request).
        let grace_secs = match v.get("previous_key_ttl_seconds") {
            None | Some(Value::Null) => 0,
            Some(Value::Number(n)) => n
                .as_i64()
                .filter(|s| (0..=7 * 86_400).contains(s))
                .ok_or_else(|| {
                    ApiError::invalid_field(
                        "previous_key_ttl_seconds",
                        "must be a whole number of seconds from 0 to 604800 (7 days)",
                    )
                })?,
            Some(_) => {
                return Err(ApiError::invalid_field(
                    "previous_key_ttl_seconds",
                    "must be a number",
                ))
            }
        };
        Ok(http::json(
            201,
            &self
                .issue_key(t, provider, grace_secs, &call.origin)
                .await?,
        ))
    }

    /// Issue (or rotate) `provider`'s key: the replaced key keeps working for `grace_secs`
    /// (0: dead on the very next request). Answers `{provider, secretKey, baseUrl, createdAt,
    /// previousKeyValidUntil}`; the key appears nowhere else, ever.
    async fn issue_key(
        &self,
        t: &str,
        provider: Provider,
        grace_secs: i64,
        origin: &str,
    ) -> ApiResult<Value> {
        let key = provider.new_key(t);
        let hash = secrets::hash_key(&key);
        let n = now();
        let old = self.key_hash(provider)?;
        let previous_until = (grace_secs > 0 && old.is_some()).then_some(n + grace_secs * 1000);
        // Replacing the row is the rotation: without a grace period the old key fails on the
        // very next request.
        self.sql()
            .exec(
                "INSERT INTO keys (provider, hash, created_at, previous_hash, previous_until) VALUES (?, ?, ?, ?, ?) ON CONFLICT(provider) DO UPDATE SET hash = excluded.hash, created_at = excluded.created_at, previous_hash = excluded.previous_hash, previous_until = excluded.previous_until",
                vec![
                    provider.as_str().into(),
                    hash.clone().into(),
                    SqlStorageValue::Integer(n),
                    previous_until.and(old.clone()).into(),
                    previous_until.map(SqlStorageValue::Integer).unwrap_or(SqlStorageValue::Null),
                ],
            )
            .context("store key")?;
        self.key_cache.replace(None);
        let kv = self.kv()?;
        if let (Some(old), None) = (&old, previous_until) {
            let _ = kv.delete(&format!("key:{old}")).await;
        }
        if let Ok(put) = kv.put(
            &format!("key:{hash}"),
            json!({"tenant": t, "provider": provider.as_str()}).to_string(),
        ) {
            let _ = put.execute().await;
        }
        Ok(json!({
            "provider": provider.as_str(),
            "secretKey": key,
            "baseUrl": provider.base_url(origin, t),
            "createdAt": crate::model::rfc3339(n),
            "previousKeyValidUntil": previous_until.map(crate::model::rfc3339),
        }))
    }
}
