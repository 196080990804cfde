//! Assessment rows: the normalized record, its latest result, provider sync state and the
//! errors an ATS reported about it.

use serde::Deserialize;
use serde_json::{json, Value};
use worker::{SqlStorage, SqlStorageValue as V};

use crate::admin::query;
use crate::error::{ApiError, ApiResult, Context};
use crate::model::{rfc3339, CandidateAssessment, Provider, ResultUpdate, Status};

// The `assessments` table: created by step 1 of `migrations::LADDER` (frozen there);
// a change to it is a new step.

/// Step 5 of `migrations::LADDER`: `final_at`, when the assessment first reached a final
/// state (ms; null while it is not final), which retention counts from (README "Personal
/// data"). Rows already final when it ships get their last change, the best time known.
pub const FINAL_AT_SCHEMA: &str = "
ALTER TABLE assessments ADD COLUMN final_at INTEGER;
UPDATE assessments SET final_at = updated_at WHERE final_at IS NULL AND status IN ('COMPLETED', 'REJECTED', 'EXPIRED', 'CANCELLED');
CREATE INDEX IF NOT EXISTS assessments_final_at ON assessments(final_at) WHERE final_at IS NOT NULL;
";

#[derive(Debug, Clone, Deserialize)]
pub struct Row {
    pub seq: i64,
    pub id: String,
    pub provider: String,
    pub status: String,
    /// The order's idempotency key (`providers::Order::idempotency_key`).
    pub dedupe_key: Option<String>,
    pub record: String,
    pub result: Option<String>,
    pub sync: Option<String>,
    pub errors: Option<String>,
    pub last_update_ts: i64,
    pub created_at: i64,
    pub updated_at: i64,
}

const COLS: &str = "seq, id, provider, status, dedupe_key, record, result, sync, errors, last_update_ts, created_at, updated_at";

impl Row {
    pub fn record(&self) -> ApiResult<CandidateAssessment> {
        serde_json::from_str(&self.record).context("parse record")
    }
    pub fn status(&self) -> Status {
        Status::parse(&self.status).unwrap_or(Status::NotSpecified)
    }
    pub fn provider(&self) -> Option<Provider> {
        Provider::parse(&self.provider)
    }
    pub fn result(&self) -> Option<ResultUpdate> {
        self.result
            .as_deref()
            .and_then(|r| serde_json::from_str(r).ok())
    }

    /// The admin view: the candidateAssessment plus result, sync state and timestamps.
    pub fn view(&self) -> Value {
        let mut v: Value = serde_json::from_str(&self.record).unwrap_or_else(|_| json!({}));
        let parse = |s: &Option<String>| {
            s.as_deref()
                .and_then(|t| serde_json::from_str::<Value>(t).ok())
                .unwrap_or(Value::Null)
        };
        v["provider"] = json!(self.provider);
        v["status"] = json!(self.status);
        v["result"] = parse(&self.result);
        v["providerSync"] = parse(&self.sync);
        v["providerErrors"] = match parse(&self.errors) {
            Value::Null => json!([]),
            e => e,
        };
        v["createdAt"] = json!(rfc3339(self.created_at));
        v["updatedAt"] = json!(rfc3339(self.updated_at));
        v
    }
}

pub fn get(sql: &SqlStorage, id: &str) -> ApiResult<Option<Row>> {
    let rows: Vec<Row> = sql
        .exec(
            &format!("SELECT {COLS} FROM assessments WHERE id = ?"),
            vec![id.into()],
        )
        .and_then(|c| c.to_array())
        .context("get")?;
    Ok(rows.into_iter().next())
}

/// The id of the active assessment holding `key`, if any (idempotent orders).
/// The assessment of `provider` whose order holds the idempotency key `key`, if one still
/// holds it (`active`).
pub fn find_active_id(
    sql: &SqlStorage,
    provider: Provider,
    key: &str,
) -> ApiResult<Option<String>> {
    #[derive(Deserialize)]
    struct Id {
        id: String,
    }
    let rows: Vec<Id> = sql
        .exec(
            "SELECT id FROM assessments WHERE provider = ? AND dedupe_key = ? AND active = 1",
            vec![provider.as_str().into(), key.into()],
        )
        .and_then(|c| c.to_array())
        .context("find")?;
    Ok(rows.into_iter().next().map(|r| r.id))
}

