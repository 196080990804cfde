//! Order enrichment and the job listing inside the tenant object (README "Order enrichment"):
//! the I/O around a provider's read API (`providers::ReadApi`).
//! The provider's pure functions decide what to read and what it means; this file fetches
//! tokens (cached until shortly before expiry, refreshed once on a 401), makes the reads
//! (per-tenant answer cache, `Retry-After` honoured within the budget), and delivers the result.
//!
//! Delivery: an order with enrichment commits its `record.new` *held* (due at the order time +
//! `ENRICH_BUDGET_MS`) and an `enrichments` row, in the order's transaction. The reads run after
//! the ATS has its answer. Done within the budget: the held event gets the completed record and
//! goes at once. Not done: at the budget the event goes as stored (enrichment `partial`), and
//! when the reads finish exactly one `record.modified` follows with the completed record (it
//! waits behind the `record.new`, README "Order per record"). The `enrichments` row is deleted in
//! the same
//! write that completes the event or emits the `record.modified`, so nothing is sent twice. If
//! the object restarts mid-way, the held event still goes at its due time (alarm sweep) and the
//! alarm runs the reads again for rows left `running` (at most `MAX_RUNS` times, then the
//! record is completed as `failed`).

use std::cell::RefCell;
use std::collections::{HashMap, HashSet};
use std::rc::Rc;

use futures_util::future::{select, Either};
use serde::Deserialize;
use serde_json::json;
use worker::{Delay, Headers, Method, Response, SqlStorage, SqlStorageValue as V};

use super::outbox::{Lane, Outbox};
use super::{assessments, now, privacy, Tenant, TenantRequest};
use crate::admin::tenants::TenantSecrets;
use crate::delivery::attempt;
use crate::delivery::schedule::retry_after_ms;
use crate::error::{ApiError, ApiResult, Context};
use crate::http;
use crate::model::{EventType, Provider};
use crate::providers::{CredentialSource, EnrichRun, Enriched, Read, ReadAnswer, ReadApi};

pub const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS enrichments (
  assessment_id TEXT PRIMARY KEY,
  provider TEXT NOT NULL,
  event_id TEXT NOT NULL,
  state TEXT NOT NULL,
  runs INTEGER NOT NULL DEFAULT 1,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS enrichments_state ON enrichments(state, created_at);
";

/// All reads of one order, retries and `Retry-After` waits included, end within this: 20 s.
pub const READS_BUDGET_MS: i64 = 20_000;
/// One read (or token request) gives up after this: 10 s.
const READ_TIMEOUT_MS: u64 = 10_000;
/// A cached token is not used in its last minute.
pub const TOKEN_MARGIN_MS: i64 = 60_000;
/// A `running` enrichment no live task owns is run again by the alarm this long after the
/// order (longer than `READS_BUDGET_MS`, so a live run has ended by then): 30 s.
pub const RESUME_AFTER_MS: i64 = 30_000;
/// Runs of one order's reads before the record is completed as `failed`.
pub const MAX_RUNS: i64 = 3;
/// The read API's answers are read up to this size (a job listing page: 100 jobs).
const READ_CAP: usize = attempt::PROVIDER_READ_CAP;

/// What the tenant object keeps in memory for read APIs: access tokens by credentials digest
/// (`TokenRequest::cache_key`), cacheable answers by token and URL, and the orders a live task
/// is enriching in this instance.
#[derive(Default)]
pub struct ReadState {
    tokens: HashMap<String, (String, i64)>,
    answers: HashMap<String, (i64, ReadAnswer)>,
    live: HashSet<String>,
}

/// Whether a token that expires at `expires_at` may still be sent at `now` (ms).
pub fn token_usable(expires_at: i64, now: i64) -> bool {
    now + TOKEN_MARGIN_MS < expires_at
}

/// What to do after a read's answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Next {
    /// Hand the answer to the provider.
    Take,
    /// 401: get a new token and read again (once per run).
    RefreshToken,
    /// 429 (or 503) with a `Retry-After` that ends before the budget: wait this long, read again.
    Wait(i64),
}

