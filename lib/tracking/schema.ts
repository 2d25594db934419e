import type Database from 'better-sqlite3';

/** Schema version stored in `PRAGMA user_version`. */
export const trackingSchemaVersion = 4;

/**
 * Tables of the tracking store. Timestamps are ISO 8601 UTC strings, which sort in time
 * order. The version columns have no declared type, so SQLite keeps numbers as numbers
 * and strings as strings.
 */
const createTablesSql = `
CREATE TABLE IF NOT EXISTS messages (
  message_id TEXT PRIMARY KEY,
  connector_id TEXT NOT NULL,
  dedup_key_hash TEXT,
  received_at TEXT NOT NULL,
  raw_blob_name TEXT,
  size_in_bytes INTEGER,
  sha256 TEXT,
  content_type TEXT,
  claim_state TEXT NOT NULL CHECK (claim_state IN ('receiving', 'accepted')),
  claim_token TEXT NOT NULL,
  claimed_at TEXT NOT NULL,
  entity_type TEXT,
  entity_key TEXT,
  entity_version
);
CREATE INDEX IF NOT EXISTS messages_by_received_at ON messages (received_at);

CREATE TABLE IF NOT EXISTS attempts (
  message_id TEXT NOT NULL,
  destination_id TEXT NOT NULL,
  attempt_number INTEGER NOT NULL,
  started_at TEXT NOT NULL,
  outcome TEXT NOT NULL CHECK (outcome IN ('delivered', 'retryable', 'permanent')),
  status_code INTEGER,
  error TEXT,
  duration_in_milliseconds INTEGER NOT NULL,
  response_body_start TEXT,
  PRIMARY KEY (message_id, destination_id, attempt_number)
);

CREATE TABLE IF NOT EXISTS audit (
  audit_id INTEGER PRIMARY KEY AUTOINCREMENT,
  message_id TEXT NOT NULL,
  at TEXT NOT NULL,
  step TEXT NOT NULL,
  step_key TEXT NOT NULL DEFAULT '',
  detail TEXT NOT NULL,
  UNIQUE (message_id, step, step_key)
);

CREATE TABLE IF NOT EXISTS entity_state (
  connector_id TEXT NOT NULL,
  entity_type TEXT NOT NULL,
  entity_key TEXT NOT NULL,
  version,
  last_message_id TEXT NOT NULL,
  updated_at TEXT NOT NULL,
  change_version INTEGER NOT NULL,
  PRIMARY KEY (connector_id, entity_type, entity_key)
);

CREATE TABLE IF NOT EXISTS entity_changes (
  change_version INTEGER PRIMARY KEY AUTOINCREMENT,
  connector_id TEXT NOT NULL,
  entity_type TEXT NOT NULL,
  entity_key TEXT NOT NULL,
  version,
  message_id TEXT NOT NULL,
  changed_at TEXT NOT NULL,
  operation TEXT NOT NULL CHECK (operation IN ('upsert'))
);
CREATE UNIQUE INDEX IF NOT EXISTS entity_changes_by_message
  ON entity_changes (connector_id, entity_type, entity_key, message_id);
`;

/**
 * Version 2 adds the content encoding of a message's stored bytes, and the payloads kept in
 * quarantine because they failed their connector's JSON Schema. `errors` is a JSON array of
 * `{ pointer, message }`. `message_id` is set when a quarantined payload is released.
 */
const addQuarantineSql = `
ALTER TABLE messages ADD COLUMN content_encoding TEXT;

CREATE TABLE IF NOT EXISTS quarantine (
  quarantine_id TEXT PRIMARY KEY,
  connector_id TEXT NOT NULL,
  received_at TEXT NOT NULL,
  reason TEXT NOT NULL,
  errors TEXT NOT NULL,
  payload_blob_name TEXT NOT NULL,
  size_in_bytes INTEGER NOT NULL,
  sha256 TEXT NOT NULL,
  content_type TEXT NOT NULL,
  content_encoding TEXT,
  dedup_key TEXT,
  state TEXT NOT NULL CHECK (state IN ('quarantined', 'released')),
  released_at TEXT,
  message_id TEXT
);
CREATE INDEX IF NOT EXISTS quarantine_by_received_at ON quarantine (received_at);
CREATE INDEX IF NOT EXISTS quarantine_by_connector ON quarantine (connector_id, received_at);
`;

/**
 * Version 3 keeps each message's story apart from the Durable Functions history, so that it
 * survives a purge. It adds to `messages` the connector configuration version that processed the
 * message, the partner headers kept for forwarding (a JSON object), the outcome and the message
 * it replays. `deliveries`
 * holds one row per message and destination with the payload delivered and the outcome.
 */
