import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { beforeAll, describe, expect, test } from 'vitest';
import { migrateTrackingSchema } from '../../lib/tracking/schema';

const sqlFile = join(__dirname, '..', '..', 'infra', 'sql', 'tracking-schema.sql');
const trackedTables = ['messages', 'deliveries', 'entity_state'];
/** Columns that only the Azure SQL tables have, as table.column. */
const sqlServerOnlyColumns = ['entity_changes.tracking_version'];

let script: string;
let sqliteColumns: Map<string, string[]>;

/** Returns the column definitions of `CREATE TABLE dbo.<table> (...)` in the T-SQL script, trimmed. */
function sqlServerLinesOf(table: string): string[] {
  const start = script.indexOf(`CREATE TABLE dbo.${table} (`);
  if (start < 0) {
    return [];
  }
  const body = script.slice(start, script.indexOf('\n  );', start));
  return body
    .split('\n')
    .slice(1)
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('CONSTRAINT'));
}

function sqlServerColumnsOf(table: string): string[] {
  return sqlServerLinesOf(table)
    .map((line) => line.split(' ')[0])
    .filter((column) => !sqlServerOnlyColumns.includes(`${table}.${column}`));
}

beforeAll(() => {
  script = readFileSync(sqlFile, 'utf8');
  const db = new Database(':memory:');
  migrateTrackingSchema(db);
  const tables = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'").all() as { name: string }[];
  sqliteColumns = new Map(tables.map(({ name }) => [name, (db.prepare(`PRAGMA table_info(${name})`).all() as { name: string }[]).map((column) => column.name)]));
  db.close();
});

describe('tracking-schema.sql', () => {
  test('creates every SQLite tracking table', () => {
    const missing = [...sqliteColumns.keys()].filter((table) => !script.includes(`CREATE TABLE dbo.${table} (`));
    expect(missing).toEqual([]);
  });

  test('tables have the SQLite columns', () => {
    const mismatched = [...sqliteColumns].filter(([table, columns]) => sqlServerColumnsOf(table).join(',') !== columns.join(','));
    expect(mismatched.map(([table]) => table)).toEqual([]);
  });

  test('timestamps are datetime2', () => {
    const timestampColumns = [...sqliteColumns].flatMap(([table, columns]) => columns.filter((column) => column === 'at' || column.endsWith('_at')).map((column) => ({ table, column })));
    const notDatetime2 = timestampColumns.filter(({ table, column }) => !sqlServerLinesOf(table).some((line) => line.startsWith(`${column} datetime2(3) `)));
    expect(notDatetime2).toEqual([]);
  });

  test('entity changes keep the change tracking version', () => {
    expect(script).toMatch(/CREATE TABLE dbo\.entity_changes \([^;]*tracking_version bigint NULL/);
  });

  test('enables change tracking on the database', () => {
    expect(script).toContain('ALTER DATABASE CURRENT SET CHANGE_TRACKING = ON');
  });

  test.each(trackedTables)('enables change tracking on %s', (table) => {
    expect(script).toContain(`ALTER TABLE dbo.${table} ENABLE CHANGE_TRACKING`);
  });

  test('creates the app user from Entra', () => {
    expect(script).toContain('CREATE USER [$(FunctionAppName)] FROM EXTERNAL PROVIDER;');
  });

  test.each(['messages', 'attempts', 'audit', 'entity_state', 'entity_changes', 'quarantine', 'deliveries', 'replays', 'replay_items'])(
    'grants row access on %s',
    (table) => {
      expect(script).toContain(`GRANT SELECT, INSERT, UPDATE, DELETE ON OBJECT::dbo.${table} TO [$(FunctionAppName)];`);
    },
  );

  test.each(trackedTables)('grants VIEW CHANGE TRACKING on %s', (table) => {
    expect(script).toContain(`GRANT VIEW CHANGE TRACKING ON OBJECT::dbo.${table} TO [$(FunctionAppName)];`);
  });

  test('grants no database role', () => {
    expect(script).not.toMatch(/sp_addrolemember|ALTER ROLE/i);
  });

  test('grants no schema or database rights', () => {
    expect(script).not.toMatch(/GRANT [^;]* ON (SCHEMA|DATABASE)::/i);
  });
});
