import Database from 'better-sqlite3';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect, test } from 'vitest';
import { openEngineDatabase, schemaVersion } from '../../local/durable/database';

function tempDatabasePath(): string {
  return path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'engine-schema-')), 'durable.db');
}

test('new database gets the current schema version', () => {
  const { db } = openEngineDatabase(tempDatabasePath());
  expect(db.pragma('user_version', { simple: true })).toBe(schemaVersion);
  db.close();
});

test('reopening keeps the data', () => {
  const databasePath = tempDatabasePath();
  const first = openEngineDatabase(databasePath).db;
  first.prepare("INSERT INTO entities (entity_id, name, key, state, entity_exists, last_modified_at) VALUES ('@c@k', 'c', 'k', '1', 1, 0)").run();
  first.close();

  const second = openEngineDatabase(databasePath).db;
  expect(second.prepare('SELECT COUNT(*) AS count FROM entities').get()).toEqual({ count: 1 });
  second.close();
});

test('database syncs its WAL off the main thread', () => {
  const { db, walSync } = openEngineDatabase(tempDatabasePath());
  expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
  // 1 is NORMAL: commits do not fsync, and the WalSync does before anything is acknowledged.
  expect(db.pragma('synchronous', { simple: true })).toBe(1);
  expect(walSync).toBeDefined();
  db.close();
});

test('database from a newer host is rejected', () => {
  const databasePath = tempDatabasePath();
  const newer = new Database(databasePath);
  newer.pragma(`user_version = ${schemaVersion + 1}`);
  newer.close();

  expect(() => openEngineDatabase(databasePath)).toThrow(
    `The durable store ${databasePath} was written by a newer version of the local host (schema ${schemaVersion + 1}, this host knows ${schemaVersion}). Upgrade the host, or point DATA_DIR at another folder.`,
  );
});

test('first schema version upgrades in place', () => {
  const databasePath = tempDatabasePath();
  const first = openEngineDatabase(databasePath).db;
  first.exec('DROP INDEX activity_queue_by_instance');
  first.pragma('user_version = 1');
  first.prepare("INSERT INTO activity_queue (instance_id, execution_id, task_id, name, input) VALUES ('order-1', 'e1', 0, 'recordMessage', NULL)").run();
  first.close();

  const upgraded = openEngineDatabase(databasePath).db;
  expect(upgraded.pragma('user_version', { simple: true })).toBe(schemaVersion);
  expect(upgraded.prepare('SELECT instance_id FROM activity_queue').all()).toEqual([{ instance_id: 'order-1' }]);
  upgraded.close();
});

test('activity removal uses instance index', () => {
  const { db } = openEngineDatabase(tempDatabasePath());
  const plan = db.prepare("EXPLAIN QUERY PLAN DELETE FROM activity_queue WHERE instance_id = 'order-1'").all() as Array<{ detail: string }>;
  expect(plan.map((step) => step.detail)).toEqual(['SEARCH activity_queue USING INDEX activity_queue_by_instance (instance_id=?)']);
  db.close();
});
