//! Outbound provider calls (each provider's `write_back`, see `providers::Spec`): stored
//! with the result that caused them, sent at once, retried through `DELIVERIES` on 5xx/429/
//! network errors, final on other 4xx — and their state is visible on the assessment.

use serde::Deserialize;
use serde_json::{json, Value};
use worker::{Env, Headers, Method, SqlStorage, SqlStorageValue as V};

use super::schedule::{Route, Scheduled};
use super::{assessments, internal, now};
use crate::config::Config;
use crate::delivery::attempt::{self, Next};
use crate::delivery::{MsgKind, QueueMsg};
use crate::error::ApiResult;
use crate::model::{rfc3339, Provider};
use crate::secrets;

pub const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS calls (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  id TEXT NOT NULL UNIQUE,
  assessment_id TEXT NOT NULL,
  provider TEXT NOT NULL,
  label TEXT NOT NULL,
  method TEXT NOT NULL,
  url TEXT NOT NULL,
  body TEXT,
  state TEXT NOT NULL,
  attempt_count INTEGER NOT NULL DEFAULT 0,
  cycle_retries INTEGER NOT NULL DEFAULT 0,
  next_attempt_at INTEGER,
  lease_until INTEGER NOT NULL DEFAULT 0,
  created_at INTEGER NOT NULL,
  done_at INTEGER
);
CREATE INDEX IF NOT EXISTS calls_due ON calls(state, next_attempt_at);
";

#[derive(Debug, Clone, Deserialize)]
struct CallRow {
    id: String,
    assessment_id: String,
    provider: String,
    label: String,
    method: String,
    url: String,
    body: Option<String>,
    state: String,
    attempt_count: i64,
    cycle_retries: i64,
    next_attempt_at: Option<i64>,
    lease_until: i64,
}

pub struct Calls {
    pub sql: SqlStorage,
    pub env: Env,
    pub cfg: Config,
    pub tenant: String,
}

/// A call to make, before it is stored.
pub struct NewCall {
    pub assessment_id: String,
    pub provider: Provider,
    /// What the call is, for people (`providers::OutboundCall::label`).
    pub label: &'static str,
    pub method: Method,
    pub url: String,
    pub body: Option<String>,
}

