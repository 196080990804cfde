//! The tenant object's side of retention and erasure: load the rows, apply the rules of
//! `privacy.rs`, store the result. Every change to one assessment (its record, errors, events,
//! attempts) is written with no await in between, so it commits as one transaction and
//! nothing half-erased is ever visible or survives a restart.

use serde::Deserialize;
use serde_json::Value;
use worker::{Response, SqlStorage, SqlStorageValue as V};

use super::privacy::{self, Counts, ErasureTarget, Reason, ERASED_BODY, PURGE_BATCH};
use super::{idempotency, now, Tenant, TenantRequest};
use crate::error::{ApiError, ApiResult, Context};
use crate::http;
use crate::model::Status;

mod retention;
mod staff;

#[derive(Deserialize)]
struct Candidate {
    id: String,
    record: String,
    errors: Option<String>,
    sync: Option<String>,
}

/// The columns a [`Candidate`] is read from.
const CANDIDATE_COLS: &str = "id, record, errors, sync";

#[derive(Deserialize)]
struct N {
    n: i64,
}

fn count(sql: &SqlStorage, query: &str, args: Vec<V>) -> ApiResult<usize> {
    sql.exec(query, args)
        .and_then(|c| c.one::<N>())
        .map(|r| r.n.max(0) as usize)
        .context("count")
}

