import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { ClientSecretCredential } from '@azure/identity';
import pino from 'pino';
import { describe, it } from 'vitest';

import { QuarantineStore } from '../../lib/quarantine/quarantineStore';
import type { AzureCredential } from '../../lib/secrets/azureCredential';
import { openSqlTrackingStores } from '../../lib/tracking/sql/openSqlTrackingStores';
import type { SqlTrackingSettings } from '../../lib/tracking/sql/sqlSettings';
import { openTrackingStore } from '../../lib/tracking/trackingStore';
import { describeTrackingStoreContract } from './trackingStoreContract';

describe('SQLite tracking store contract', () => {
  describeTrackingStoreContract(async () => {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tracking-contract-'));
    const tracking = openTrackingStore(dataDir);
    return {
      tracking,
      quarantine: new QuarantineStore(tracking.db, tracking),
      close: async () => {
        tracking.close();
        fs.rmSync(dataDir, { recursive: true, force: true });
      },
    };
  });
});

/**
 * Reads the Azure SQL database under test: a server and a database, and either a SQL login or a
 * service principal with a client secret. The suite applies infra/sql/tracking-schema.sql and
 * leaves its rows behind, each test under its own connector id.
 */
function readSqlTestTarget(environment: NodeJS.ProcessEnv): { settings: SqlTrackingSettings; credential?: AzureCredential } | undefined {
  const server = environment.TRACKING_SQL_TEST_SERVER?.trim();
  const database = environment.TRACKING_SQL_TEST_DATABASE?.trim();
  if (!server || !database) {
    return undefined;
  }
  const settings: SqlTrackingSettings = { server, database, port: 1433, poolSize: 4, applySchema: true };
  const user = environment.TRACKING_SQL_TEST_USER?.trim();
  const password = environment.TRACKING_SQL_TEST_PASSWORD;
  if (user && password) {
    return { settings: { ...settings, sqlLogin: { user, password } } };
  }
  const { AZURE_TENANT_ID: tenantId, AZURE_CLIENT_ID: clientId, AZURE_CLIENT_SECRET: clientSecret } = environment;
  if (tenantId && clientId && clientSecret) {
    return { settings, credential: new ClientSecretCredential(tenantId, clientId, clientSecret) };
  }
  return undefined;
}

const sqlTestTarget = readSqlTestTarget(process.env);
const sqlSuiteName = 'Azure SQL tracking store contract';
if (sqlTestTarget === undefined) {
  describe.skip(
    `${sqlSuiteName} (skipped: set TRACKING_SQL_TEST_SERVER, TRACKING_SQL_TEST_DATABASE and either TRACKING_SQL_TEST_USER and TRACKING_SQL_TEST_PASSWORD or AZURE_TENANT_ID, AZURE_CLIENT_ID and AZURE_CLIENT_SECRET to run)`,
    () => {
      it('contract', () => undefined);
    },
  );
} else {
  const target = sqlTestTarget;
  describe(sqlSuiteName, () => {
    describeTrackingStoreContract(async () => {
      const logger = pino({ level: 'warn' });
      const { trackingStore, quarantineStore } = openSqlTrackingStores(target.settings, logger, target.credential);
      return { tracking: trackingStore, quarantine: quarantineStore, close: async () => trackingStore.close() };
    });
  }, 120_000);
}