impl Calls {
    fn scheduled(&self) -> Scheduled<'_> {
        Scheduled {
            sql: &self.sql,
            env: &self.env,
            tenant: &self.tenant,
            table: "calls",
            kind: MsgKind::Provider,
            schedule: &self.cfg.retry_schedule,
        }
    }

    /// Store a call (synchronously, in the caller's transaction). Returns its id.
    pub fn insert(&self, c: NewCall, at: i64) -> ApiResult<String> {
        let id = secrets::new_id("call_");
        self.sql
            .exec(
                "INSERT INTO calls (id, assessment_id, provider, label, method, url, body, state, next_attempt_at, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, 'pending', ?, ?)",
                vec![
                    id.clone().into(),
                    c.assessment_id.clone().into(),
                    c.provider.as_str().into(),
                    c.label.into(),
                    c.method.to_string().into(),
                    c.url.into(),
                    c.body.into(),
                    V::Integer(at),
                    V::Integer(at),
                ],
            )
            .map_err(internal("insert"))?;
        assessments::set_sync(
            &self.sql,
            &c.assessment_id,
            &json!({"state": "pending", "call": c.label, "attempts": 0, "lastStatus": null, "error": null, "updatedAt": rfc3339(at)}),
        )?;
        Ok(id)
    }

    fn row(&self, id: &str) -> ApiResult<Option<CallRow>> {
        let rows: Vec<CallRow> = self
            .sql
            .exec(
                "SELECT id, assessment_id, provider, label, method, url, body, state, attempt_count, cycle_retries, next_attempt_at, lease_until FROM calls WHERE id = ?",
                vec![id.into()],
            )
            .and_then(|c| c.to_array())
            .map_err(internal("read"))?;
        Ok(rows.into_iter().next())
    }

    /// Make one attempt if still due. `creds` answers the `Authorization` header value per provider.
    pub async fn attempt(
        &self,
        id: &str,
        expected_n: Option<i64>,
        creds: &dyn Fn(Provider) -> Option<String>,
    ) {
        if let Err(e) = self.try_attempt(id, expected_n, creds).await {
            worker::console_error!("calls: attempt for {id} not made: {e}");
        }
    }

    async fn try_attempt(
        &self,
        id: &str,
        expected_n: Option<i64>,
        creds: &dyn Fn(Provider) -> Option<String>,
    ) -> ApiResult<()> {
        let t0 = now();
        let Some(c) = self.row(id)? else {
            return Ok(());
        };
        if c.state != "pending" || c.lease_until > t0 {
            return Ok(());
        }
        if expected_n.is_some_and(|n| n != c.attempt_count + 1) {
            return Ok(());
        }
        let n = self.scheduled().claim(id, c.attempt_count, t0)?;
        let provider = Provider::parse(&c.provider);
        let headers = Headers::new();
        let _ = headers.set("user-agent", attempt::USER_AGENT);
        let _ = headers.set("accept", "application/json");
        if c.body.is_some() {
            let _ = headers.set("content-type", "application/json");
        }
        let result = match provider.and_then(|p| creds(p).map(|a| (p, a))) {
            Some((provider, authorization)) => {
                let _ = headers.set(provider.spec().authorization_header, &authorization);
                for (name, value) in provider.spec().call_headers {
                    let _ = headers.set(name, value);
                }
                let method = match c.method.as_str() {
                    "PATCH" => Method::Patch,
                    "PUT" => Method::Put,
                    _ => Method::Post,
                };
                attempt::send(method, &c.url, headers, c.body.clone()).await
            }
            // Credentials removed after the call was queued: a final, visible failure.
            None => attempt::AttemptResult {
                status: None,
                latency_ms: 0,
                error: Some("no credentials configured for this provider".into()),
                response: None,
                retry_after: None,
            },
        };
        let t1 = now();
        let next = if result.status.is_none() && result.latency_ms == 0 {
            Next::Failed
        } else {
            attempt::classify_provider_call(
                &result,
                &self.cfg.retry_schedule,
                c.cycle_retries as usize,
                t1,
                super::outbox::unit_random(),
            )
        };
        let error = result.error.clone().or_else(|| {
            result
                .status
                .filter(|s| !(200..300).contains(s))
                .map(|s| format!("HTTP {s}: {}", result.response.as_deref().unwrap_or("")))
        });
        worker::console_log!(
            "{}",
            json!({
                "msg": "provider call attempt",
                "tenant": self.tenant,
                "callId": c.id,
                "assessmentId": c.assessment_id,
                "call": c.label,
                "attempt": n,
                "status": result.status,
                "latencyMs": result.latency_ms,
            })
        );
        let (state, sync_state) = match next {
            Next::Delivered => ("done", "synced"),
            Next::Failed | Next::Disable => ("failed", "failed"),
            Next::RetryAt(_) => ("pending", "retrying"),
        };
        let next_at = match next {
            Next::RetryAt(at) => Some(at),
            _ => None,
        };
        self.sql
            .exec(
                "UPDATE calls SET state = ?, next_attempt_at = ?, cycle_retries = cycle_retries + ?, lease_until = 0, done_at = ? WHERE id = ?",
                vec![
                    state.into(),
                    next_at.map(V::Integer).unwrap_or(V::Null),
                    V::Integer(matches!(next, Next::RetryAt(_)) as i64),
                    if state == "pending" { V::Null } else { V::Integer(t1) },
                    id.into(),
                ],
            )
            .map_err(internal("record"))?;
        let sync_error = match (sync_state, &error) {
            ("failed", Some(e)) => {
                json!({"code": "provider_sync", "message": format!("{} failed and will not be retried: {e}", c.label)})
            }
            ("retrying", Some(e)) => {
                json!({"code": "provider_sync_retrying", "message": format!("{} failed; retrying: {e}", c.label)})
            }
            _ => Value::Null,
        };
        assessments::set_sync(
            &self.sql,
            &c.assessment_id,
            &json!({
                "state": sync_state,
                "call": c.label,
                "attempts": n,
                "lastStatus": result.status,
                "error": sync_error,
                "nextAttemptAt": next_at.map(rfc3339),
                "updatedAt": rfc3339(t1),
            }),
        )?;
        if let Next::RetryAt(at) = next {
            self.scheduled().enqueue(id, n + 1, at, t1).await;
        }
        Ok(())
    }

    pub async fn on_message(
        &self,
        msg: &QueueMsg,
        creds: &dyn Fn(Provider) -> Option<String>,
    ) -> ApiResult<()> {
        let Some(c) = self.row(&msg.e)? else {
            return Ok(());
        };
        let route = self
            .scheduled()
            .route(msg, &c.state, c.attempt_count, c.next_attempt_at)
            .await;
        if let Route::Attempt(n) = route {
            self.attempt(&c.id, Some(n), creds).await;
        }
        Ok(())
    }

    pub async fn sweep(&self) -> ApiResult<Option<i64>> {
        self.scheduled().sweep().await
    }

    pub fn next_due(&self) -> ApiResult<Option<i64>> {
        self.scheduled().next_due()
    }
}
