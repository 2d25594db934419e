import pino from 'pino';
import { describe, expect, it } from 'vitest';

import { SqlDatabase } from '../../lib/tracking/sql/sqlDatabase';
import type { SqlConnectionPool } from '../../lib/tracking/sql/sqlConnectionPool';

/** A pool that never connects: each statement returns no rows. It counts the statements. */
function countingPool(): { pool: SqlConnectionPool; statements: () => number } {
  let count = 0;
  const pool = {
    withConnection: async () => {
      count += 1;
      return { rows: [], rowCount: 0 };
    },
    close: () => undefined,
  } as unknown as SqlConnectionPool;
  return { pool, statements: () => count };
}

describe('SQL database preparation', () => {
  it('prepare runs once before statements', async () => {
    const { pool, statements } = countingPool();
    let preparations = 0;
    const database = new SqlDatabase(pool, pino({ level: 'silent' }), { prepare: async () => void (preparations += 1) });

    await database.query('ping', 'SELECT 1 AS one');
    await database.query('ping', 'SELECT 1 AS one');

    expect(preparations).toBe(1);
    expect(statements()).toBe(2);
  });

  it('failed prepare runs again', async () => {
    const { pool } = countingPool();
    let preparations = 0;
    const prepare = async (): Promise<void> => {
      preparations += 1;
      if (preparations === 1) {
        throw new Error('schema file missing');
      }
    };
    const database = new SqlDatabase(pool, pino({ level: 'silent' }), { prepare });

    await expect(database.query('ping', 'SELECT 1 AS one')).rejects.toThrow('schema file missing');
    await database.query('ping', 'SELECT 1 AS one');

    expect(preparations).toBe(2);
  });
});
