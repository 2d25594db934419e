import { describe, expect, it } from 'vitest';

import { ConfigurationError } from '../../lib/errors';
import { readSqlTrackingSettings } from '../../lib/tracking/sql/sqlSettings';

const serverAndDatabase = { TRACKING_SQL_SERVER: 'contoso.database.windows.net', TRACKING_SQL_DATABASE: 'tracking' };

describe('SQL tracking settings', () => {
  it('no server or database selects SQLite', () => {
    expect(readSqlTrackingSettings({})).toBeUndefined();
  });

  it('server and database use defaults', () => {
    expect(readSqlTrackingSettings(serverAndDatabase)).toEqual({ server: 'contoso.database.windows.net', database: 'tracking', port: 1433, poolSize: 4, applySchema: false });
  });

  it('server without database is rejected', () => {
    expect(() => readSqlTrackingSettings({ TRACKING_SQL_SERVER: 'contoso.database.windows.net' })).toThrow(
      'Setting TRACKING_SQL_SERVER is set but TRACKING_SQL_DATABASE is not. Set both to use Azure SQL for tracking, or neither to use SQLite.',
    );
  });

  it('database without server is rejected', () => {
    expect(() => readSqlTrackingSettings({ TRACKING_SQL_DATABASE: 'tracking' })).toThrow(
      'Setting TRACKING_SQL_DATABASE is set but TRACKING_SQL_SERVER is not. Set both to use Azure SQL for tracking, or neither to use SQLite.',
    );
  });

  it('invalid setting is a configuration error', () => {
    expect(() => readSqlTrackingSettings({ TRACKING_SQL_SERVER: 'contoso.database.windows.net' })).toThrow(ConfigurationError);
  });

  it('pool size is read', () => {
    expect(readSqlTrackingSettings({ ...serverAndDatabase, TRACKING_SQL_POOL_SIZE: '8' })?.poolSize).toBe(8);
  });

  it.each(['0', '2.5', 'four', '101'])('pool size %s is rejected', (value) => {
    expect(() => readSqlTrackingSettings({ ...serverAndDatabase, TRACKING_SQL_POOL_SIZE: value })).toThrow(
      `Setting TRACKING_SQL_POOL_SIZE is "${value}", but it must be a whole number from 1 to 100. Set it to such a number or remove it to use 4.`,
    );
  });

  it('SQL login needs both user and password', () => {
    expect(() => readSqlTrackingSettings({ ...serverAndDatabase, TRACKING_SQL_USER: 'connector' })).toThrow(
      'Setting TRACKING_SQL_PASSWORD is not set. Set both TRACKING_SQL_USER and TRACKING_SQL_PASSWORD for SQL authentication, or neither to sign in with Microsoft Entra.',
    );
  });

  it('password message omits the password', () => {
    expect(() => readSqlTrackingSettings({ ...serverAndDatabase, TRACKING_SQL_PASSWORD: 'settings-test-password' })).toThrow(
      'Setting TRACKING_SQL_USER is not set. Set both TRACKING_SQL_USER and TRACKING_SQL_PASSWORD for SQL authentication, or neither to sign in with Microsoft Entra.',
    );
  });

  it('SQL login is read', () => {
    const settings = readSqlTrackingSettings({ ...serverAndDatabase, TRACKING_SQL_USER: 'connector', TRACKING_SQL_PASSWORD: 'settings-test-password' });

    expect(settings?.sqlLogin).toEqual({ user: 'connector', password: 'settings-test-password' });
  });

  it('apply schema is read', () => {
    expect(readSqlTrackingSettings({ ...serverAndDatabase, TRACKING_SQL_APPLY_SCHEMA: 'true' })?.applySchema).toBe(true);
  });

  it('invalid apply schema is rejected', () => {
    expect(() => readSqlTrackingSettings({ ...serverAndDatabase, TRACKING_SQL_APPLY_SCHEMA: 'yes' })).toThrow('Setting TRACKING_SQL_APPLY_SCHEMA is "yes", but it must be true or false.');
  });
});
