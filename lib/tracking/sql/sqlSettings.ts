import { ConfigurationError } from '../../errors';
import { readSetting, type Environment } from '../../settings';

/** Settings that select the Azure SQL tracking store and tune its connections. */
export const sqlTrackingSettingNames = {
  server: 'TRACKING_SQL_SERVER',
  database: 'TRACKING_SQL_DATABASE',
  port: 'TRACKING_SQL_PORT',
  poolSize: 'TRACKING_SQL_POOL_SIZE',
  user: 'TRACKING_SQL_USER',
  password: 'TRACKING_SQL_PASSWORD',
  applySchema: 'TRACKING_SQL_APPLY_SCHEMA',
  managedIdentityClientId: 'AZURE_CLIENT_ID',
} as const;

export const defaultSqlPoolSize = 4;
export const defaultSqlPort = 1433;
const maxSqlPoolSize = 100;

/** The Azure SQL tracking settings, present only when the server and the database are both set. */
export interface SqlTrackingSettings {
  /** Host name of the logical server, such as `contoso.database.windows.net`. */
  server: string;
  database: string;
  port: number;
  /** Connections the pool keeps open at most. */
  poolSize: number;
  /** SQL authentication, used only when both the user and the password are set. Otherwise Entra tokens are used. */
  sqlLogin?: { user: string; password: string };
  /** Whether start-up applies infra/sql/tracking-schema.sql. */
  applySchema: boolean;
  /** Client id of a user-assigned managed identity, when `AZURE_CLIENT_ID` is set. */
  managedIdentityClientId?: string;
}

/**
 * Reads the Azure SQL tracking settings, or returns undefined when neither `TRACKING_SQL_SERVER`
 * nor `TRACKING_SQL_DATABASE` is set, which selects the SQLite store. Throws a ConfigurationError
 * when only one of them is set or a value is invalid. Messages never contain the password.
 */
export function readSqlTrackingSettings(environment: Environment = process.env): SqlTrackingSettings | undefined {
  const server = readSetting(sqlTrackingSettingNames.server, environment)?.trim();
  const database = readSetting(sqlTrackingSettingNames.database, environment)?.trim();
  if (server === undefined && database === undefined) {
    return undefined;
  }
  if (server === undefined || database === undefined) {
    const missing = server === undefined ? sqlTrackingSettingNames.server : sqlTrackingSettingNames.database;
    const present = server === undefined ? sqlTrackingSettingNames.database : sqlTrackingSettingNames.server;
    throw new ConfigurationError(
      `Setting ${present} is set but ${missing} is not. Set both to use Azure SQL for tracking, or neither to use SQLite.`,
    );
  }

  const settings: SqlTrackingSettings = {
    server,
    database,
    port: readWholeNumber(environment, sqlTrackingSettingNames.port, defaultSqlPort, 65_535),
    poolSize: readWholeNumber(environment, sqlTrackingSettingNames.poolSize, defaultSqlPoolSize, maxSqlPoolSize),
    applySchema: readApplySchema(environment),
  };

  const user = readSetting(sqlTrackingSettingNames.user, environment)?.trim();
  const password = readSetting(sqlTrackingSettingNames.password, environment);
  if ((user === undefined) !== (password === undefined)) {
    const missing = user === undefined ? sqlTrackingSettingNames.user : sqlTrackingSettingNames.password;
    throw new ConfigurationError(
      `Setting ${missing} is not set. Set both ${sqlTrackingSettingNames.user} and ${sqlTrackingSettingNames.password} for SQL authentication, or neither to sign in with Microsoft Entra.`,
    );
  }
  if (user !== undefined && password !== undefined) {
    settings.sqlLogin = { user, password };
  }

  const clientId = readSetting(sqlTrackingSettingNames.managedIdentityClientId, environment)?.trim();
  if (clientId !== undefined) {
    settings.managedIdentityClientId = clientId;
  }
  return settings;
}

function readWholeNumber(environment: Environment, name: string, defaultValue: number, maxValue: number): number {
  const text = readSetting(name, environment)?.trim();
  if (text === undefined) {
    return defaultValue;
  }
  const value = Number(text);
  if (!Number.isInteger(value) || value < 1 || value > maxValue) {
    throw new ConfigurationError(`Setting ${name} is "${text}", but it must be a whole number from 1 to ${maxValue}. Set it to such a number or remove it to use ${defaultValue}.`);
  }
  return value;
}

function readApplySchema(environment: Environment): boolean {
  const text = readSetting(sqlTrackingSettingNames.applySchema, environment)?.trim().toLowerCase();
  if (text === undefined || text === 'false') {
    return false;
  }
  if (text === 'true') {
    return true;
  }
  throw new ConfigurationError(`Setting ${sqlTrackingSettingNames.applySchema} is "${text}", but it must be true or false.`);
}
