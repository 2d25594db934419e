import type pino from 'pino';
import { Connection, type ConnectionConfiguration } from 'tedious';

import { errorMessageOf, RetryableError } from '../../errors';
import type { AzureCredential } from '../../secrets/azureCredential';
import type { SqlTrackingSettings } from './sqlSettings';

/** Scope of the Microsoft Entra access token that Azure SQL accepts. */
export const azureSqlTokenScope = 'https://database.windows.net/.default';

const connectTimeoutInMilliseconds = 15_000;
const requestTimeoutInMilliseconds = 30_000;

export interface SqlConnectionPoolOptions {
  settings: Pick<SqlTrackingSettings, 'server' | 'database' | 'port' | 'poolSize' | 'sqlLogin'>;
  /** Requests the Entra token for each new connection. Required unless `settings.sqlLogin` is set. */
  credential?: AzureCredential;
  logger: pino.Logger;
  /** Builds the tedious connection. Tests pass one that points at a local port. */
  createConnection?: (configuration: ConnectionConfiguration) => Connection;
}

interface PooledConnection {
  connection: Connection;
  /** Set by the `error` and `end` listeners, so the pool closes the connection instead of reusing it. */
  broken: boolean;
}

/**
 * A small pool of tedious connections to the tracking database. Connections open on first use,
 * each one runs one request at a time, and a broken connection is closed and replaced on the
 * next acquire. Every connection has an `error` listener from the moment it is built, because an
 * `error` event without one would end the process.
 */
export class SqlConnectionPool {
  private readonly idle: PooledConnection[] = [];
  private readonly waiting: Array<(pooled: PooledConnection | Error) => void> = [];
  private openCount = 0;
  private closed = false;

  constructor(private readonly options: SqlConnectionPoolOptions) {
    if (options.settings.sqlLogin === undefined && options.credential === undefined) {
      throw new TypeError('SqlConnectionPool needs a credential when no SQL login is set.');
    }
  }

  /** Runs `work` on a pooled connection and returns the connection afterwards, closing it when it broke. */
  async withConnection<T>(work: (connection: Connection) => Promise<T>): Promise<T> {
    const pooled = await this.acquire();
    try {
      return await work(pooled.connection);
    } finally {
      this.release(pooled);
    }
  }

  /** Closes every idle connection and rejects waiting callers. Connections in use close when released. */
  close(): void {
    this.closed = true;
    for (const pooled of this.idle.splice(0)) {
      this.discard(pooled);
    }
    for (const resolve of this.waiting.splice(0)) {
      resolve(new RetryableError('The tracking SQL connection pool is closed.'));
    }
  }

  private async acquire(): Promise<PooledConnection> {
    if (this.closed) {
      throw new RetryableError('The tracking SQL connection pool is closed.');
    }
    while (this.idle.length > 0) {
      const pooled = this.idle.pop() as PooledConnection;
      if (!pooled.broken) {
        return pooled;
      }
      this.discard(pooled);
    }
    if (this.openCount < this.options.settings.poolSize) {
      this.openCount += 1;
      try {
        return await this.open();
      } catch (error) {
        this.openCount -= 1;
        throw error;
      }
    }
    const next = await new Promise<PooledConnection | Error>((resolve) => this.waiting.push(resolve));
    if (next instanceof Error) {
      throw next;
    }
    return next;
  }

  private release(pooled: PooledConnection): void {
    if (pooled.broken || this.closed) {
      this.discard(pooled);
      const resolve = this.waiting.shift();
      if (resolve !== undefined) {
        this.openCount += 1;
        this.open().then(resolve, (error: unknown) => {
          this.openCount -= 1;
          resolve(error instanceof Error ? error : new Error(String(error)));
        });
      }
      return;
    }
    const resolve = this.waiting.shift();
    if (resolve !== undefined) {
      resolve(pooled);
    } else {
      this.idle.push(pooled);
    }
  }

  private discard(pooled: PooledConnection): void {
    this.openCount -= 1;
    pooled.broken = true;
    pooled.connection.close();
  }

  private async open(): Promise<PooledConnection> {
    const configuration = await this.buildConfiguration();
    const createConnection = this.options.createConnection ?? ((config: ConnectionConfiguration) => new Connection(config));
    const connection = createConnection(configuration);
    const pooled: PooledConnection = { connection, broken: false };
    const { server, database } = this.options.settings;
    connection.on('error', (error) => {
      pooled.broken = true;
      this.options.logger.warn({ server, database, error: errorMessageOf(error) }, 'tracking SQL connection failed, it will be replaced');
    });
    connection.on('end', () => {
      pooled.broken = true;
    });

    await new Promise<void>((resolve, reject) => {
      connection.connect((error) => {
        if (error === undefined || error === null) {
          resolve();
          return;
        }
        pooled.broken = true;
        connection.close();
        reject(new RetryableError(`Connecting to the tracking database ${database} on ${server} failed: ${errorMessageOf(error)}`, { cause: error }));
      });
    });
    this.options.logger.info({ server, database }, 'tracking SQL connection opened');
    return pooled;
  }

  private async buildConfiguration(): Promise<ConnectionConfiguration> {
    const { server, database, port, sqlLogin } = this.options.settings;
    const options = {
      database,
      port,
      encrypt: true,
      trustServerCertificate: false,
      cryptoCredentialsDetails: { minVersion: 'TLSv1.2' as const },
      connectTimeout: connectTimeoutInMilliseconds,
      requestTimeout: requestTimeoutInMilliseconds,
      // Datetime2 values are read and written in UTC, whatever the host's time zone.
      useUTC: true,
    };
    if (sqlLogin !== undefined) {
      return { server, options, authentication: { type: 'default', options: { userName: sqlLogin.user, password: sqlLogin.password } } };
    }
    const accessToken = await (this.options.credential as AzureCredential).getToken(azureSqlTokenScope);
    if (accessToken === null) {
      throw new RetryableError(`The credential returned no token for ${azureSqlTokenScope}, so the tracking database cannot be reached.`);
    }
    return { server, options, authentication: { type: 'azure-active-directory-access-token', options: { token: accessToken.token } } };
  }
}
