//! Idempotency keys on result writes (README "Results back to the ATS"): `POST …/result` with an
//! `Idempotency-Key` header. The protocol, for a handler of this single-threaded object:
//!
//! 1. [`begin`] after the handler's last await before its writes: it looks the key up and
//!    [`decide`]s — [`NextAction::Replay`] the saved answer, refuse a reused key
//!    ([`ApiError`] 409 `idempotency_key_reused`), or [`NextAction::Process`].
//! 2. The handler does its work and, with no await in between, [`save`]s its accepted answer.
//!
//! Because nothing awaits between (1) and (2), a concurrent request with the same key runs
//! either wholly before or wholly after, so a key is processed once. Only accepted (200)
//! answers are kept: a refused request changed nothing, and its repeat is judged afresh.
//! Keys are kept [`KEEP_MS`] (24 h); the alarm purges older ones, [`PURGE_BATCH`] at a time
//! ([`purge`]). Erasing an assessment (README "Personal data") deletes its kept answers, which
//! carry the candidate's data: a repeat after that is judged afresh.

use serde::Deserialize;
use worker::{SqlStorage, SqlStorageValue as V};

use crate::error::{code, ApiError, ApiResult, Context};

pub const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS idempotency (
  key TEXT PRIMARY KEY,
  assessment_id TEXT NOT NULL,
  request_hash TEXT NOT NULL,
  status INTEGER NOT NULL,
  body TEXT NOT NULL,
  created_at INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS idempotency_created ON idempotency (created_at);
CREATE INDEX IF NOT EXISTS idempotency_assessment ON idempotency (assessment_id);
";

/// Keys deleted per alarm pass; the alarm comes back at once while a batch is full.
pub const PURGE_BATCH: i64 = 200;

/// How long a key is kept: 24 hours, in milliseconds.
pub const KEEP_MS: i64 = 24 * 60 * 60 * 1000;

/// Longest accepted `Idempotency-Key` header, in characters.
pub const MAX_KEY_LEN: usize = 255;

/// A kept answer.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Saved {
    pub request_hash: String,
    pub status: i64,
    pub body: String,
    pub created_at: i64,
}

/// What to do with a request carrying a key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NextAction {
    /// First time (or the kept answer expired): do the work, then [`save`].
    Process,
    /// Answer this again, do nothing else.
    Replay { status: u16, body: String },
}

/// The `Idempotency-Key` header's value (README "Attachments, pre-flight warnings and
/// idempotency"): None when absent; the key when it is 1 to [`MAX_KEY_LEN`] printable ASCII
/// characters (0x20 space to 0x7E `~`; HTTP itself drops spaces at either end of a header
/// value); else 400 `invalid_idempotency_key`.
pub fn key_from_header(value: Option<&str>) -> ApiResult<Option<String>> {
    match value {
        None => Ok(None),
        Some(k)
            if !k.is_empty()
                && k.len() <= MAX_KEY_LEN
                && k.bytes().all(|b| (0x20..=0x7e).contains(&b)) =>
        {
            Ok(Some(k.to_string()))
        }
        Some(_) => Err(ApiError::new(
            400,
            code::INVALID_IDEMPOTENCY_KEY,
            format!("The Idempotency-Key header must be 1–{MAX_KEY_LEN} printable ASCII characters (space to `~`)."),
        )),
    }
}

/// The hash that says whether two requests are "the same": the endpoint's scope (e.g. the
/// assessment id) and the JSON body, re-serialized so whitespace does not count.
pub fn request_hash(scope: &str, body: &serde_json::Value) -> String {
    crate::secrets::hash_key(&format!("{scope}\n{body}"))
}

/// Pure rule: the kept answer (if any) against this request at `now` (ms).
pub fn decide(saved: Option<&Saved>, request_hash: &str, now: i64) -> ApiResult<NextAction> {
    match saved {
        Some(s) if now - s.created_at < KEEP_MS => {
            if s.request_hash == request_hash {
                Ok(NextAction::Replay {
                    status: u16::try_from(s.status).unwrap_or(200),
                    body: s.body.clone(),
                })
            } else {
                Err(ApiError::conflict(
                    code::IDEMPOTENCY_KEY_REUSED,
                    "This Idempotency-Key was already used with another request body; use a new key for a new result.",
                ))
            }
        }
        _ => Ok(NextAction::Process),
    }
}

/// Step 1 of the protocol: look `key` up and decide (call with no await before [`save`]).
pub fn begin(sql: &SqlStorage, key: &str, request_hash: &str, now: i64) -> ApiResult<NextAction> {
    let rows: Vec<Saved> = sql
        .exec(
            "SELECT request_hash, status, body, created_at FROM idempotency WHERE key = ?",
            vec![key.into()],
        )
        .and_then(|c| c.to_array())
        .context("read idempotency key")?;
    decide(rows.first(), request_hash, now)
}

/// Step 2: keep the accepted answer (`status`, `body`) to a request about `assessment_id`
/// under `key` (replacing an expired one).
pub fn save(
    sql: &SqlStorage,
    key: &str,
    assessment_id: &str,
    request_hash: &str,
    status: u16,
    body: &str,
    now: i64,
) -> ApiResult<()> {
    sql.exec(
        "INSERT INTO idempotency (key, assessment_id, request_hash, status, body, created_at) VALUES (?, ?, ?, ?, ?, ?) \
         ON CONFLICT(key) DO UPDATE SET assessment_id = excluded.assessment_id, request_hash = excluded.request_hash, \
         status = excluded.status, body = excluded.body, created_at = excluded.created_at",
        vec![
            key.into(),
            assessment_id.into(),
            request_hash.into(),
            V::Integer(i64::from(status)),
            body.into(),
            V::Integer(now),
        ],
    )
    .context("save idempotency key")?;
    Ok(())
}

