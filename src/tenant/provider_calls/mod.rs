//! Outbound provider calls (each provider's `write_back`, see `providers::Spec`): stored
//! with the result that caused them, sent at once, retried through `DELIVERIES` on 5xx/429/
//! network errors, final on other 4xx — and their state is visible on the assessment.

use serde::Deserialize;
use serde_json::{json, Value};
use worker::{Env, Headers, Method, SqlStorage, SqlStorageValue as V};

use super::leases::{Route, Scheduled};
use super::{assessments, now};
use crate::config::Config;
use crate::delivery::attempt::{self, AttemptResult, Next, ProviderAnswer, ProviderFault};
use crate::delivery::{MsgKind, QueueMsg};
use crate::error::{ApiError, ApiResult, Context};
use crate::model::{rfc3339, Provider};

use crate::secrets;

mod sync;

use sync::{dead_letter_note, provider_answer, sync_view, CallOutcome};

// The `calls` table: created by step 1 of `migrations::LADDER` (frozen there);
// a change to it is a new step.

#[derive(Debug, Clone, Deserialize)]
struct CallRow {
    seq: i64,
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

pub struct ProviderCalls {
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

impl ProviderCalls {
    fn scheduled(&self) -> Scheduled<'_> {
        Scheduled {
            sql: &self.sql,
            env: &self.env,
            tenant: &self.tenant,
            table: "calls",
            kind: MsgKind::Provider,
            only: "",
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
            .context("insert")?;
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
                "SELECT seq, id, assessment_id, provider, label, method, url, body, state, attempt_count, cycle_retries, next_attempt_at, lease_until FROM calls WHERE id = ?",
                vec![id.into()],
            )
            .and_then(|c| c.to_array())
            .context("read")?;
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
        let outcome = match provider.and_then(|p| creds(p).map(|a| (p, a))) {
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
                let r = attempt::send(
                    method,
                    &c.url,
                    headers,
                    c.body.clone(),
                    attempt::PROVIDER_READ_CAP,
                )
                .await;
                let answer = r.status.map(|s| provider_answer(provider, s, &r));
                CallOutcome::Sent(r, answer)
            }
            // Credentials removed after the call was queued: a final, visible failure.
            None => CallOutcome::NoCredentials,
        };
        let t1 = now();
        let (next, status, latency_ms) = match &outcome {
            CallOutcome::NoCredentials => (Next::Failed, None, 0),
            CallOutcome::Sent(r, answer) => (
                attempt::classify_provider_call(
                    r,
                    answer.as_ref(),
                    &self.cfg.retry_schedule,
                    c.cycle_retries as usize,
                    t1,
                    super::outbox::unit_random(),
                ),
                r.status,
                r.latency_ms,
            ),
        };
        worker::console_log!(
            "{}",
            json!({
                "msg": "provider call attempt",
                "tenant": self.tenant,
                "callId": c.id,
                "assessmentId": c.assessment_id,
                "call": c.label,
                "attempt": n,
                "status": status,
                "latencyMs": latency_ms,
                "kind": outcome.kind(),
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
            .context("record")?;
        // The sync state shows the assessment's latest call. An earlier call that ends after a
        // later one was stored (decided here, after this attempt's await, from what storage
        // holds now) does not overwrite it; if it failed, the failure is added to it.
        let view = sync_view(&c.label, sync_state, n, &outcome, next_at, t1);
        let current = assessments::get(&self.sql, &c.assessment_id)?;
        if self.is_latest(&c)? {
            assessments::set_sync(&self.sql, &c.assessment_id, &view)?;
        } else if sync_state == "failed" {
            let mut latest: Value = current
                .and_then(|a| a.sync)
                .and_then(|s| serde_json::from_str(&s).ok())
                .filter(Value::is_object)
                .unwrap_or_else(|| json!({}));
            let mut earlier = latest["earlierFailures"]
                .as_array()
                .cloned()
                .unwrap_or_default();
            earlier.push(json!({"call": c.label, "callId": c.id, "attempts": n, "lastStatus": view["lastStatus"], "error": view["error"], "updatedAt": view["updatedAt"]}));
            latest["earlierFailures"] = Value::Array(earlier);
            assessments::set_sync(&self.sql, &c.assessment_id, &latest)?;
        }
        if let Next::RetryAt(at) = next {
            self.scheduled().enqueue(id, n + 1, at, t1).await;
        }
        Ok(())
    }

    /// Is `c` the assessment's most recently stored call?
    fn is_latest(&self, c: &CallRow) -> ApiResult<bool> {
        #[derive(Deserialize)]
        struct M {
            m: Option<i64>,
        }
        let m: M = self
            .sql
            .exec(
                "SELECT max(seq) AS m FROM calls WHERE assessment_id = ?",
                vec![c.assessment_id.clone().into()],
            )
            .and_then(|cur| cur.one())
            .context("latest call")?;
        Ok(m.m.is_none_or(|m| m <= c.seq))
    }

    /// The dead-letter queue gave up on this call's message: record it on the call's
    /// assessment (SPEC §2: nothing silently dropped). The call stays pending, so the alarm
    /// sweep keeps it moving.
    pub fn on_dead_letter(&self, msg: &QueueMsg) -> ApiResult<()> {
        let Some(c) = self.row(&msg.id)? else {
            return Err(ApiError::not_found("provider call"));
        };
        let mut sync: Value = assessments::get(&self.sql, &c.assessment_id)?
            .and_then(|a| a.sync)
            .and_then(|s| serde_json::from_str(&s).ok())
            .filter(Value::is_object)
            .unwrap_or_else(|| json!({"state": "pending", "call": c.label}));
        sync["deadLettered"] = dead_letter_note(msg.attempt, c.state == "pending", now());
        assessments::set_sync(&self.sql, &c.assessment_id, &sync)
    }

    pub async fn on_message(
        &self,
        msg: &QueueMsg,
        creds: &dyn Fn(Provider) -> Option<String>,
    ) -> ApiResult<()> {
        let Some(c) = self.row(&msg.id)? else {
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