/// The decision after an answer at `now`, given whether the token was already refreshed and
/// when the reads' budget ends. A 429 without `Retry-After` waits 1 s.
pub fn after_answer(a: &ReadAnswer, refreshed: bool, now: i64, budget_end: i64) -> Next {
    match a.status {
        Some(401) if !refreshed => Next::RefreshToken,
        Some(429 | 503) => {
            let wait = a
                .retry_after
                .as_deref()
                .and_then(|v| retry_after_ms(v, now))
                .unwrap_or(1_000);
            if now + wait < budget_end {
                Next::Wait(wait)
            } else {
                Next::Take
            }
        }
        _ => Next::Take,
    }
}

/// Whether the alarm should run an enrichment's reads again: still `running`, old enough that
/// a live run would have ended, and no task of this instance owns it.
pub fn resume_due(created_at: i64, now: i64, live: bool) -> bool {
    !live && created_at + RESUME_AFTER_MS <= now
}

/// An `enrichments` row.
#[derive(Debug, Clone, Deserialize)]
struct Row {
    assessment_id: String,
    provider: String,
    event_id: String,
    runs: i64,
    created_at: i64,
}

/// Everything one enrichment needs, owned (it runs after the response, in `wait_until`).
pub struct Enrichment {
    pub sql: SqlStorage,
    pub outbox: Outbox,
    pub state: Rc<RefCell<ReadState>>,
    pub api: &'static ReadApi,
    pub credentials: CredentialSource,
    pub allow_insecure: bool,
    pub secrets: TenantSecrets,
    pub assessment_id: String,
    pub event_id: String,
}

impl Enrichment {
    /// An access token: the cached one while usable, else a new one (`fresh` forces that).
    /// Err: a sentence for the enrichment `error` or the 502.
    async fn token(&self, fresh: bool) -> Result<String, String> {
        token(
            &self.state,
            self.api,
            &self.credentials,
            self.allow_insecure,
            fresh,
        )
        .await
    }

    /// Run the provider's reads to the end (or the budget).
    async fn reads(&self, run: &mut dyn EnrichRun, budget_end: i64) {
        let mut token = match self.token(false).await {
            Ok(t) => t,
            Err(why) => return run.give_up(&why),
        };
        let mut refreshed = false;
        while let Some(read) = run.next() {
            loop {
                if now() >= budget_end {
                    return run.give_up(&format!(
                        "the reads did not finish within {} s",
                        READS_BUDGET_MS / 1000
                    ));
                }
                let a = get(&self.state, &token, &read).await;
                match after_answer(&a, refreshed, now(), budget_end) {
                    Next::Take => {
                        run.answer(&a);
                        break;
                    }
                    Next::RefreshToken => {
                        refreshed = true;
                        token = match self.token(true).await {
                            Ok(t) => t,
                            Err(why) => return run.give_up(&why),
                        };
                    }
                    Next::Wait(ms) => {
                        Delay::from(std::time::Duration::from_millis(ms as u64)).await
                    }
                }
            }
        }
    }

    /// The task started after an order: reads, racing the `record.new` budget.
    pub async fn run(self, mut run: Box<dyn EnrichRun>, deadline: i64) {
        self.state
            .borrow_mut()
            .live
            .insert(self.assessment_id.clone());
        let budget_end = now() + READS_BUDGET_MS;
        let wait = (deadline - now()).max(0) as u64;
        {
            let reads = Box::pin(self.reads(&mut *run, budget_end));
            let timer = Box::pin(Delay::from(std::time::Duration::from_millis(wait)));
            if let Either::Right((_, reads)) = select(reads, timer).await {
                // The budget is over: the record.new goes as stored, then the reads go on.
                self.release_as_stored().await;
                reads.await;
            }
        }
        self.finish(run.outcome(true)).await;
        self.state.borrow_mut().live.remove(&self.assessment_id);
    }

