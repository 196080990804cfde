//! The tenant object's schema as a numbered migration ladder (docs/architecture.md, "Tenant
//! storage"). The version reached is kept in the one-row table `schema_version`: the Durable
//! Object SQLite API refuses `PRAGMA user_version` (`not authorized: SQLITE_AUTH`).
//!
//! `LADDER` is the only place the schema changes: step `n` brings storage from version `n - 1`
//! to `n`. Step 1 is the schema as it stood when the ladder was introduced, created
//! idempotently, plus the columns earlier builds added later (each added only when
//! `PRAGMA table_info` shows it missing), so storage written by any older build reaches
//! version 1 intact. Every later step is explicit SQL that runs exactly once. To change the
//! schema, append a step; never edit a step that has shipped (step 1's SQL is literal text
//! here, and a unit test pins a digest of every shipped step).

mod step_1;

use serde::Deserialize;
use worker::SqlStorage;

use super::{assessments, endpoints, enrich, idempotency, outbox, provider_calls};
use step_1::STEP_1;

/// A column that older builds' `CREATE TABLE` lacked: `(table, column, declaration)`.
pub type LateColumn = (&'static str, &'static str, &'static str);

/// One rung of the ladder: the version it leaves, what runs, and columns to add when
/// missing (step 1 only; later steps put their `ALTER`s in `sql`).
pub struct Step {
    pub version: i64,
    pub sql: &'static [&'static str],
    pub late_columns: &'static [LateColumn],
}

/// The ladder, in order; versions are 1, 2, 3, … with no gaps (checked by a unit test).
pub const LADDER: &[Step] = &[
    Step {
        version: 1,
        sql: STEP_1,
        late_columns: &[
            ("keys", "previous_hash", "TEXT"),
            ("keys", "previous_until", "INTEGER"),
            ("attempts", "kind", "TEXT"),
        ],
    },
    Step {
        // Idempotency keys of result writes (README "Attachments, pre-flight warnings and
        // idempotency").
        version: 2,
        sql: &[idempotency::SCHEMA],
        late_columns: &[],
    },
    Step {
        // Webhook endpoints and their deliveries (README "Webhook endpoints").
        version: 3,
        sql: &[endpoints::SCHEMA, outbox::DELIVERIES_SCHEMA],
        late_columns: &[],
    },
    Step {
        // Order enrichment (README "Order enrichment"): one row per order whose record is being
        // completed from the ATS's read API.
        version: 4,
        sql: &[enrich::SCHEMA],
        late_columns: &[],
    },
    Step {
        // When each assessment reached a final state, which retention counts from (README
        // "Personal data"); assessments already final count from their last change.
        version: 5,
        sql: &[assessments::FINAL_AT_SCHEMA],
        late_columns: &[],
    },
    Step {
        // One delivery engine (docs/architecture.md "Delivery"): provider calls spell their
        // states like every delivery and keep their last error.
        version: 6,
        sql: provider_calls::ONE_ENGINE_STEP,
        late_columns: &[],
    },
    Step {
        // Order per assessment (README "Results back to the ATS"): an assessment's calls by
        // insert order.
        version: 7,
        sql: provider_calls::ORDER_STEP,
        late_columns: &[],
    },
];

/// The version the code expects: the last step's.
#[cfg(test)]
fn target() -> i64 {
    LADDER.last().map_or(0, |s| s.version)
}

/// The steps still to run on storage at `current` (empty when it is at or past the target).
pub fn pending(current: i64) -> &'static [Step] {
    let done = LADDER.iter().take_while(|s| s.version <= current).count();
    &LADDER[done..]
}

/// The `ALTER TABLE` statements that add the late columns a table lacks, given the names
/// `PRAGMA table_info` reported for it.
pub fn missing_columns(late: &[LateColumn], table: &str, existing: &[String]) -> Vec<String> {
    late.iter()
        .filter(|(t, c, _)| *t == table && !existing.iter().any(|e| e.eq_ignore_ascii_case(c)))
        .map(|(t, c, decl)| format!("ALTER TABLE {t} ADD COLUMN {c} {decl}"))
        .collect()
}

/// Why a migration stopped: the step and SQLite's message.
#[derive(Debug)]
pub struct MigrationError {
    pub version: i64,
    pub message: String,
}

