import Database from 'better-sqlite3';

import { useWalWithAsyncSync, type WalSync } from '../../lib/sqlite/walSync';

/**
 * Migrations of the durable engine's SQLite schema, in order. Migration N brings a database from
 * version N - 1 to N; the version is kept in `PRAGMA user_version`. Append new migrations, never
 * change a released one.
 */
const migrations: readonly (readonly string[])[] = [
  [
    `CREATE TABLE IF NOT EXISTS instances (
       instance_id TEXT PRIMARY KEY,
       execution_id TEXT NOT NULL,
       name TEXT NOT NULL,
       runtime_status TEXT NOT NULL,
       input TEXT,
       output TEXT,
       custom_status TEXT,
       created_at INTEGER NOT NULL,
       last_updated_at INTEGER NOT NULL,
       parent_instance_id TEXT,
       parent_execution_id TEXT,
       parent_task_id INTEGER,
       engine_state TEXT NOT NULL DEFAULT '{}'
     )`,
    'CREATE INDEX IF NOT EXISTS instances_by_created ON instances (created_at, instance_id)',
    `CREATE TABLE IF NOT EXISTS history (
       instance_id TEXT NOT NULL,
       position INTEGER NOT NULL,
       event TEXT NOT NULL,
       PRIMARY KEY (instance_id, position)
     )`,
    `CREATE TABLE IF NOT EXISTS inbox (
       id INTEGER PRIMARY KEY AUTOINCREMENT,
       instance_id TEXT NOT NULL,
       execution_id TEXT,
       event TEXT NOT NULL,
       visible_at INTEGER NOT NULL
     )`,
    'CREATE INDEX IF NOT EXISTS inbox_by_instance ON inbox (instance_id, id)',
    'CREATE INDEX IF NOT EXISTS inbox_by_visible_at ON inbox (visible_at)',
    `CREATE TABLE IF NOT EXISTS activity_queue (
       id INTEGER PRIMARY KEY AUTOINCREMENT,
       instance_id TEXT NOT NULL,
       execution_id TEXT NOT NULL,
       task_id INTEGER NOT NULL,
       name TEXT NOT NULL,
       input TEXT
     )`,
    `CREATE TABLE IF NOT EXISTS entities (
       entity_id TEXT PRIMARY KEY,
       name TEXT NOT NULL,
       key TEXT NOT NULL,
       state TEXT,
       entity_exists INTEGER NOT NULL,
       last_modified_at INTEGER NOT NULL
     )`,
    `CREATE TABLE IF NOT EXISTS entity_queue (
       id INTEGER PRIMARY KEY AUTOINCREMENT,
       entity_id TEXT NOT NULL,
       operation TEXT NOT NULL,
       input TEXT,
       is_signal INTEGER NOT NULL,
       request_id TEXT NOT NULL,
       parent_instance_id TEXT,
       parent_execution_id TEXT
     )`,
    'CREATE INDEX IF NOT EXISTS entity_queue_by_entity ON entity_queue (entity_id, id)',
  ],
  // An instance that ends removes its queued activities. Without the index, each removal read the
  // whole queue, which contains an activity for every waiting instance when the engine has a backlog.
  ['CREATE INDEX IF NOT EXISTS activity_queue_by_instance ON activity_queue (instance_id)'],
];

/** Version of the schema this engine writes. */
export const schemaVersion = migrations.length;

/**
 * Opens the engine's database, in WAL mode with `synchronous=NORMAL` and a WalSync. Every commit
 * is on disk before the engine acknowledges it (a 202 from the start API, an activity result),
 * because each acknowledgement waits for `walSync.sync`, so a power loss, not only a crash, loses
 * nothing acknowledged. The fsync runs off the main thread, and commits share it.
 */
export function openEngineDatabase(path: string): { db: Database.Database; walSync: WalSync | undefined } {
  const db = new Database(path);
  const walSync = useWalWithAsyncSync(db);
  db.pragma('busy_timeout = 5000');

  const foundVersion = db.pragma('user_version', { simple: true }) as number;
  if (foundVersion > schemaVersion) {
    db.close();
    throw new Error(
      `The durable store ${path} was written by a newer version of the local host (schema ${foundVersion}, this host knows ${schemaVersion}). ` +
        'Upgrade the host, or point DATA_DIR at another folder.',
    );
  }
  db.transaction(() => {
    for (let version = foundVersion + 1; version <= schemaVersion; version++) {
      for (const statement of migrations[version - 1]) {
        db.exec(statement);
      }
    }
    db.pragma(`user_version = ${schemaVersion}`);
  })();
  return { db, walSync };
}
