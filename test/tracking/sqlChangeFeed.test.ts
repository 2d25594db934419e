import { describe, expect, it } from 'vitest';

import { ConfigurationError } from '../../lib/errors';
import type { SqlDatabase } from '../../lib/tracking/sql/sqlDatabase';
import type { SqlParameter, SqlRow } from '../../lib/tracking/sql/sqlQuery';
import { SqlTrackingStore } from '../../lib/tracking/sql/SqlTrackingStore';
import { ChangesExpiredError } from '../../lib/tracking/types';

/**
 * Azure SQL cannot run here, so these tests script the database's results for the change feed's
 * statements. They check what the adapter does with change tracking's bounds. The statements
 * themselves run against Azure SQL in trackingStore.contract.test.ts when its settings are given.
 */
/** Results that the scripted database returns. */
interface ScriptedResults {
  oldestValidVersion: number | null;
  changeRows?: SqlRow[];
}

function scriptedDatabase(results: ScriptedResults): { database: SqlDatabase; statements: { sql: string; parameters: readonly SqlParameter[] }[] } {
  const statements: { sql: string; parameters: readonly SqlParameter[] }[] = [];
  const run = async (sql: string, parameters: readonly SqlParameter[] = []) => {
    statements.push({ sql, parameters });
    if (sql.includes('CHANGE_TRACKING_MIN_VALID_VERSION')) {
      return { rows: [{ oldest_valid_version: results.oldestValidVersion === null ? null : String(results.oldestValidVersion) }], rowCount: 1 };
    }
    if (sql.includes('CHANGETABLE(CHANGES')) {
      return { rows: results.changeRows ?? [], rowCount: results.changeRows?.length ?? 0 };
    }
    throw new Error(`unexpected statement: ${sql}`);
  };
  const database = {
    query: (_operationName: string, sql: string, parameters?: readonly SqlParameter[]) => run(sql, parameters),
    transaction: <T>(_operationName: string, work: (runInTransaction: typeof run) => Promise<T>) => work(run),
    close: () => undefined,
  } as unknown as SqlDatabase;
  return { database, statements };
}

function sinceParameterOf(statements: { sql: string; parameters: readonly SqlParameter[] }[]): unknown {
  const feed = statements.find((statement) => statement.sql.includes('CHANGETABLE(CHANGES'));
  return feed?.parameters.find((parameter) => parameter.name === 'since')?.value;
}

const changeRow: SqlRow = {
  change_version: '57',
  connector_id: 'orders',
  entity_type: 'order',
  entity_key: '1001',
  version: 3,
  message_id: 'orders-m-3',
  changed_at: new Date('2026-12-04T10:00:00.000Z'),
};

describe('Azure SQL change feed', () => {
  it('reads change tracking after since', async () => {
    const { database, statements } = scriptedDatabase({ oldestValidVersion: 10, changeRows: [changeRow] });

    const page = await new SqlTrackingStore(database).listChanges(50, 100);

    expect(sinceParameterOf(statements)).toBe(50);
    expect(page).toEqual({
      changes: [{ changeVersion: 57, connectorId: 'orders', entityType: 'order', entityKey: '1001', version: 3, messageId: 'orders-m-3', changedAt: '2026-12-04T10:00:00.000Z', operation: 'upsert' }],
      lastChangeVersion: 57,
    });
  });

  it('since 0 starts at the oldest valid version', async () => {
    const { database, statements } = scriptedDatabase({ oldestValidVersion: 10 });

    const page = await new SqlTrackingStore(database).listChanges(0, 100);

    expect(sinceParameterOf(statements)).toBe(10);
    expect(page).toEqual({ changes: [], lastChangeVersion: 10 });
  });

  it('since older than the oldest valid version throws ChangesExpiredError', async () => {
    const { database, statements } = scriptedDatabase({ oldestValidVersion: 10 });

    const error = await new SqlTrackingStore(database).listChanges(9, 100).catch((caught: unknown) => caught);

    expect(error).toBeInstanceOf(ChangesExpiredError);
    expect(error).toMatchObject({ since: 9, oldestValidSince: 10 });
    expect(sinceParameterOf(statements)).toBeUndefined();
  });

  it('change tracking off throws ConfigurationError naming the schema script', async () => {
    const { database } = scriptedDatabase({ oldestValidVersion: null });

    const error = await new SqlTrackingStore(database).listChanges(0, 100).catch((caught: unknown) => caught);

    expect(error).toBeInstanceOf(ConfigurationError);
    expect((error as Error).message).toContain('infra/sql/tracking-schema.sql');
  });
});