/// The SQL list of final statuses (`'COMPLETED', …`), from the model.
fn final_statuses() -> String {
    Status::ALL
        .iter()
        .filter(|s| s.is_final())
        .map(|s| format!("'{}'", s.as_str()))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Erase one assessment's personal data and its events' bodies, attempt snippets and
/// provider errors; cancel its pending deliveries. Synchronous: one transaction.
fn erase_assessment(sql: &SqlStorage, a: &Candidate, reason: Reason, t: i64) -> ApiResult<Counts> {
    let record: Value = serde_json::from_str(&a.record).unwrap_or(Value::Null);
    let mut counts = Counts::default();
    if !privacy::is_erased_record(&record) {
        counts.assessments = 1;
    }
    let mut redacted = privacy::redact_record(&record, t, reason);
    // Enrichment still running: it ends here (the task's reads are aborted by the caller, and
    // without its row nothing it finishes is stored), and the note says so.
    let stopped = stop_enrichment(sql, &a.id)?;
    if stopped {
        redacted["enrichment"] = privacy::redact_enrichment(&record["enrichment"], Some(reason));
    }
    let errors = a
        .errors
        .as_deref()
        .and_then(|e| serde_json::from_str::<Value>(e).ok())
        .map(|e| privacy::redact_errors(&e).to_string());
    // Provider write-backs carry no candidate fields: every one still pending, held or in
    // flight goes on to the ATS in order (README "Personal data"). Only the ATS's text goes,
    // here and from every answer stored later (`channel`).
    sql.exec(
        "UPDATE calls SET last_error = ? WHERE assessment_id = ? AND last_error IS NOT NULL AND substr(last_error, 1, ?) != ?",
        vec![
            privacy::TEXT_ERASED.into(),
            a.id.clone().into(),
            V::Integer(privacy::CANCELLED_PREFIX.len() as i64),
            privacy::CANCELLED_PREFIX.into(),
        ],
    )
    .context("erase call errors")?;
    let sync = a
        .sync
        .as_deref()
        .and_then(|s| serde_json::from_str::<Value>(s).ok())
        .map(|s| privacy::redact_sync(&s).to_string());
    sql.exec(
        "UPDATE assessments SET record = ?, errors = ?, sync = ? WHERE id = ?",
        vec![
            redacted.to_string().into(),
            errors.into(),
            sync.into(),
            a.id.clone().into(),
        ],
    )
    .context("erase assessment")?;
    let args = || vec![a.id.clone().into(), ERASED_BODY.into()];
    counts.events = count(
        sql,
        "SELECT count(*) AS n FROM events WHERE record_id = ? AND body != ?",
        args(),
    )?;
    // Deliveries to the webhook (on `events`) and to every extra endpoint (`deliveries`).
    let id2 = || vec![a.id.clone().into(), a.id.clone().into()];
    counts.cancelled_deliveries = count(
        sql,
        "SELECT (SELECT count(*) FROM events WHERE record_id = ? AND state = 'pending') + (SELECT count(*) FROM deliveries WHERE record_id = ? AND state = 'pending') AS n",
        id2(),
    )?;
    counts.attempts = count(
        sql,
        "SELECT count(*) AS n FROM attempts WHERE (event_id IN (SELECT id FROM events WHERE record_id = ?) OR event_id IN (SELECT id FROM deliveries WHERE record_id = ?)) AND response IS NOT NULL",
        id2(),
    )?;
    sql.exec(
        "UPDATE attempts SET response = NULL WHERE event_id IN (SELECT id FROM events WHERE record_id = ?) OR event_id IN (SELECT id FROM deliveries WHERE record_id = ?)",
        id2(),
    )
    .context("erase attempts")?;
    // A pending delivery is cancelled: it fails with the reason, and is never sent again
    // (its body is gone, and replay refuses an erased event).
    for table in ["events", "deliveries"] {
        sql.exec(
            &format!("UPDATE {table} SET state = 'failed', next_attempt_at = NULL, lease_until = 0, last_error = ? WHERE record_id = ? AND state = 'pending'"),
            vec![privacy::cancelled_note(reason).into(), a.id.clone().into()],
        )
        .context("cancel deliveries")?;
    }
    sql.exec(
        "UPDATE events SET body = ? WHERE record_id = ?",
        vec![ERASED_BODY.into(), a.id.clone().into()],
    )
    .context("erase events")?;
    // Kept result answers (Idempotency-Key) repeat the record: gone too.
    idempotency::forget_assessment(sql, &a.id)?;
    Ok(counts)
}

/// Erase one event that belongs to no erased assessment but carries the email (e.g. an ATS's
/// error report that names only the candidate): its body, its attempts' snippets, and its
/// pending deliveries (cancelled, showing why). Synchronous: one transaction.
fn erase_event(sql: &SqlStorage, event_id: &str, reason: Reason) -> ApiResult<Counts> {
    let id2 = || vec![event_id.into(), event_id.into()];
    let counts = Counts {
        assessments: 0,
        events: 1,
        attempts: count(
            sql,
            "SELECT count(*) AS n FROM attempts WHERE (event_id = ? OR event_id IN (SELECT id FROM deliveries WHERE event_id = ?)) AND response IS NOT NULL",
            id2(),
        )?,
        cancelled_deliveries: count(
            sql,
            "SELECT (SELECT count(*) FROM events WHERE id = ? AND state = 'pending') + (SELECT count(*) FROM deliveries WHERE event_id = ? AND state = 'pending') AS n",
            id2(),
        )?,
        ..Default::default()
    };
    sql.exec(
        "UPDATE attempts SET response = NULL WHERE event_id = ? OR event_id IN (SELECT id FROM deliveries WHERE event_id = ?)",
        id2(),
    )
    .context("erase event attempts")?;
    for (table, column) in [("events", "id"), ("deliveries", "event_id")] {
        sql.exec(
            &format!("UPDATE {table} SET state = 'failed', next_attempt_at = NULL, lease_until = 0, last_error = ? WHERE {column} = ? AND state = 'pending'"),
            vec![privacy::cancelled_note(reason).into(), event_id.into()],
        )
        .context("cancel event deliveries")?;
    }
    sql.exec(
        "UPDATE events SET body = ? WHERE id = ?",
        vec![ERASED_BODY.into(), event_id.into()],
    )
    .context("erase event")?;
    Ok(counts)
}

/// An event's id, record and stored body.
#[derive(Deserialize)]
struct EventBody {
    id: String,
    record_id: Option<String>,
    body: String,
}

/// The events not yet erased that carry `email` (lower-cased) anywhere in their body,
/// whichever assessment they belong to, if any.
fn events_with_email(sql: &SqlStorage, email: &str) -> ApiResult<Vec<EventBody>> {
    // SQLite's lower() folds ASCII only: an ASCII address narrows the scan in SQL; every
    // candidate is then checked exactly, ignoring case.
    let rows: Vec<EventBody> = if email.is_ascii() {
        sql.exec(
            "SELECT id, record_id, body FROM events WHERE body != ? AND instr(lower(body), ?) > 0",
            vec![ERASED_BODY.into(), email.into()],
        )
    } else {
        sql.exec(
            "SELECT id, record_id, body FROM events WHERE body != ?",
            vec![ERASED_BODY.into()],
        )
    }
    .and_then(|c| c.to_array())
    .context("events by email")?;
    Ok(rows
        .into_iter()
        .filter(|e| {
            serde_json::from_str::<Value>(&e.body).is_ok_and(|v| privacy::mentions_email(&v, email))
        })
        .collect())
}

impl Tenant {
    /// `POST /v1/tenants/{t}/erasure`: erase at once every matching assessment's personal
    /// data; answers the counts and writes one audit line (without the email).
    pub(super) fn erasure(&self, call: &TenantRequest) -> ApiResult<Response> {
        let cfg = self.load_config()?;
        let target = privacy::parse_erasure(&call.json()?)?;
        let sql = self.sql();
        let rows: Vec<Candidate> = match &target {
            ErasureTarget::AssessmentId(id) => {
                let rows: Vec<Candidate> = sql
                    .exec(
                        &format!("SELECT {CANDIDATE_COLS} FROM assessments WHERE id = ?"),
                        vec![id.clone().into()],
                    )
                    .and_then(|c| c.to_array())
                    .context("erasure by id")?;
                if rows.is_empty() {
                    return Err(ApiError::not_found("assessment"));
                }
                rows
            }
            ErasureTarget::Email(email) => {
                // SQLite's lower() folds ASCII only: an ASCII address narrows the scan in
                // SQL; every candidate is then checked exactly, ignoring case.
                let rows: Vec<Candidate> = if email.is_ascii() {
                    sql.exec(
                        &format!("SELECT {CANDIDATE_COLS} FROM assessments WHERE instr(lower(record), ?) > 0"),
                        vec![email.clone().into()],
                    )
                } else {
                    sql.exec(&format!("SELECT {CANDIDATE_COLS} FROM assessments"), None)
                }
                .and_then(|c| c.to_array())
                .context("erasure by email")?;
                rows.into_iter()
                    .filter(|r| {
                        serde_json::from_str::<Value>(&r.record)
                            .is_ok_and(|v| privacy::record_has_email(&v, email))
                    })
                    .collect()
            }
        };
        let t = now();
        let mut counts = Counts::default();
        for a in &rows {
            counts.add(erase_assessment(&sql, a, Reason::Request, t)?);
            self.read_state.borrow_mut().stop(&a.id);
        }
        // Everything else stored that carries the email (README "Personal data"): a member of
        // the customer's staff (hiring team, requester) on other candidates' assessments is
        // removed from them, the candidates' data stays; an event of no assessment that
        // carries it (an ATS's error report) is erased.
        if let ErasureTarget::Email(email) = &target {
            for a in staff::assessments_naming(&sql, email)? {
                counts.add(staff::scrub_assessment(&sql, &a, email)?);
                self.read_state.borrow_mut().stop(&a.id);
            }
            self.read_state.borrow_mut().forget_email(email);
            for e in events_with_email(&sql, email)? {
                counts.add(match e.record_id {
                    Some(_) => staff::scrub_event(&sql, &e, email)?,
                    None => erase_event(&sql, &e.id, Reason::Request)?,
                });
            }
        }
        worker::console_log!("{}", privacy::audit_line(&cfg.id, &target, &counts, t));
        Ok(http::json(200, &counts.view()))
    }
}

/// Stop an enrichment still running for assessment `id` by deleting its row (without it,
/// nothing its reads finish is stored; the caller aborts the task). Whether one was running.
pub(super) fn stop_enrichment(sql: &SqlStorage, id: &str) -> ApiResult<bool> {
    let stopped: Vec<Value> = sql
        .exec(
            "DELETE FROM enrichments WHERE assessment_id = ? RETURNING assessment_id",
            vec![id.into()],
        )
        .and_then(|c| c.to_array())
        .context("stop enrichment")?;
    Ok(!stopped.is_empty())
}
