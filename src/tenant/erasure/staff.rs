//! The tenant object's side of erasing a member of the customer's staff (README "Personal
//! data"; the rules are `privacy/staff.rs`): an erasure by email that names a recruiter,
//! hiring manager or requester on assessments whose candidate it is not. Each change to one
//! assessment or event is written with no await in between (one transaction).

use super::*;

/// The assessments whose candidate is not `email` but whose record, provider errors or sync
/// state name it (lower-cased; matched as a whole address, ignoring case).
pub(super) fn assessments_naming(sql: &SqlStorage, email: &str) -> ApiResult<Vec<Candidate>> {
    // SQLite's lower() folds ASCII only: an ASCII address narrows the scan in SQL; every
    // candidate is then checked exactly.
    let rows: Vec<Candidate> = if email.is_ascii() {
        sql.exec(
            &format!("SELECT {CANDIDATE_COLS} FROM assessments WHERE instr(lower(record || coalesce(errors, '') || coalesce(sync, '')), ?) > 0"),
            vec![email.into()],
        )
    } else {
        sql.exec(&format!("SELECT {CANDIDATE_COLS} FROM assessments"), None)
    }
    .and_then(|c| c.to_array())
    .context("assessments naming a staff member")?;
    let parsed = |s: &Option<String>| {
        s.as_deref()
            .and_then(|t| serde_json::from_str::<Value>(t).ok())
            .unwrap_or(Value::Null)
    };
    Ok(rows
        .into_iter()
        .filter(|a| {
            let record: Value = serde_json::from_str(&a.record).unwrap_or(Value::Null);
            !privacy::record_has_email(&record, email)
                && (privacy::mentions_email(&record, email)
                    || privacy::mentions_email(&parsed(&a.errors), email)
                    || privacy::mentions_email(&parsed(&a.sync), email))
        })
        .collect())
}

/// Remove the staff member `email` from one assessment: its record (hiring team, requester,
/// order data, enrichment note), provider errors, sync state and provider calls' errors; the
/// answers kept for its results' `Idempotency-Key` (they repeat the record) are dropped, and
/// an enrichment still reading is stopped (its answers would bring the person back; the
/// caller aborts the task). Its events are scrubbed by [`scrub_event`]. Synchronous.
pub(super) fn scrub_assessment(sql: &SqlStorage, a: &Candidate, email: &str) -> ApiResult<Counts> {
    let record: Value = serde_json::from_str(&a.record).unwrap_or(Value::Null);
    let (mut record, _) = privacy::scrub_record(&record, email);
    let stopped = super::stop_enrichment(sql, &a.id)?;
    if stopped && record["enrichment"].is_object() {
        record["enrichment"]["status"] = "failed".into();
        record["enrichment"]["error"] = privacy::enrichment_stopped_for_staff().into();
    }
    let scrub = |s: &Option<String>| {
        s.as_deref()
            .and_then(|t| serde_json::from_str::<Value>(t).ok())
            .map(|v| privacy::scrub_person(&v, email, 0).0.to_string())
    };
    sql.exec(
        "UPDATE assessments SET record = ?, errors = ?, sync = ? WHERE id = ?",
        vec![
            record.to_string().into(),
            scrub(&a.errors).into(),
            scrub(&a.sync).into(),
            a.id.clone().into(),
        ],
    )
    .context("scrub assessment")?;
    if email.is_ascii() {
        sql.exec(
            "UPDATE calls SET last_error = ? WHERE assessment_id = ? AND instr(lower(last_error), ?) > 0",
            vec![privacy::TEXT_ERASED.into(), a.id.clone().into(), email.into()],
        )
        .context("scrub call errors")?;
    } else {
        for id in keys_mentioning(
            sql,
            "SELECT id AS key, last_error AS text FROM calls WHERE assessment_id = ? AND last_error IS NOT NULL",
            vec![a.id.clone().into()],
            email,
        )? {
            sql.exec(
                "UPDATE calls SET last_error = ? WHERE id = ?",
                vec![privacy::TEXT_ERASED.into(), id.into()],
            )
            .context("scrub call error")?;
        }
    }
    idempotency::forget_assessment(sql, &a.id)?;
    Ok(Counts {
        hiring_team_assessments: 1,
        ..Default::default()
    })
}

/// Remove the staff member `email` from one event's body (it belongs to an assessment whose
/// candidate stays) and from its attempts' response snippets. Synchronous.
pub(super) fn scrub_event(sql: &SqlStorage, e: &EventBody, email: &str) -> ApiResult<Counts> {
    let mut counts = Counts::default();
    if let Some(body) = privacy::scrub_event_body(&e.body, email) {
        sql.exec(
            "UPDATE events SET body = ? WHERE id = ?",
            vec![body.into(), e.id.clone().into()],
        )
        .context("scrub event")?;
        counts.hiring_team_events = 1;
    }
    if email.is_ascii() {
        let args = || vec![e.id.clone().into(), e.id.clone().into(), email.into()];
        counts.attempts = count(
            sql,
            "SELECT count(*) AS n FROM attempts WHERE (event_id = ? OR event_id IN (SELECT id FROM deliveries WHERE event_id = ?)) AND instr(lower(response), ?) > 0",
            args(),
        )?;
        sql.exec(
            "UPDATE attempts SET response = NULL WHERE (event_id = ? OR event_id IN (SELECT id FROM deliveries WHERE event_id = ?)) AND instr(lower(response), ?) > 0",
            args(),
        )
        .context("scrub attempts")?;
    } else {
        // Attempts are keyed by (delivery, n): `key` is both, joined by a space.
        let keys = keys_mentioning(
            sql,
            "SELECT event_id || ' ' || n AS key, response AS text FROM attempts WHERE (event_id = ? OR event_id IN (SELECT id FROM deliveries WHERE event_id = ?)) AND response IS NOT NULL",
            vec![e.id.clone().into(), e.id.clone().into()],
            email,
        )?;
        counts.attempts = keys.len();
        for key in keys {
            let Some((delivery, n)) = key.rsplit_once(' ') else {
                continue;
            };
            sql.exec(
                "UPDATE attempts SET response = NULL WHERE event_id = ? AND n = ?",
                vec![delivery.into(), V::Integer(n.parse().unwrap_or(-1))],
            )
            .context("scrub attempt")?;
        }
    }
    Ok(counts)
}

/// The `key` of each row `select` (`SELECT … AS key, … AS text`) returns whose `text` names
/// `email` (lower-cased), ignoring case with Unicode's rules: how a non-ASCII address is
/// matched, since SQLite's `lower()` folds ASCII only.
fn keys_mentioning(
    sql: &SqlStorage,
    select: &str,
    args: Vec<V>,
    email: &str,
) -> ApiResult<Vec<String>> {
    #[derive(Deserialize)]
    struct Row {
        key: String,
        text: String,
    }
    let rows: Vec<Row> = sql
        .exec(select, args)
        .and_then(|c| c.to_array())
        .context("rows naming a staff member")?;
    Ok(rows
        .into_iter()
        .filter(|r| privacy::text_mentions(&r.text, email))
        .map(|r| r.key)
        .collect())
}
