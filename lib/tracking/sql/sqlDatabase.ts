import type pino from 'pino';
import type { Connection } from 'tedious';

import { runWithRetry, type SqlRetryPolicy } from './runWithRetry';
import type { SqlConnectionPool } from './sqlConnectionPool';
import { inTransaction, runQuery, type SqlParameter, type SqlRow } from './sqlQuery';

/** The operation name of statements that `prepare` runs, which skip the wait for preparation. */
export const preparationOperationName = 'migrateSqlSchema';

/** Runs one statement inside a transaction that `SqlDatabase.transaction` opened. */
export type RunInTransaction = (sql: string, parameters?: readonly SqlParameter[]) => Promise<{ rows: SqlRow[]; rowCount: number }>;

/**
 * The tracking database as the SQL stores use it: each statement or transaction runs on a pooled
 * connection and runs again after a transient failure. A whole transaction is retried, never one
 * statement of it, because a transient error rolls the transaction back.
 */
export class SqlDatabase {
  private preparation: Promise<void> | undefined;

  /**
   * `prepare`, when given, runs once before the first statement, such as applying the schema. A
   * failed preparation runs again before the next statement.
   */
  constructor(
    private readonly pool: SqlConnectionPool,
    private readonly logger: pino.Logger,
    private readonly options: { retryPolicy?: SqlRetryPolicy; prepare?: (database: SqlDatabase) => Promise<void> } = {},
  ) {}

  async query(operationName: string, sql: string, parameters: readonly SqlParameter[] = []): Promise<{ rows: SqlRow[]; rowCount: number }> {
    await this.ensurePrepared(operationName);
    return this.retry(operationName, () => this.pool.withConnection((connection) => runQuery(connection, sql, parameters)));
  }

  async transaction<T>(operationName: string, work: (run: RunInTransaction) => Promise<T>): Promise<T> {
    await this.ensurePrepared(operationName);
    return this.retry(operationName, () =>
      this.pool.withConnection((connection: Connection) => inTransaction(connection, () => work((sql, parameters = []) => runQuery(connection, sql, parameters)))),
    );
  }

  close(): void {
    this.pool.close();
  }

  private async ensurePrepared(operationName: string): Promise<void> {
    const prepare = this.options.prepare;
    // The preparation's own statements pass here too, and must not wait for themselves.
    if (prepare === undefined || operationName === preparationOperationName) {
      return;
    }
    this.preparation ??= prepare(this).catch((error: unknown) => {
      this.preparation = undefined;
      throw error;
    });
    await this.preparation;
  }

  private retry<T>(operationName: string, operation: () => Promise<T>): Promise<T> {
    const { retryPolicy } = this.options;
    const options = retryPolicy === undefined ? { operationName, logger: this.logger } : { operationName, logger: this.logger, policy: retryPolicy };
    return runWithRetry(operation, options);
  }
}