impl std::fmt::Display for MigrationError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "schema step {}: {}", self.version, self.message)
    }
}

/// Where the ladder records the version it reached; created before anything else.
const VERSION_TABLE: &str = "CREATE TABLE IF NOT EXISTS schema_version (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  version INTEGER NOT NULL
)";

/// Bring this object's storage to `target()`. Runs synchronously with no `await`, so the
/// runtime commits the steps and the new version together. Storage newer than this
/// code (after a rollback) is left as it is.
pub fn migrate(sql: &SqlStorage) -> Result<(), MigrationError> {
    let current = stored_version(sql).map_err(|e| MigrationError {
        version: 0,
        message: e.to_string(),
    })?;
    for step in pending(current) {
        apply(sql, step).map_err(|e| MigrationError {
            version: step.version,
            message: e.to_string(),
        })?;
    }
    Ok(())
}

fn apply(sql: &SqlStorage, step: &Step) -> worker::Result<()> {
    for stmt in step.sql {
        sql.exec(stmt, None)?;
    }
    let mut tables: Vec<&str> = step.late_columns.iter().map(|(t, _, _)| *t).collect();
    tables.sort_unstable();
    tables.dedup();
    for table in tables {
        let existing = column_names(sql, table)?;
        for alter in missing_columns(step.late_columns, table, &existing) {
            sql.exec(&alter, None)?;
        }
    }
    sql.exec(
        "INSERT INTO schema_version (id, version) VALUES (1, ?) \
         ON CONFLICT(id) DO UPDATE SET version = excluded.version",
        vec![worker::SqlStorageValue::Integer(step.version)],
    )?;
    Ok(())
}

/// The version storage is at: 0 for new storage and for storage from builds before the ladder.
fn stored_version(sql: &SqlStorage) -> worker::Result<i64> {
    #[derive(Deserialize)]
    struct Row {
        version: i64,
    }
    sql.exec(VERSION_TABLE, None)?;
    Ok(sql
        .exec("SELECT version FROM schema_version WHERE id = 1", None)?
        .to_array::<Row>()?
        .first()
        .map_or(0, |r| r.version))
}

