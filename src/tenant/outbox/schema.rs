//! The outbox's stored schema (frozen: `tenant/migrations/` steps 1 and 3 create it).

// The `events` and `attempts` tables: created by step 1 of `migrations::LADDER` (frozen there);
// a change to them is a new step.

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
