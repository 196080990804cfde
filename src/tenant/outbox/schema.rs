//! The outbox's stored schema (frozen: `tenant/migrations.rs` step 1 and 3 create it).

pub const SCHEMA: &str = "
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
";

/// Deliveries of events to the tenant's extra endpoints (README "Webhook endpoints"): the
/// scheduling columns of `events`, per (event, endpoint). Their attempts are kept in
/// `attempts` under the delivery id.
pub const DELIVERIES_SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS deliveries (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  id TEXT NOT NULL UNIQUE,
  event_id TEXT NOT NULL,
  endpoint_id TEXT NOT NULL,
  record_id TEXT,
  state TEXT NOT NULL,
  attempt_count INTEGER NOT NULL DEFAULT 0,
  cycle_retries INTEGER NOT NULL DEFAULT 0,
  next_attempt_at INTEGER,
  lease_until INTEGER NOT NULL DEFAULT 0,
  created_at INTEGER NOT NULL,
  delivered_at INTEGER,
  last_error TEXT
);
CREATE INDEX IF NOT EXISTS deliveries_due ON deliveries(state, next_attempt_at);
CREATE INDEX IF NOT EXISTS deliveries_endpoint_record ON deliveries(endpoint_id, record_id);
CREATE INDEX IF NOT EXISTS deliveries_event ON deliveries(event_id);
CREATE INDEX IF NOT EXISTS deliveries_record ON deliveries(record_id);
";