const addOutcomesSql = `
ALTER TABLE messages ADD COLUMN configuration_version TEXT;
ALTER TABLE messages ADD COLUMN forwarded_headers TEXT;
ALTER TABLE messages ADD COLUMN outcome TEXT;
ALTER TABLE messages ADD COLUMN outcome_reason TEXT;
ALTER TABLE messages ADD COLUMN completed_at TEXT;
ALTER TABLE messages ADD COLUMN replay_of TEXT;
CREATE INDEX IF NOT EXISTS messages_by_connector ON messages (connector_id, received_at);
CREATE INDEX IF NOT EXISTS messages_by_outcome ON messages (outcome, received_at);
CREATE INDEX IF NOT EXISTS messages_by_dedup_key ON messages (dedup_key_hash);
CREATE INDEX IF NOT EXISTS messages_by_entity ON messages (entity_key, received_at);
CREATE INDEX IF NOT EXISTS messages_by_replay_of ON messages (replay_of);

CREATE TABLE IF NOT EXISTS deliveries (
  message_id TEXT NOT NULL,
  destination_id TEXT NOT NULL,
  payload_blob_name TEXT,
  outcome TEXT NOT NULL CHECK (outcome IN ('pending', 'delivered', 'deadLettered', 'filtered')),
  reason TEXT,
  attempts INTEGER NOT NULL DEFAULT 0,
  status_code INTEGER,
  updated_at TEXT NOT NULL,
  PRIMARY KEY (message_id, destination_id)
);
CREATE INDEX IF NOT EXISTS deliveries_by_destination ON deliveries (destination_id, outcome);
`;

/**
 * Version 4 adds bulk replays. `replays` has one row per bulk replay: its filter (a JSON
 * object), the upper bound on (received_at, message_id) fixed at its start, the position it
 * reached and its counts. `replay_items` has one row per message that a bulk replay handled,
 * with the message id of the replay or the reason it failed.
 */
const addReplaysSql = `
CREATE TABLE IF NOT EXISTS replays (
  replay_id TEXT PRIMARY KEY,
  state TEXT NOT NULL CHECK (state IN ('running', 'completed', 'cancelled', 'failed')),
  filter TEXT NOT NULL,
  reason TEXT NOT NULL,
  operator TEXT NOT NULL,
  retransform INTEGER NOT NULL,
  destination_ids TEXT,
  requests_per_second REAL NOT NULL,
  upper_received_at TEXT,
  upper_message_id TEXT,
  position_received_at TEXT,
  position_message_id TEXT,
  total INTEGER NOT NULL,
  replayed INTEGER NOT NULL DEFAULT 0,
  failed INTEGER NOT NULL DEFAULT 0,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL,
  finished_at TEXT,
  cancel_reason TEXT,
  cancelled_by TEXT,
  error TEXT
);

CREATE TABLE IF NOT EXISTS replay_items (
  replay_id TEXT NOT NULL,
  original_message_id TEXT NOT NULL,
  new_message_id TEXT,
  error TEXT,
  at TEXT NOT NULL,
  PRIMARY KEY (replay_id, original_message_id)
);
CREATE INDEX IF NOT EXISTS replay_items_by_new_message ON replay_items (new_message_id);
`;

/** SQL that moves the schema from version N to version N + 1, at index N. */
const migrationSteps = [createTablesSql, addQuarantineSql, addOutcomesSql, addReplaysSql];

/**
 * Creates the tables of an empty database or migrates an older one to the current version, in
 * one transaction. Throws for a database of a newer version.
 */
export function migrateTrackingSchema(db: Database.Database): void {
  const currentVersion = db.pragma('user_version', { simple: true }) as number;
  if (currentVersion === trackingSchemaVersion) {
    return;
  }
  if (currentVersion > trackingSchemaVersion) {
    throw new Error(
      `Tracking database ${db.name} has schema version ${currentVersion}, but this version of the connector ` +
        `uses ${trackingSchemaVersion}. Use a data folder created by this version, or upgrade the connector.`,
    );
  }

  // IMMEDIATE, and the version read again inside: another connection, such as one in another
  // function worker, may have migrated the database since the first read.
  db.transaction(() => {
    const versionInTransaction = db.pragma('user_version', { simple: true }) as number;
    for (let version = versionInTransaction; version < trackingSchemaVersion; version++) {
      db.exec(migrationSteps[version]);
    }
    db.pragma(`user_version = ${trackingSchemaVersion}`);
  }).immediate();
}
