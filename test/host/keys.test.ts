import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { keyMatches, resolveHostKey } from '../../local/keys';

const createdFolders: string[] = [];

function createDataDir(): string {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'host-keys-'));
  createdFolders.push(dataDir);
  return dataDir;
}

afterEach(() => {
  createdFolders.splice(0).forEach((folder) => fs.rmSync(folder, { recursive: true, force: true }));
});

describe('host key', () => {
  it('setting is used when present', () => {
    const dataDir = createDataDir();

    const key = resolveHostKey(dataDir, { LOCAL_FUNCTION_KEY: 'local-test-key' });

    expect(key.value).toBe('local-test-key');
    expect(key.source).toBe('setting');
    expect(fs.existsSync(path.join(dataDir, 'host-keys.json'))).toBe(false);
  });

  it('generated key file has mode 0600', () => {
    const dataDir = createDataDir();

    const key = resolveHostKey(dataDir, {});

    expect(key.created).toBe(true);
    expect(fs.statSync(path.join(dataDir, 'host-keys.json')).mode & 0o777).toBe(0o600);
  });

  it('generated key is reused', () => {
    const dataDir = createDataDir();

    const first = resolveHostKey(dataDir, {});
    const second = resolveHostKey(dataDir, {});

    expect(second.value).toBe(first.value);
    expect(second.created).toBe(false);
  });

  it('generated key has 256 bits', () => {
    const key = resolveHostKey(createDataDir(), {});

    expect(Buffer.from(key.value, 'base64url')).toHaveLength(32);
  });

  it('readable key file is made private', () => {
    const dataDir = createDataDir();
    resolveHostKey(dataDir, {});
    fs.chmodSync(path.join(dataDir, 'host-keys.json'), 0o644);

    const key = resolveHostKey(dataDir, {});

    expect(key.permissionsFixed).toBe(true);
    expect(fs.statSync(path.join(dataDir, 'host-keys.json')).mode & 0o777).toBe(0o600);
  });

  it('damaged key file names the file', () => {
    const dataDir = createDataDir();
    fs.writeFileSync(path.join(dataDir, 'host-keys.json'), 'not json', { mode: 0o600 });

    expect(() => resolveHostKey(dataDir, {})).toThrow(`Cannot read the key file ${path.join(dataDir, 'host-keys.json')}`);
  });

  it('key with spaces is rejected', () => {
    expect(() => resolveHostKey(createDataDir(), { LOCAL_FUNCTION_KEY: 'has space' })).toThrow('The setting LOCAL_FUNCTION_KEY must be a non-empty key');
  });

  it('empty key is rejected', () => {
    expect(() => resolveHostKey(createDataDir(), { LOCAL_FUNCTION_KEY: '' })).toThrow('The setting LOCAL_FUNCTION_KEY must be a non-empty key');
  });
});

describe('key comparison', () => {
  it('equal keys match', () => {
    expect(keyMatches('secret-key', 'secret-key')).toBe(true);
  });

  it('different keys do not match', () => {
    expect(keyMatches('secret-kez', 'secret-key')).toBe(false);
  });

  it('prefix does not match', () => {
    expect(keyMatches('secret', 'secret-key')).toBe(false);
  });

  it('missing key does not match', () => {
    expect(keyMatches(undefined, 'secret-key')).toBe(false);
  });
});
