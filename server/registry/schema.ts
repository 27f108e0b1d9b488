/** SQLite schema of the registry. Migrations are additive and idempotent. */
export const SCHEMA_SQL = `
CREATE TABLE IF NOT EXISTS settings (
  key TEXT PRIMARY KEY,
  value TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS versions (
  version INTEGER PRIMARY KEY,
  parent INTEGER,
  round_id INTEGER,
  created_at INTEGER NOT NULL,
  participants INTEGER NOT NULL DEFAULT 0,
  survivors INTEGER NOT NULL DEFAULT 0,
  examples INTEGER NOT NULL DEFAULT 0,
  mean_loss REAL,
  config_hash TEXT NOT NULL,
  layout_hash TEXT NOT NULL,
  weights_hash TEXT NOT NULL,
  checkpoint_path TEXT NOT NULL,
  epsilon REAL,
  clip_norm REAL,
  noise_multiplier REAL,
  probe_accuracy REAL,
  probe_random REAL,
  health_json TEXT,
  note TEXT
);
CREATE TABLE IF NOT EXISTS rounds (
  id INTEGER PRIMARY KEY,
  base_version INTEGER NOT NULL,
  new_version INTEGER,
  started_at INTEGER NOT NULL,
  ended_at INTEGER,
  outcome TEXT,
  reason TEXT,
  sampling TEXT NOT NULL,
  cohort_size INTEGER NOT NULL DEFAULT 0,
  survivors INTEGER NOT NULL DEFAULT 0,
  dropouts INTEGER NOT NULL DEFAULT 0,
  mean_loss REAL,
  bytes_up INTEGER NOT NULL DEFAULT 0,
  bytes_down INTEGER NOT NULL DEFAULT 0,
  aggregate_ms REAL,
  config_json TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS round_participants (
  round_id INTEGER NOT NULL,
  client_id TEXT NOT NULL,
  delivered INTEGER NOT NULL DEFAULT 0,
  num_examples INTEGER,
  mean_loss REAL,
  PRIMARY KEY (round_id, client_id)
);
CREATE TABLE IF NOT EXISTS clients (
  id TEXT PRIMARY KEY,
  name TEXT,
  token_id INTEGER,
  first_seen INTEGER NOT NULL,
  last_seen INTEGER NOT NULL,
  rounds_joined INTEGER NOT NULL DEFAULT 0,
  backend TEXT,
  removed INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS tokens (
  id INTEGER PRIMARY KEY,
  kind TEXT NOT NULL CHECK (kind IN ('client', 'admin', 'metrics')),
  hash TEXT NOT NULL UNIQUE,
  label TEXT,
  created_at INTEGER NOT NULL,
  expires_at INTEGER,
  revoked_at INTEGER
);
CREATE TABLE IF NOT EXISTS audit_log (
  id INTEGER PRIMARY KEY,
  at INTEGER NOT NULL,
  actor TEXT NOT NULL,
  action TEXT NOT NULL,
  details TEXT
);
`;

/** Columns added after the first release: [table, column, SQL type]. Applied when missing. */
export const ADDED_COLUMNS: [string, string, string][] = [
  ['rounds', 'aggregate_ms', 'REAL'],
  // Checkpoint retention: pinned versions keep their file; pruned ones keep their row.
  ['versions', 'pinned', 'INTEGER NOT NULL DEFAULT 0'],
  ['versions', 'pruned_at', 'INTEGER'],
];
