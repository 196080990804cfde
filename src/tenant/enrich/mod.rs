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
//! the same write that completes the event or emits the `record.modified`, so nothing is sent
//! twice. If
//! the object restarts mid-way, the held event still goes at its due time (alarm sweep) and the
//! alarm runs the reads again for rows left `running` (at most `MAX_RUNS` times, then the
//! record is completed as `failed`).

mod object;
mod reads;
mod rules;

pub use reads::ReadState;
use reads::{get, token};
pub use rules::*;

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;

use futures_util::future::{select, AbortHandle, AbortRegistration, Abortable, Either};
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
        let registration = self.state.borrow_mut().begin(&self.assessment_id);
        let budget_end = now() + READS_BUDGET_MS;
        let wait = (deadline - now()).max(0) as u64;
        {
            // Abortable: an erasure of the assessment stops the reads at once.
            let reads = Box::pin(Abortable::new(
                self.reads(&mut *run, budget_end),
                registration,
            ));
            let timer = Box::pin(Delay::from(std::time::Duration::from_millis(wait)));
            match select(reads, timer).await {
                Either::Left((Ok(()), _)) => {}
                // Stopped by an erasure (README "Personal data"): a held record.new goes as
                // stored now (an erased one never goes); nothing the reads found is kept.
                Either::Left((Err(_), _)) => self.release_as_stored().await,
                Either::Right((_, reads)) => {
                    // The budget is over: the record.new goes as stored, then the reads go on.
                    self.release_as_stored().await;
                    let _ = reads.await;
                }
            }
        }
        self.finish(run.outcome(true)).await;
        self.state.borrow_mut().end(&self.assessment_id);
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
