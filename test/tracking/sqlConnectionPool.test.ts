import { createServer } from 'node:net';

import pino from 'pino';
import { Connection, type ConnectionConfiguration } from 'tedious';
import { describe, expect, it } from 'vitest';

import { RetryableError } from '../../lib/errors';
import type { AzureCredential } from '../../lib/secrets/azureCredential';
import { azureSqlTokenScope, SqlConnectionPool } from '../../lib/tracking/sql/sqlConnectionPool';

/** Returns a loopback port that nothing listens on, by binding port 0 and closing it again. */
async function findClosedLocalPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === 'string') {
    throw new Error('The test server has no port.');
  }
  return address.port;
}

function collectingLogger(): { logger: pino.Logger; lines: Array<Record<string, unknown>> } {
  const lines: Array<Record<string, unknown>> = [];
  const logger = pino({ level: 'info' }, { write: (line: string) => lines.push(JSON.parse(line) as Record<string, unknown>) });
  return { logger, lines };
}

/** Builds connections to 127.0.0.1 on `port` only, whatever server the settings name, and keeps each configuration. */
function localConnections(port: number): { createConnection: (configuration: ConnectionConfiguration) => Connection; built: Array<{ configuration: ConnectionConfiguration; connection: Connection }> } {
  const built: Array<{ configuration: ConnectionConfiguration; connection: Connection }> = [];
  const createConnection = (configuration: ConnectionConfiguration): Connection => {
    const local: ConnectionConfiguration = { ...configuration, server: '127.0.0.1', options: { ...configuration.options, port, connectTimeout: 2000 } };
    const connection = new Connection(local);
    built.push({ configuration, connection });
    return connection;
  };
  return { createConnection, built };
}

const sqlLoginSettings = { server: 'tracking.example.invalid', database: 'tracking', port: 1433, poolSize: 2, sqlLogin: { user: 'connector', password: 'pool-test-password' } };

describe('SQL connection pool', () => {
  it('refused connection rejects as retryable', async () => {
    const port = await findClosedLocalPort();
    const { logger } = collectingLogger();
    const { createConnection } = localConnections(port);
    const pool = new SqlConnectionPool({ settings: sqlLoginSettings, logger, createConnection });

    const run = pool.withConnection(async () => 'unreachable');

    await expect(run).rejects.toBeInstanceOf(RetryableError);
    pool.close();
  });

  it('refused connection message names server and database', async () => {
    const port = await findClosedLocalPort();
    const { logger } = collectingLogger();
    const { createConnection } = localConnections(port);
    const pool = new SqlConnectionPool({ settings: sqlLoginSettings, logger, createConnection });

    const run = pool.withConnection(async () => 'unreachable');

    await expect(run).rejects.toThrow(/^Connecting to the tracking database tracking on tracking\.example\.invalid failed: /);
    pool.close();
  });

  it('every connection has an error listener', async () => {
    const port = await findClosedLocalPort();
    const { logger } = collectingLogger();
    const { createConnection, built } = localConnections(port);
    const pool = new SqlConnectionPool({ settings: sqlLoginSettings, logger, createConnection });

    await pool.withConnection(async () => undefined).catch(() => undefined);

    expect(built).toHaveLength(1);
    expect(built[0]?.connection.listenerCount('error')).toBeGreaterThan(0);
    pool.close();
  });

  it('error event is logged, not thrown', async () => {
    const port = await findClosedLocalPort();
    const { logger, lines } = collectingLogger();
    const { createConnection, built } = localConnections(port);
    const pool = new SqlConnectionPool({ settings: sqlLoginSettings, logger, createConnection });
    await pool.withConnection(async () => undefined).catch(() => undefined);

    built[0]?.connection.emit('error', new Error('socket hang up'));

    expect(lines.map((line) => line.msg)).toContain('tracking SQL connection failed, it will be replaced');
    pool.close();
  });

  it('failed connection is replaced on next use', async () => {
    const port = await findClosedLocalPort();
    const { logger } = collectingLogger();
    const { createConnection, built } = localConnections(port);
    const pool = new SqlConnectionPool({ settings: sqlLoginSettings, logger, createConnection });

    await pool.withConnection(async () => undefined).catch(() => undefined);
    await pool.withConnection(async () => undefined).catch(() => undefined);

    expect(built).toHaveLength(2);
    pool.close();
  });

  it('SQL login uses default authentication', async () => {
    const port = await findClosedLocalPort();
    const { logger } = collectingLogger();
    const { createConnection, built } = localConnections(port);
    const pool = new SqlConnectionPool({ settings: sqlLoginSettings, logger, createConnection });

    await pool.withConnection(async () => undefined).catch(() => undefined);

    expect(built[0]?.configuration.authentication).toEqual({ type: 'default', options: { userName: 'connector', password: 'pool-test-password' } });
    pool.close();
  });

  it('failure log omits the password', async () => {
    const port = await findClosedLocalPort();
    const { logger, lines } = collectingLogger();
    const { createConnection, built } = localConnections(port);
    const pool = new SqlConnectionPool({ settings: sqlLoginSettings, logger, createConnection });
    await pool.withConnection(async () => undefined).catch(() => undefined);

    built[0]?.connection.emit('error', new Error('socket hang up'));

    expect(JSON.stringify(lines)).not.toContain('pool-test-password');
    pool.close();
  });

  it('Entra token comes from the credential', async () => {
    const port = await findClosedLocalPort();
    const { logger } = collectingLogger();
    const { createConnection, built } = localConnections(port);
    const scopes: Array<string | string[]> = [];
    const credential: AzureCredential = {
      getToken: async (scope) => {
        scopes.push(scope);
        return { token: 'entra-test-token', expiresOnTimestamp: Date.now() + 3_600_000 };
      },
    };
    const { sqlLogin: _unused, ...entraSettings } = sqlLoginSettings;
    const pool = new SqlConnectionPool({ settings: entraSettings, credential, logger, createConnection });

    await pool.withConnection(async () => undefined).catch(() => undefined);

    expect(scopes).toEqual([azureSqlTokenScope]);
    expect(built[0]?.configuration.authentication).toEqual({ type: 'azure-active-directory-access-token', options: { token: 'entra-test-token' } });
    pool.close();
  });

  it('connections are encrypted with TLS 1.2 or later', async () => {
    const port = await findClosedLocalPort();
    const { logger } = collectingLogger();
    const { createConnection, built } = localConnections(port);
    const pool = new SqlConnectionPool({ settings: sqlLoginSettings, logger, createConnection });

    await pool.withConnection(async () => undefined).catch(() => undefined);

    expect(built[0]?.configuration.options?.encrypt).toBe(true);
    expect(built[0]?.configuration.options?.cryptoCredentialsDetails).toEqual({ minVersion: 'TLSv1.2' });
    pool.close();
  });

  it('pool without credential or login is rejected', () => {
    const { logger } = collectingLogger();
    const { sqlLogin: _unused, ...entraSettings } = sqlLoginSettings;

    expect(() => new SqlConnectionPool({ settings: entraSettings, logger })).toThrow('SqlConnectionPool needs a credential when no SQL login is set.');
  });
});
