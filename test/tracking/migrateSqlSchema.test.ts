import fs from 'node:fs';
import path from 'node:path';

import pino from 'pino';
import { describe, expect, it } from 'vitest';

import { migrateSqlSchema, splitSqlBatches, trackingSchemaRelativePath } from '../../lib/tracking/sql/migrateSqlSchema';
import type { SqlDatabase } from '../../lib/tracking/sql/sqlDatabase';

const schemaScript = fs.readFileSync(path.join(__dirname, '..', '..', trackingSchemaRelativePath), 'utf8');

describe('SQL schema batches', () => {
  it('tracking schema splits into six batches', () => {
    expect(splitSqlBatches(schemaScript)).toHaveLength(6);
  });

  it('no batch contains a GO line', () => {
    const batches = splitSqlBatches(schemaScript);

    expect(batches.some((batch) => /^\s*GO\s*$/im.test(batch))).toBe(false);
  });

  it('table batch is one transaction', () => {
    const tableBatch = splitSqlBatches(schemaScript).find((batch) => batch.includes('CREATE TABLE dbo.messages'));

    expect(tableBatch).toMatch(/^BEGIN TRANSACTION;/m);
    expect(tableBatch).toMatch(/^COMMIT TRANSACTION;/m);
  });

  it('comment-only text is no batch', () => {
    expect(splitSqlBatches('-- heading\n\nGO\nSELECT 1;\ngo\n  \n')).toEqual(['SELECT 1;']);
  });

  it('GO inside a line does not split', () => {
    expect(splitSqlBatches("SELECT N'GO' AS word;\nGO")).toEqual(["SELECT N'GO' AS word;"]);
  });
});

describe('SQL schema migration', () => {
  it('batches with sqlcmd variables are skipped', async () => {
    const sentBatches: string[] = [];
    const database = { query: async (_operationName: string, sql: string) => void sentBatches.push(sql) } as unknown as SqlDatabase;

    const applied = await migrateSqlSchema(database, pino({ level: 'silent' }), path.join(__dirname, '..', '..', trackingSchemaRelativePath));

    expect(applied).toBe(4);
    expect(sentBatches).toHaveLength(4);
    expect(sentBatches.some((batch) => batch.includes('$(FunctionAppName)'))).toBe(false);
  });

  it('missing schema file is a configuration error', async () => {
    const database = { query: async () => undefined } as unknown as SqlDatabase;
    const missingPath = path.join(__dirname, 'no-such-schema.sql');

    const migration = migrateSqlSchema(database, pino({ level: 'silent' }), missingPath);

    await expect(migration).rejects.toThrow(
      `Setting TRACKING_SQL_APPLY_SCHEMA is true, but the schema file ${missingPath} was not found. Deploy ${trackingSchemaRelativePath} with the app, or apply the schema as docs/deploy.md describes and remove the setting.`,
    );
  });
});