fn column_names(sql: &SqlStorage, table: &str) -> worker::Result<Vec<String>> {
    #[derive(Deserialize)]
    struct Row {
        name: String,
    }
    let rows: Vec<Row> = sql
        .exec(&format!("PRAGMA table_info({table})"), None)?
        .to_array()?;
    Ok(rows.into_iter().map(|r| r.name).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// SHA-256 (hex) of what a step runs: its SQL and its late columns.
    fn digest(step: &Step) -> String {
        use sha2::{Digest, Sha256};
        let mut h = Sha256::new();
        for stmt in step.sql {
            h.update(stmt.as_bytes());
            h.update([0]);
        }
        for (table, column, decl) in step.late_columns {
            h.update(format!("{table}.{column} {decl}").as_bytes());
            h.update([0]);
        }
        h.finalize().iter().map(|b| format!("{b:02x}")).collect()
    }

    #[test]
    fn shipped_steps_are_frozen() {
        // What each shipped step runs, pinned. Step 1's text is literal here; later steps may
        // borrow a module's constant, so an edit to that constant fails this test too. On a
        // failure, restore the step and append a new one instead (docs/architecture.md,
        // "Tenant storage"). Step 1's digest is that of the module constants it was built
        // from, so freezing it changed nothing a tenant object runs.
        const SHIPPED: &[(i64, &str)] = &[
            (
                1,
                "19a67eaac6d1d8750a5680f09e3da39a5bbebfa0b8134d9350a18ecdf7e88454",
            ),
            (
                2,
                "95d67a1248927a2e403ac838e7eb1691aa180639cce33c6f036bb9fdb25b7bff",
            ),
            (
                3,
                "1faa98022c202cf4be5a73907b65b372a14de5c67a6722676247b73834346c60",
            ),
            (
                4,
                "d26abd9ae2b6e60de170a1d3f5e693340cd64bf19bcf8c1007218f60c309c794",
            ),
            (
                5,
                "97cadc35f9dbac6aad50e889157300e8b4cb99209f4fac5f356c96dd6582047f",
            ),
            (
                6,
                "864eee03c84713900e522a2658301d60cddc2975452efb8dd4d44feeec9ad50c",
            ),
            (
                7,
                "5e95e665af796f96365b0f17df831e6fc9767c78bc7fe5790e711ce5bc93cbe1",
            ),
        ];
        for (version, want) in SHIPPED {
            let step = &LADDER[*version as usize - 1];
            assert_eq!(step.version, *version);
            assert_eq!(digest(step), *want, "shipped step {version} changed");
        }
        // Ladder steps appended later are shipped too once they land: pin them here.
        assert!(LADDER.len() >= SHIPPED.len());
    }

    #[test]
    fn versions_count_up_from_one_without_gaps() {
        for (i, step) in LADDER.iter().enumerate() {
            assert_eq!(step.version, i as i64 + 1);
        }
        assert_eq!(target(), LADDER.len() as i64);
    }

    #[test]
    fn only_the_first_step_adds_columns_conditionally() {
        for step in &LADDER[1..] {
            assert!(step.late_columns.is_empty(), "step {}", step.version);
        }
    }

    #[test]
    fn new_storage_runs_every_step_and_current_storage_none() {
        assert_eq!(pending(0).len(), LADDER.len());
        assert_eq!(pending(0)[0].version, 1);
        assert!(pending(target()).is_empty());
        assert!(
            pending(target() + 5).is_empty(),
            "newer storage is left alone"
        );
    }

    #[test]
    fn storage_part_way_runs_only_the_later_steps() {
        let at = target() - 1;
        let rest = pending(at);
        assert_eq!(rest.len(), 1);
        assert_eq!(rest[0].version, target());
    }

    #[test]
    fn step_one_creates_every_table_idempotently() {
        let sql = LADDER[0].sql.concat();
        for table in [
            "tenant",
            "keys",
            "events",
            "attempts",
            "assessments",
            "calls",
            "cancel_links",
            "connect_links",
        ] {
            assert!(
                sql.contains(&format!("CREATE TABLE IF NOT EXISTS {table} (")),
                "{table}"
            );
        }
        assert_eq!(
            sql.matches("CREATE TABLE ").count(),
            sql.matches("CREATE TABLE IF NOT EXISTS ").count()
        );
        assert_eq!(
            sql.matches("CREATE INDEX ").count() + sql.matches("CREATE UNIQUE INDEX ").count(),
            sql.matches("INDEX IF NOT EXISTS ").count()
        );
    }

    #[test]
    fn late_columns_are_in_todays_create_statements() {
        // Fresh storage gets them from CREATE TABLE; only older storage needs the ALTER.
        let sql = LADDER[0].sql.concat();
        for (table, column, decl) in LADDER[0].late_columns {
            let start = sql
                .find(&format!("CREATE TABLE IF NOT EXISTS {table} ("))
                .unwrap();
            let body = &sql[start..start + sql[start..].find(");").unwrap()];
            assert!(
                body.contains(&format!("{column} {decl}")),
                "{table}.{column}"
            );
        }
    }

    #[test]
    fn missing_columns_adds_only_what_a_table_lacks() {
        let late = LADDER[0].late_columns;
        let old_keys = vec!["provider".into(), "hash".into(), "created_at".into()];
        assert_eq!(
            missing_columns(late, "keys", &old_keys),
            vec![
                "ALTER TABLE keys ADD COLUMN previous_hash TEXT",
                "ALTER TABLE keys ADD COLUMN previous_until INTEGER",
            ]
        );
        let half: Vec<String> = vec!["provider".into(), "PREVIOUS_HASH".into()];
        assert_eq!(
            missing_columns(late, "keys", &half),
            vec!["ALTER TABLE keys ADD COLUMN previous_until INTEGER"]
        );
        let today: Vec<String> = ["provider", "hash", "previous_hash", "previous_until"]
            .map(String::from)
            .to_vec();
        assert!(missing_columns(late, "keys", &today).is_empty());
        assert_eq!(
            missing_columns(late, "attempts", &["event_id".into()]),
            vec!["ALTER TABLE attempts ADD COLUMN kind TEXT"]
        );
        assert!(missing_columns(late, "events", &[]).is_empty());
    }
}
