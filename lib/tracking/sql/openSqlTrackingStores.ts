import type pino from 'pino';

import type { AzureCredential } from '../../secrets/azureCredential';
import { migrateSqlSchema } from './migrateSqlSchema';
import { SqlConnectionPool } from './sqlConnectionPool';
import { SqlDatabase } from './sqlDatabase';
import { SqlQuarantineStore } from './SqlQuarantineStore';
import type { SqlTrackingSettings } from './sqlSettings';
import { SqlTrackingStore } from './SqlTrackingStore';

export interface SqlTrackingStores {
  trackingStore: SqlTrackingStore;
  quarantineStore: SqlQuarantineStore;
}

/**
 * Builds the tracking and quarantine stores over one Azure SQL connection pool. Nothing connects
 * until the first statement. With `applySchema` the schema is applied before that statement.
 * `credential` is required unless the settings contain a SQL login.
 */
export function openSqlTrackingStores(settings: SqlTrackingSettings, logger: pino.Logger, credential?: AzureCredential): SqlTrackingStores {
  const poolOptions = credential === undefined ? { settings, logger } : { settings, logger, credential };
  const pool = new SqlConnectionPool(poolOptions);
  const prepare = settings.applySchema ? async (database: SqlDatabase) => void (await migrateSqlSchema(database, logger)) : undefined;
  const database = new SqlDatabase(pool, logger, prepare === undefined ? {} : { prepare });
  logger.info({ server: settings.server, database: settings.database, poolSize: settings.poolSize, applySchema: settings.applySchema }, 'tracking store is Azure SQL');
  return { trackingStore: new SqlTrackingStore(database), quarantineStore: new SqlQuarantineStore(database) };
}
