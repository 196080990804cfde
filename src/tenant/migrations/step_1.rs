//! Step 1 of the ladder, frozen as it shipped. Never edit this file: a schema change is a new
//! step in `LADDER` (docs/architecture.md, "Tenant storage").

/// Step 1's SQL as it shipped, frozen: the tables every tenant object had when the ladder was
/// introduced, one statement group per module that owned them then. Never edit it (a pinned
/// digest in the tests fails if it changes); a schema change is a new step.
pub(super) const STEP_1: &[&str] = &[
    // store: the tenant's configuration and its edge key hashes.
    "
CREATE TABLE IF NOT EXISTS tenant (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  config TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS keys (
  provider TEXT PRIMARY KEY,
  hash TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  previous_hash TEXT,
  previous_until INTEGER
);
",
    // outbox: webhook events and their attempts.
    "
CREATE TABLE IF NOT EXISTS events (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  id TEXT NOT NULL UNIQUE,
  type TEXT NOT NULL,
  record_id TEXT,
  body TEXT NOT NULL,
  state TEXT NOT NULL,
  attempt_count INTEGER NOT NULL DEFAULT 0,
  cycle_retries INTEGER NOT NULL DEFAULT 0,
  next_attempt_at INTEGER,
  lease_until INTEGER NOT NULL DEFAULT 0,
  created_at INTEGER NOT NULL,
  delivered_at INTEGER,
  last_error TEXT
);
CREATE INDEX IF NOT EXISTS events_due ON events(state, next_attempt_at);
CREATE INDEX IF NOT EXISTS events_record ON events(record_id);
CREATE TABLE IF NOT EXISTS attempts (
  event_id TEXT NOT NULL,
  n INTEGER NOT NULL,
  at INTEGER NOT NULL,
  status INTEGER,
  latency_ms INTEGER NOT NULL,
  error TEXT,
  response TEXT,
  kind TEXT,
  PRIMARY KEY (event_id, n)
);
",
    // assessments: assessments (`dedupe_key` holds the order's idempotency key: storage keeps the name it shipped with).
    "
CREATE TABLE IF NOT EXISTS assessments (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  id TEXT NOT NULL UNIQUE,
  provider TEXT NOT NULL,
  status TEXT NOT NULL,
  dedupe_key TEXT,
  active INTEGER NOT NULL DEFAULT 1,
  record TEXT NOT NULL,
  result TEXT,
  sync TEXT,
  errors TEXT,
  last_update_ts INTEGER NOT NULL DEFAULT 0,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
);
CREATE UNIQUE INDEX IF NOT EXISTS assessments_dedupe ON assessments(provider, dedupe_key) WHERE active = 1;
CREATE INDEX IF NOT EXISTS assessments_status ON assessments(status, seq);
",
    // provider_calls: outbound provider calls.
    "
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
",
    // links: cancel links.
    "
CREATE TABLE IF NOT EXISTS cancel_links (
  hash TEXT PRIMARY KEY,
  assessment_id TEXT NOT NULL,
  created_at INTEGER NOT NULL
);
",
    // connect: connect links.
    "
CREATE TABLE IF NOT EXISTS connect_links (
  id TEXT PRIMARY KEY,
  provider TEXT NOT NULL,
  hash TEXT NOT NULL UNIQUE,
  created_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL,
  revoked_at INTEGER,
  viewed_at INTEGER,
  key_issued_at INTEGER,
  connected_at INTEGER
);
",
];
