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