/// Forget the kept answers about an assessment (erasure: they hold its personal data).
pub fn forget_assessment(sql: &SqlStorage, assessment_id: &str) -> ApiResult<()> {
    sql.exec(
        "DELETE FROM idempotency WHERE assessment_id = ?",
        vec![assessment_id.into()],
    )
    .context("forget idempotency keys")?;
    Ok(())
}

/// Pure rule for the alarm: after a purge pass that deleted `deleted` keys (at most
/// [`PURGE_BATCH`]) when the oldest kept key left is from `oldest` (ms), when to purge again
/// (ms; None: no key left).
pub fn next_purge_at(deleted: i64, oldest: Option<i64>, now: i64) -> Option<i64> {
    if deleted >= PURGE_BATCH {
        return Some(now + 1_000);
    }
    // A moment after the key expires, so the pass finds it past the cutoff.
    oldest.map(|o| (o + KEEP_MS).max(now) + 1_000)
}

/// One purge pass (from the alarm): delete up to [`PURGE_BATCH`] keys older than
/// [`KEEP_MS`]; returns when to purge again ([`next_purge_at`]).
pub fn purge(sql: &SqlStorage, now: i64) -> ApiResult<Option<i64>> {
    #[derive(Deserialize)]
    struct N {
        n: i64,
    }
    #[derive(Deserialize)]
    struct Oldest {
        at: Option<i64>,
    }
    let deleted = sql
        .exec(
            "DELETE FROM idempotency WHERE key IN (SELECT key FROM idempotency WHERE created_at <= ? ORDER BY created_at LIMIT ?) RETURNING 1 AS n",
            vec![V::Integer(now - KEEP_MS), V::Integer(PURGE_BATCH)],
        )
        .and_then(|c| c.to_array::<N>())
        .context("purge idempotency keys")?
        .iter()
        .map(|r| r.n)
        .sum::<i64>();
    let oldest = sql
        .exec("SELECT min(created_at) AS at FROM idempotency", None)
        .and_then(|c| c.one::<Oldest>())
        .context("oldest idempotency key")?
        .at;
    Ok(next_purge_at(deleted, oldest, now))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn saved(hash: &str, at: i64) -> Saved {
        Saved {
            request_hash: hash.into(),
            status: 200,
            body: "{\"id\":\"a\"}".into(),
            created_at: at,
        }
    }

    #[test]
    fn first_use_processes() {
        assert_eq!(decide(None, "h", 5).unwrap(), NextAction::Process);
    }

    #[test]
    fn same_key_same_request_replays_the_first_answer() {
        let s = saved("h", 1_000);
        assert_eq!(
            decide(Some(&s), "h", 1_000 + KEEP_MS - 1).unwrap(),
            NextAction::Replay {
                status: 200,
                body: "{\"id\":\"a\"}".into()
            }
        );
    }

    #[test]
    fn same_key_other_request_is_409() {
        let e = decide(Some(&saved("h", 1_000)), "other", 2_000).unwrap_err();
        assert_eq!(e.status, 409);
        assert_eq!(e.code, code::IDEMPOTENCY_KEY_REUSED);
    }

    #[test]
    fn keys_expire_after_24_hours() {
        let s = saved("h", 1_000);
        assert_eq!(
            decide(Some(&s), "other", 1_000 + KEEP_MS).unwrap(),
            NextAction::Process
        );
    }

    #[test]
    fn request_hash_ignores_whitespace_but_not_scope_or_content() {
        let a: serde_json::Value = serde_json::from_str("{ \"status\" : \"STARTED\" }").unwrap();
        let b = json!({"status": "STARTED"});
        assert_eq!(request_hash("x", &a), request_hash("x", &b));
        assert_ne!(request_hash("x", &b), request_hash("y", &b));
        assert_ne!(
            request_hash("x", &b),
            request_hash("x", &json!({"status": "IN_PROGRESS"}))
        );
    }

    #[test]
    fn purge_comes_back_at_once_while_batches_are_full_else_when_the_oldest_expires() {
        assert_eq!(next_purge_at(PURGE_BATCH, Some(0), 50), Some(1_050));
        assert_eq!(next_purge_at(3, None, 50), None);
        assert_eq!(
            next_purge_at(3, Some(10_000), 50),
            Some(10_000 + KEEP_MS + 1_000)
        );
        // A key already past its time (e.g. the clock moved): soon, not in the past.
        assert_eq!(
            next_purge_at(0, Some(0), KEEP_MS * 3),
            Some(KEEP_MS * 3 + 1_000)
        );
    }

    #[test]
    fn header_values_are_checked() {
        assert_eq!(key_from_header(None).unwrap(), None);
        assert_eq!(
            key_from_header(Some("k-1")).unwrap().as_deref(),
            Some("k-1")
        );
        // Printable ASCII from space (0x20) to `~` (0x7E), 1 to MAX_KEY_LEN of them.
        let longest = "x".repeat(MAX_KEY_LEN);
        for good in [
            "a b",
            " ",
            "~",
            "!",
            "order 42 / result ~1",
            longest.as_str(),
        ] {
            assert_eq!(
                key_from_header(Some(good)).unwrap().as_deref(),
                Some(good),
                "{good:?}"
            );
        }
        for bad in [
            "",
            "é",
            "a\tb",
            "a\u{1f}b",
            "a\u{7f}b",
            &"x".repeat(MAX_KEY_LEN + 1),
        ] {
            assert_eq!(
                key_from_header(Some(bad)).unwrap_err().status,
                400,
                "{bad:?}"
            );
        }
    }
}
