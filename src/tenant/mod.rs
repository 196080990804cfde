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

mod admin;
mod assessments;
mod connect;
mod edge;
mod endpoints;
mod engine;
mod enrich;
mod erasure;
mod idempotency;
mod keys;
mod kv_secrets;
mod links;
mod migrations;
mod outbox;
mod packages;
pub(crate) mod privacy;
mod provider_calls;
mod queue;
mod request;
mod results;
mod serial;
mod store;

use std::cell::{Cell, OnceCell, RefCell};
use std::rc::Rc;

use serde::Deserialize;
use serde_json::Value;
use worker::{
    durable_object, Date, DurableObject, Env, Request, Response, Result, SqlStorage, State,
};

use crate::admin::tenants::{TenantConfig, TenantSecrets};
use crate::config::Config;
use crate::error::{ApiError, ApiResult, Context};
use crate::http;
use crate::model::EventType;
use crate::router::{H_KEY_HASHES, H_ORIGIN, H_REQUEST_ID};
use crate::routes::{self, EdgeRoute, Method};
use crate::weburl::WebUrl;
use outbox::{Due, Outbox};
use provider_calls::ProviderCalls;

pub(crate) use request::TenantRequest;

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
    package_cache: RefCell<packages::PackageCache>,
    package_turns: RefCell<packages::PackageTurns>,
    config_cache: store::ConfigCache,
    /// The `keys` rows (None: not read yet). Every write to `keys` goes through this object
    /// and clears it, so edge authentication needs no query.
    key_cache: RefCell<Option<Rc<Vec<keys::KeyRow>>>>,
    /// Read-API tokens, cached answers and live enrichments (`enrich/`).
    read_state: Rc<RefCell<enrich::ReadState>>,
}

/// Whether an alarm set for `current` (ms) already fires in time for a sweep due `at`: it is
/// no later than `at` and not stale (more than a minute in the past means it is not going to
/// fire, e.g. it fired while the object was busy). Otherwise the alarm is set to `at`.
fn alarm_covers(current: Option<i64>, at: i64, now: i64) -> bool {
    current.is_some_and(|c| c <= at && c > now - 60_000)
}

pub(crate) fn now() -> i64 {
    Date::now().as_millis() as i64
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
            package_turns: RefCell::new(Default::default()),
            config_cache: Default::default(),
            key_cache: RefCell::new(None),
            read_state: Default::default(),
        }
    }

    async fn fetch(&self, mut req: Request) -> Result<Response> {
        let href = req.inner().url();
        let url = WebUrl::parse(&href)
            .ok_or_else(|| worker::Error::RustError(format!("failed to parse Url: {href}")))?;
        let header = |n: &str| req.headers().get(n).ok().flatten();
        let request_id = header(H_REQUEST_ID);
        let call = TenantRequest {
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
            let calls = match self.provider_calls() {
                Ok(c) => c.sweep().await,
                Err(e) => Err(e),
            };
            // Retention (README "Personal data"): a bounded purge per alarm.
            let retention = self.retention_pass();
            // Idempotency keys past their 24 hours (README "Results back to the ATS"): a bounded
            // purge too.
            let keys = idempotency::purge(&self.sql(), now());
            // Enrichments a restart left unfinished (README "Order enrichment").
            let enrichments = self.enrich_sweep().await;
            let next = match (webhooks, calls, retention, keys, enrichments) {
                (Ok(a), Ok(b), Ok(c), Ok(d), Ok(e)) => {
                    a.into_iter().chain(b).chain(c).chain(d).chain(e).min()
                }
                (a, b, c, d, e) => {
                    worker::console_error!(
                        "sweep failed: {:?} {:?} {:?} {:?} {:?}",
                        a.err(),
                        b.err(),
                        c.err(),
                        d.err(),
                        e.err()
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

    fn provider_calls(&self) -> ApiResult<ProviderCalls> {
        let cfg = self.load_config()?;
        Ok(ProviderCalls {
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
        if alarm_covers(current, at, now()) {
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

    async fn dispatch(&self, call: &TenantRequest) -> ApiResult<Response> {
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
                self.edge_call(edge.route, call).await
            }
            // A cancel link opened in a browser (`GET`): its assessment's status, for the page.
            ["p", rest @ ..]
                if call.method == routes::Method::Get && routes::is_cancel_link(rest) =>
            {
                self.cancel_link_status(call)
            }
            ["p", rest @ ..] => {
                let edge = routes::match_partner(call.method, rest)?;
                self.edge_call(edge, call).await
            }
            _ => Err(ApiError::route_not_found()),
        }
    }

    /// An edge call: authenticate, run, and answer errors in the provider's shape.
    async fn edge_call(&self, edge: EdgeRoute, call: &TenantRequest) -> ApiResult<Response> {
        let shape = edge.provider.spec().error_shape;
        // A cancel link is its own credential, checked by its handler against the stored
        // link hashes; every other operation needs the provider's key.
        let authenticated = match edge.op.handler {
            crate::providers::Handler::CancelLink { .. } if self.exists() => Ok(()),
            crate::providers::Handler::CancelLink { .. } => {
                Err(crate::providers::invalid_cancel_link())
            }
            _ => self.authenticate(edge.provider, call),
        };
        match authenticated {
            Ok(()) => self.edge(edge, call).await,
            Err(e) => Err(e),
        }
        .map_err(|e| e.shaped(shape))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_earlier_live_alarm_stands_and_anything_else_is_replaced() {
        let now = 1_000_000;
        assert!(!alarm_covers(None, now + 5, now), "no alarm: set one");
        assert!(alarm_covers(Some(now + 5), now + 5, now), "same time");
        assert!(alarm_covers(Some(now + 1), now + 5, now), "earlier");
        assert!(
            !alarm_covers(Some(now + 9), now + 5, now),
            "later: brought forward"
        );
        assert!(
            alarm_covers(Some(now - 59_999), now + 5, now),
            "just overdue"
        );
        assert!(!alarm_covers(Some(now - 60_000), now + 5, now), "stale");
    }
}