    /// Attempt each delivery of a released event (every endpoint it goes to) at once.
    async fn attempt_all(&self, due: Vec<(Lane, String)>) {
        let sends = due
            .iter()
            .map(|(lane, id)| self.outbox.attempt(*lane, id, None, &self.secrets));
        futures_util::future::join_all(sends).await;
    }

    /// Send the held `record.new` now, as stored, if no attempt has claimed it.
    async fn release_as_stored(&self) {
        match self
            .outbox
            .release_held(&self.event_id, EventType::RecordNew, None, now())
        {
            Ok(Some(due)) => self.attempt_all(due).await,
            Ok(None) => {}
            Err(e) => worker::console_error!("enrichment: release {}: {e}", self.event_id),
        }
    }

    /// Complete the record: in one write, the stored record, the `enrichments` row (deleted)
    /// and either the still-held `record.new` (sent at once) or one `record.modified`. Exactly
    /// once: without its row, the order was finished by someone else.
    async fn finish(&self, outcome: Enriched) {
        match self.complete(outcome) {
            Ok(Completed::Released(due)) => self.attempt_all(due).await,
            Ok(Completed::Modified(due)) => {
                self.outbox.attempt_now(due, &self.secrets).await;
            }
            Ok(Completed::Nothing) => {}
            Err(e) => worker::console_error!("enrichment: finish {}: {e}", self.assessment_id),
        }
    }

    /// The synchronous part of `finish` (no await: one transaction).
    fn complete(&self, outcome: Enriched) -> ApiResult<Completed> {
        let t = now();
        let Some(row) = running(&self.sql, &self.assessment_id)? else {
            return Ok(Completed::Nothing);
        };
        mark_done(&self.sql, &row.assessment_id)?;
        let Some(a) = assessments::get(&self.sql, &self.assessment_id)? else {
            return Ok(Completed::Nothing);
        };
        let stored: serde_json::Value = serde_json::from_str(&a.record).unwrap_or_default();
        // Erased meanwhile (README "Personal data"): nothing comes back.
        if privacy::is_erased_record(&stored) {
            return Ok(Completed::Nothing);
        }
        let mut record = a.record()?;
        outcome.apply(&mut record);
        assessments::set_record(&self.sql, &self.assessment_id, &record, t)?;
        let data = json!({ "candidateAssessment": record });
        if let Some(due) =
            self.outbox
                .release_held(&self.event_id, EventType::RecordNew, Some(data.clone()), t)?
        {
            return Ok(Completed::Released(due));
        }
        let due = self.outbox.emit(
            EventType::RecordModified,
            Some(&self.assessment_id),
            data,
            t,
        )?;
        Ok(Completed::Modified(due))
    }
}

/// What `complete` did.
enum Completed {
    /// The held `record.new` now carries the completed record; its deliveries are due.
    Released(Vec<(Lane, String)>),
    /// It had gone already: a `record.modified` was committed.
    Modified(super::outbox::Due),
    /// Finished before, or the record is gone or erased.
    Nothing,
}

fn running(sql: &SqlStorage, id: &str) -> ApiResult<Option<Row>> {
    let rows: Vec<Row> = sql
        .exec(
            "SELECT assessment_id, provider, event_id, runs, created_at FROM enrichments WHERE assessment_id = ? AND state = 'running'",
            vec![id.into()],
        )
        .and_then(|c| c.to_array())
        .context("read enrichment")?;
    Ok(rows.into_iter().next())
}

fn mark_done(sql: &SqlStorage, id: &str) -> ApiResult<()> {
    // The row only says "running": once done it goes, so storage does not grow per order.
    sql.exec(
        "DELETE FROM enrichments WHERE assessment_id = ?",
        vec![id.into()],
    )
    .context("finish enrichment")?;
    Ok(())
}

/// Record an order's enrichment as running (in the order's transaction).
pub fn start(
    sql: &SqlStorage,
    assessment_id: &str,
    provider: Provider,
    event_id: &str,
    t: i64,
) -> ApiResult<()> {
    sql.exec(
        "INSERT INTO enrichments (assessment_id, provider, event_id, state, runs, created_at, updated_at) VALUES (?, ?, ?, 'running', 1, ?, ?)",
        vec![
            assessment_id.into(),
            provider.as_str().into(),
            event_id.into(),
            V::Integer(t),
            V::Integer(t),
        ],
    )
    .context("start enrichment")?;
    Ok(())
}