pub fn insert(
    sql: &SqlStorage,
    a: &CandidateAssessment,
    idempotency_key: &str,
    now: i64,
) -> ApiResult<()> {
    let record = serde_json::to_string(a).context("encode")?;
    sql.exec(
        "INSERT INTO assessments (id, provider, status, dedupe_key, record, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
        vec![
            a.id.clone().into(),
            a.provider.as_str().into(),
            a.status.as_str().into(),
            idempotency_key.into(),
            record.into(),
            V::Integer(now),
            V::Integer(now),
        ],
    )
    .context("insert")?;
    Ok(())
}

/// Store a new status (and result), keeping the record's `status` in step (and its
/// `personalDataErased` marker, a field of the record). The first final status also sets
/// `final_at` to `now`; later changes never move it.
pub fn update(
    sql: &SqlStorage,
    row: &Row,
    status: Status,
    result: Option<&ResultUpdate>,
    active: bool,
    now: i64,
) -> ApiResult<CandidateAssessment> {
    let mut record = row.record()?;
    record.status = status;
    let text = serde_json::to_string(&record).context("encode")?;
    let result = match result {
        Some(r) => Some(serde_json::to_string(r).context("encode result")?),
        None => row.result.clone(),
    };
    sql.exec(
        "UPDATE assessments SET status = ?, record = ?, result = ?, active = ?, updated_at = ?, final_at = CASE WHEN final_at IS NULL AND ? = 1 THEN ? ELSE final_at END WHERE id = ?",
        vec![
            status.as_str().into(),
            text.into(),
            result.into(),
            V::Integer(active as i64),
            V::Integer(now),
            V::Integer(status.is_final() as i64),
            V::Integer(now),
            row.id.clone().into(),
        ],
    )
    .context("update")?;
    Ok(record)
}

/// Replace the stored record (enrichment completed it, README "Order enrichment"); status,
/// result and sync state are untouched.
pub fn set_record(
    sql: &SqlStorage,
    id: &str,
    record: &CandidateAssessment,
    now: i64,
) -> ApiResult<()> {
    let text = serde_json::to_string(record).context("encode")?;
    sql.exec(
        "UPDATE assessments SET record = ?, updated_at = ? WHERE id = ?",
        vec![text.into(), V::Integer(now), id.into()],
    )
    .context("set record")?;
    Ok(())
}

/// Remember an error an ATS reported about this assessment (newest last, at most 50 kept).
pub fn append_error(sql: &SqlStorage, row: &Row, error: Value) -> ApiResult<()> {
    let mut list: Vec<Value> = row
        .errors
        .as_deref()
        .and_then(|e| serde_json::from_str(e).ok())
        .unwrap_or_default();
    list.push(error);
    if list.len() > 50 {
        list.drain(..list.len() - 50);
    }
    sql.exec(
        "UPDATE assessments SET errors = ? WHERE id = ?",
        vec![Value::Array(list).to_string().into(), row.id.clone().into()],
    )
    .context("append error")?;
    Ok(())
}

/// Whether assessment `id`'s personal data was erased or purged (README "Personal data");
/// false when there is no such assessment.
pub fn is_erased(sql: &SqlStorage, id: &str) -> ApiResult<bool> {
    #[derive(Deserialize)]
    struct E {
        e: i64,
    }
    let rows: Vec<E> = sql
        .exec(
            "SELECT json_extract(record, '$.personalDataErased') IS NOT NULL AS e FROM assessments WHERE id = ?",
            vec![id.into()],
        )
        .and_then(|c| c.to_array())
        .context("erased?")?;
    Ok(rows.first().is_some_and(|r| r.e != 0))
}

pub fn set_sync(sql: &SqlStorage, id: &str, sync: &Value) -> ApiResult<()> {
    sql.exec(
        "UPDATE assessments SET sync = ? WHERE id = ?",
        vec![sync.to_string().into(), id.into()],
    )
    .context("set sync")?;
    Ok(())
}

/// The update timestamp the next outbound update of `row` carries at `now` (ms, strictly
/// increasing per assessment), without recording it.
pub fn peek_update_ts(row: &Row, now: i64) -> i64 {
    now.max(row.last_update_ts + 1)
}

