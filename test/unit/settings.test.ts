import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { ConfigurationError } from '../../lib/errors';
import { findAppRoot, readSecret, readSettings } from '../../lib/settings';

describe('readSettings', () => {
  let appRoot: string;

  beforeEach(() => {
    appRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'settings-'));
  });

  afterEach(() => {
    fs.rmSync(appRoot, { recursive: true, force: true });
  });

  test('defaults use the sample connectors file', () => {
    const settings = readSettings({}, appRoot);

    expect(settings.connectorsFile).toBe(path.join(appRoot, 'connectors.sample.json'));
    expect(settings.dataDir).toBe(path.join(appRoot, '.data'));
    expect(settings.dedupWindowInDays).toBe(7);
  });

  test('connectors.json is preferred over the sample', () => {
    fs.writeFileSync(path.join(appRoot, 'connectors.json'), '{"connectors":[]}');

    const settings = readSettings({}, appRoot);

    expect(settings.connectorsFile).toBe(path.join(appRoot, 'connectors.json'));
  });

  test('configured paths resolve against the app root', () => {
    const settings = readSettings({ CONNECTORS_FILE: 'config/mine.json', DATA_DIR: '/var/connector' }, appRoot);

    expect(settings.connectorsFile).toBe(path.join(appRoot, 'config', 'mine.json'));
    expect(settings.dataDir).toBe('/var/connector');
  });

  test('dedup window accepts a positive number', () => {
    expect(readSettings({ DEDUP_WINDOW_IN_DAYS: '1.5' }, appRoot).dedupWindowInDays).toBe(1.5);
  });

  test('dedup window rejects zero with the setting name', () => {
    expect(() => readSettings({ DEDUP_WINDOW_IN_DAYS: '0' }, appRoot)).toThrow(ConfigurationError);
    expect(() => readSettings({ DEDUP_WINDOW_IN_DAYS: '0' }, appRoot)).toThrow(/DEDUP_WINDOW_IN_DAYS is "0"/);
  });

  test('dedup window rejects text', () => {
    expect(() => readSettings({ DEDUP_WINDOW_IN_DAYS: 'week' }, appRoot)).toThrow(/positive number of days/);
  });
});

describe('readSecret', () => {
  test('returns the named setting', () => {
    expect(readSecret('ORDERS_HMAC_SECRET', { ORDERS_HMAC_SECRET: 's3cret' })).toBe('s3cret');
  });

  test('treats an empty setting as missing', () => {
    expect(readSecret('ORDERS_HMAC_SECRET', { ORDERS_HMAC_SECRET: '  ' })).toBeUndefined();
  });
});

describe('findAppRoot', () => {
  test('finds the folder with package.json', () => {
    const appRoot = findAppRoot(path.join(__dirname, 'nested', 'folder'));

    expect(fs.existsSync(path.join(appRoot, 'package.json'))).toBe(true);
  });
});