/// A token from the cache or the provider's token endpoint.
async fn token(
    state: &Rc<RefCell<ReadState>>,
    api: &ReadApi,
    c: &CredentialSource,
    insecure: bool,
    fresh: bool,
) -> Result<String, String> {
    let req = match (api.token_request)(c, insecure) {
        None => return Err("the read API's credentials are not configured".into()),
        Some(Err(e)) => return Err(e.message),
        Some(Ok(r)) => r,
    };
    let t = now();
    if !fresh {
        if let Some((tok, exp)) = state.borrow().tokens.get(&req.cache_key) {
            if token_usable(*exp, t) {
                return Ok(tok.clone());
            }
        }
    }
    let url = crate::targets::check_target(&req.url, insecure)
        .map_err(|why| format!("the token URL {why}"))?;
    let headers = Headers::new();
    let _ = headers.set("authorization", &req.authorization);
    let _ = headers.set("content-type", "application/x-www-form-urlencoded");
    let _ = headers.set("accept", "application/json");
    let _ = headers.set("user-agent", attempt::USER_AGENT);
    let r = attempt::send_with_timeout(
        Method::Post,
        url.as_str(),
        headers,
        Some(req.form),
        READ_TIMEOUT_MS,
        READ_CAP,
    )
    .await;
    let issued = (api.token_answer)(r.status, &r.body)?;
    let mut s = state.borrow_mut();
    s.tokens.insert(
        req.cache_key,
        (issued.access_token.clone(), t + issued.expires_in_ms),
    );
    Ok(issued.access_token)
}

/// Cached answers are per access token: another account's credentials never see them, and
/// none outlives the token it was read with.
fn cache_key(token: &str, url: &str) -> String {
    format!("{}\n{url}", crate::secrets::hash_key(token))
}

/// One GET with the bearer token (from the answer cache when the read allows it).
async fn get(state: &Rc<RefCell<ReadState>>, token: &str, read: &Read) -> ReadAnswer {
    let t = now();
    if read.cache_ms > 0 {
        if let Some((until, a)) = state.borrow().answers.get(&cache_key(token, &read.url)) {
            if *until > t {
                return a.clone();
            }
        }
    }
    let headers = Headers::new();
    let _ = headers.set("authorization", &format!("Bearer {token}"));
    let _ = headers.set("accept", "application/json");
    let _ = headers.set("user-agent", attempt::USER_AGENT);
    let r = attempt::send_with_timeout(
        Method::Get,
        &read.url,
        headers,
        None,
        READ_TIMEOUT_MS,
        READ_CAP,
    )
    .await;
    let a = ReadAnswer {
        status: r.status,
        error: r.error().filter(|_| r.status.is_none()),
        link: r.link.clone(),
        retry_after: r.retry_after.clone(),
        body: r.body,
    };
    if read.cache_ms > 0 && matches!(a.status, Some(200..=299)) {
        let mut s = state.borrow_mut();
        if s.answers.len() > 1_000 {
            s.answers.retain(|_, (until, _)| *until > t);
        }
        s.answers
            .insert(cache_key(token, &read.url), (t + read.cache_ms, a.clone()));
    }
    a
}