pub fn next_update_ts(sql: &SqlStorage, row: &Row, now: i64) -> ApiResult<i64> {
    let ts = peek_update_ts(row, now);
    sql.exec(
        "UPDATE assessments SET last_update_ts = ? WHERE id = ?",
        vec![V::Integer(ts), row.id.clone().into()],
    )
    .context("update ts")?;
    Ok(ts)
}

/// `GET /assessments`: newest first; filters `status`, `provider`; cursor paging.
pub fn list(sql: &SqlStorage, query_string: Option<&str>) -> ApiResult<Value> {
    let q = query::pairs(query_string);
    let limit = query::limit(&q)?;
    let cursor = query::page_start(&q)?;
    let status = match query::get(&q, "status") {
        None | Some("") => None,
        Some(s) => Some(
            Status::parse(s)
                .ok_or_else(|| {
                    ApiError::invalid_field(
                        "status",
                        "must be an upper-case status such as COMPLETED",
                    )
                })?
                .as_str(),
        ),
    };
    let provider = match query::get(&q, "provider") {
        None | Some("") => None,
        Some(p) => Some(
            Provider::parse(p)
                .ok_or_else(|| {
                    ApiError::invalid_field(
                        "provider",
                        &format!("must be {}", crate::providers::names_or(false)),
                    )
                })?
                .as_str(),
        ),
    };
    let rows: Vec<Row> = sql
        .exec(
            &format!("SELECT {COLS} FROM assessments WHERE seq < ? AND (? IS NULL OR status = ?) AND (? IS NULL OR provider = ?) ORDER BY seq DESC LIMIT ?"),
            vec![
                V::Integer(cursor),
                status.into(),
                status.into(),
                provider.into(),
                provider.into(),
                V::Integer(limit + 1),
            ],
        )
        .and_then(|c| c.to_array())
        .context("list")?;
    let more = rows.len() as i64 > limit;
    let page = &rows[..rows.len().min(limit as usize)];
    Ok(json!({
        "data": page.iter().map(Row::view).collect::<Vec<_>>(),
        "next_cursor": if more { page.last().map(|r| query::render_cursor(r.seq)) } else { None },
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(last_update_ts: i64) -> Row {
        Row {
            seq: 1,
            id: "ats_ass_1".into(),
            provider: Provider::all().next().unwrap().as_str().into(),
            status: "PENDING".into(),
            dedupe_key: None,
            record: "{}".into(),
            result: None,
            sync: Some(r#"{"state":"failed"}"#.into()),
            errors: None,
            last_update_ts,
            created_at: 0,
            updated_at: 1_000,
        }
    }

    #[test]
    fn update_timestamps_follow_the_clock_but_never_repeat_or_go_back() {
        assert_eq!(peek_update_ts(&row(0), 5_000), 5_000);
        assert_eq!(
            peek_update_ts(&row(5_000), 5_000),
            5_001,
            "same millisecond"
        );
        assert_eq!(peek_update_ts(&row(9_000), 5_000), 9_001, "clock behind");
    }

    #[test]
    fn final_at_is_backfilled_for_exactly_the_final_statuses() {
        let finals: Vec<String> = Status::ALL
            .iter()
            .filter(|s| s.is_final())
            .map(|s| format!("'{}'", s.as_str()))
            .collect();
        assert!(
            FINAL_AT_SCHEMA.contains(&format!("status IN ({})", finals.join(", "))),
            "the migration's list of final statuses is the model's"
        );
    }

    #[test]
    fn the_admin_view_adds_state_to_the_record() {
        let v = row(0).view();
        assert_eq!(v["status"], "PENDING");
        assert_eq!(v["provider"], Provider::all().next().unwrap().as_str());
        assert_eq!(v["result"], Value::Null);
        assert_eq!(v["providerSync"], json!({"state": "failed"}));
        assert_eq!(v["providerErrors"], json!([]), "none yet: an empty list");
        assert_eq!(v["createdAt"], "1970-01-01T00:00:00.000Z");
        assert_eq!(v["updatedAt"], "1970-01-01T00:00:01.000Z");
        assert_eq!(row(0).status(), Status::Pending);
        let mut odd = row(0);
        odd.status = "NOT_A_STATUS".into();
        assert_eq!(odd.status(), Status::NotSpecified);
    }
}