impl Tenant {
    /// `GET /v1/tenants/{t}/{provider}/jobs?status=&cursor=` (README "Order enrichment"): one
    /// page of the customer's jobs through the provider's read API.
    pub(super) async fn list_jobs(
        &self,
        provider: Provider,
        call: &TenantRequest,
    ) -> ApiResult<Response> {
        self.load_config()?;
        let api = provider.spec().read_api.ok_or_else(|| {
            let with: Vec<&str> = Provider::all()
                .filter(|p| p.spec().read_api.is_some())
                .map(|p| p.as_str())
                .collect();
            ApiError::new(
                404,
                "read_api_not_available",
                format!(
                    "The bridge reads no jobs from {}; it does from: {}.",
                    provider.spec().title,
                    with.join(", ")
                ),
            )
        })?;
        let creds = self.credentials().await?.source(provider);
        let insecure = self.config().allow_insecure;
        let query = crate::admin::query::pairs(call.query.as_deref());
        let url = (api.jobs_request)(&creds, &query, insecure)?;
        if (api.token_request)(&creds, insecure).is_none() {
            return Err(ApiError::new(
                422,
                "read_api_not_configured",
                format!(
                    "{}'s read API is not configured for this tenant: {}",
                    provider.spec().title,
                    api.not_configured
                ),
            ));
        }
        let state = self.read_state.clone();
        let refused = |why: String| ApiError::new(502, "read_api_refused", format!("{why}."));
        let mut tok = token(&state, api, &creds, insecure, false)
            .await
            .map_err(refused)?;
        let read = Read { url, cache_ms: 0 };
        let mut a = get(&state, &tok, &read).await;
        if after_answer(&a, false, now(), now()) == Next::RefreshToken {
            tok = token(&state, api, &creds, insecure, true)
                .await
                .map_err(refused)?;
            a = get(&state, &tok, &read).await;
        }
        if a.status == Some(429) {
            let secs = a
                .retry_after
                .as_deref()
                .and_then(|v| retry_after_ms(v, now()))
                .map(|ms| (ms + 999) / 1000)
                .unwrap_or(1);
            let e = ApiError::new(
                503,
                "rate_limited",
                format!(
                    "{} is rate limiting this tenant's reads; try again in {secs} s.",
                    provider.spec().title
                ),
            );
            return Ok(http::with_header(
                http::error(&e),
                "retry-after",
                &secs.to_string(),
            ));
        }
        Ok(http::json(200, &(api.jobs_page)(&a)?))
    }

    /// After an order with enrichment is committed (held `record.new`, `enrichments` row):
    /// start the reads after the answer.
    pub(super) fn enrich_after_answer(
        &self,
        e: Enrichment,
        run: Box<dyn EnrichRun>,
        deadline: i64,
    ) {
        self.state.wait_until(e.run(run, deadline));
    }

    /// The alarm's part: run again the reads of enrichments left `running` with no live task
    /// (the object restarted), or complete them as `failed` after `MAX_RUNS`. Returns when
    /// the alarm should look again (None: nothing running).
    pub(super) async fn enrich_sweep(&self) -> ApiResult<Option<i64>> {
        let sql = self.sql();
        let t = now();
        let rows: Vec<Row> = sql
            .exec(
                "SELECT assessment_id, provider, event_id, runs, created_at FROM enrichments WHERE state = 'running' ORDER BY created_at LIMIT 20",
                None,
            )
            .and_then(|c| c.to_array())
            .context("running enrichments")?;
        let mut next: Option<i64> = None;
        for row in rows {
            let live = self.read_state.borrow().live.contains(&row.assessment_id);
            if !resume_due(row.created_at, t, live) {
                let at = if live {
                    t + RESUME_AFTER_MS
                } else {
                    row.created_at + RESUME_AFTER_MS
                };
                next = Some(next.map_or(at, |n| n.min(at)));
                continue;
            }
            let Some(provider) = Provider::parse(&row.provider) else {
                mark_done(&sql, &row.assessment_id)?;
                continue;
            };
            let Some(api) = provider.spec().read_api else {
                mark_done(&sql, &row.assessment_id)?;
                continue;
            };
            let Some(a) = assessments::get(&sql, &row.assessment_id)? else {
                mark_done(&sql, &row.assessment_id)?;
                continue;
            };
            let record = a.record()?;
            sql.exec(
                "UPDATE enrichments SET runs = runs + 1, created_at = ?, updated_at = ? WHERE assessment_id = ?",
                vec![V::Integer(t), V::Integer(t), row.assessment_id.clone().into()],
            )
            .context("count enrichment run")?;
            let creds = self.credentials().await?.source(provider);
            let insecure = self.config().allow_insecure;
            let e = Enrichment {
                sql: self.sql(),
                outbox: self.outbox()?,
                state: self.read_state.clone(),
                api,
                credentials: creds.clone(),
                allow_insecure: insecure,
                secrets: self.load_secrets(&self.load_config()?.id).await?,
                assessment_id: row.assessment_id.clone(),
                event_id: row.event_id.clone(),
            };
            let Some(mut run) = (api.enrich)(&record, &creds, insecure) else {
                // Credentials removed since the order: complete it as it is.
                e.finish(Enriched {
                    enrichment: record.enrichment.clone().unwrap_or_default(),
                    ..Default::default()
                })
                .await;
                continue;
            };
            if row.runs >= MAX_RUNS {
                run.give_up(&format!(
                    "the reads were interrupted {} times (the bridge restarted)",
                    row.runs
                ));
            } else {
                self.read_state
                    .borrow_mut()
                    .live
                    .insert(row.assessment_id.clone());
                e.reads(&mut *run, now() + READS_BUDGET_MS).await;
                self.read_state.borrow_mut().live.remove(&row.assessment_id);
            }
            e.finish(run.outcome(true)).await;
        }
        Ok(next)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::providers::ENRICH_BUDGET_MS;

    fn answer(status: u16, retry_after: Option<&str>) -> ReadAnswer {
        ReadAnswer {
            status: Some(status),
            retry_after: retry_after.map(String::from),
            ..Default::default()
        }
    }

    #[test]
    fn tokens_are_used_until_a_minute_before_expiry() {
        assert!(token_usable(100_000, 0));
        assert!(token_usable(100_000, 100_000 - TOKEN_MARGIN_MS - 1));
        assert!(!token_usable(100_000, 100_000 - TOKEN_MARGIN_MS));
        assert!(!token_usable(100_000, 200_000));
    }

    #[test]
    fn a_401_refreshes_the_token_once() {
        assert_eq!(
            after_answer(&answer(401, None), false, 0, 10_000),
            Next::RefreshToken
        );
        assert_eq!(
            after_answer(&answer(401, None), true, 0, 10_000),
            Next::Take
        );
        assert_eq!(
            after_answer(&answer(200, None), false, 0, 10_000),
            Next::Take
        );
        assert_eq!(
            after_answer(&answer(403, None), false, 0, 10_000),
            Next::Take
        );
    }

    #[test]
    fn retry_after_is_honoured_within_the_budget() {
        assert_eq!(
            after_answer(&answer(429, Some("2")), false, 0, 10_000),
            Next::Wait(2_000)
        );
        assert_eq!(
            after_answer(&answer(429, None), false, 0, 10_000),
            Next::Wait(1_000)
        );
        assert_eq!(
            after_answer(&answer(503, Some("1")), false, 0, 10_000),
            Next::Wait(1_000)
        );
        // Past the budget: the provider gets the 429 and names it.
        assert_eq!(
            after_answer(&answer(429, Some("120")), false, 0, 10_000),
            Next::Take
        );
        assert_eq!(
            after_answer(&answer(429, Some("9")), false, 1_000, 10_000),
            Next::Take
        );
        let date = "Wed, 02 Dec 2026 10:00:05 GMT";
        let at = 1_796_205_600_000; // 2026-12-02T10:00:00Z
        assert_eq!(
            after_answer(&answer(429, Some(date)), false, at, at + 10_000),
            Next::Wait(5_000)
        );
    }

    #[test]
    fn only_orphaned_old_enrichments_are_resumed() {
        assert!(!resume_due(0, RESUME_AFTER_MS - 1, false));
        assert!(resume_due(0, RESUME_AFTER_MS, false));
        assert!(
            !resume_due(0, RESUME_AFTER_MS * 10, true),
            "a live task owns it"
        );
        const { assert!(READS_BUDGET_MS < RESUME_AFTER_MS) };
        const { assert!(ENRICH_BUDGET_MS < READS_BUDGET_MS) };
    }
}
