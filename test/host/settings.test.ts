import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { applyLocalSettings, readHostEnvironment, readHostJson, readLocalSettings } from '../../local/settings';

const createdFolders: string[] = [];

function appRootWith(files: Record<string, string>): string {
  const appRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'host-settings-'));
  createdFolders.push(appRoot);
  for (const [name, content] of Object.entries(files)) {
    fs.writeFileSync(path.join(appRoot, name), content);
  }
  return appRoot;
}

afterEach(() => {
  createdFolders.splice(0).forEach((folder) => fs.rmSync(folder, { recursive: true, force: true }));
});

describe('local.settings.json', () => {
  it('values are copied into the environment', () => {
    const appRoot = appRootWith({ 'local.settings.json': JSON.stringify({ IsEncrypted: false, Values: { CONNECTOR_FILE: 'connectors.json' } }) });
    const env: NodeJS.ProcessEnv = {};

    applyLocalSettings(appRoot, env);

    expect(env.CONNECTOR_FILE).toBe('connectors.json');
  });

  it('environment wins over the file', () => {
    const appRoot = appRootWith({ 'local.settings.json': JSON.stringify({ Values: { PORT: '9000' } }) });
    const env: NodeJS.ProcessEnv = { PORT: '8000' };

    const result = applyLocalSettings(appRoot, env);

    expect(env.PORT).toBe('8000');
    expect(result.overriddenNames).toEqual(['PORT']);
  });

  it('numbers and booleans become strings', () => {
    const appRoot = appRootWith({ 'local.settings.json': JSON.stringify({ Values: { RETRIES: 3, ENABLED: true } }) });
    const env: NodeJS.ProcessEnv = {};

    applyLocalSettings(appRoot, env);

    expect(env.RETRIES).toBe('3');
    expect(env.ENABLED).toBe('true');
  });

  it('missing file applies nothing', () => {
    const result = applyLocalSettings(appRootWith({}), {});

    expect(result.filePath).toBeUndefined();
    expect(result.appliedNames).toEqual([]);
  });

  it('Host.LocalHttpPort is read', () => {
    const appRoot = appRootWith({ 'local.settings.json': JSON.stringify({ Values: {}, Host: { LocalHttpPort: 7075 } }) });

    expect(readLocalSettings(appRoot).localHttpPort).toBe(7075);
  });

  it('invalid JSON names the file', () => {
    const appRoot = appRootWith({ 'local.settings.json': '{ "Values": { "A": "1", } }' });

    expect(() => applyLocalSettings(appRoot, {})).toThrow(`Invalid JSON in ${path.join(appRoot, 'local.settings.json')}`);
  });

  it('object value names the setting', () => {
    const appRoot = appRootWith({ 'local.settings.json': JSON.stringify({ Values: { NESTED: { a: 1 } } }) });

    expect(() => applyLocalSettings(appRoot, {})).toThrow('Setting "NESTED" in');
  });

  it('encrypted file is rejected', () => {
    const appRoot = appRootWith({ 'local.settings.json': JSON.stringify({ IsEncrypted: true, Values: {} }) });

    expect(() => applyLocalSettings(appRoot, {})).toThrow('"IsEncrypted": true');
  });
});

describe('host.json', () => {
  it('defaults apply without a file', () => {
    const config = readHostJson(appRootWith({}), {});

    expect(config.routePrefix).toBe('api');
    expect(config.durableTask).toEqual({ hubName: 'TestHubName', maxConcurrentActivityFunctions: 10, maxConcurrentOrchestratorFunctions: 10 });
  });

  it('route prefix loses its slashes', () => {
    const appRoot = appRootWith({ 'host.json': JSON.stringify({ extensions: { http: { routePrefix: '/v1/public/' } } }) });

    expect(readHostJson(appRoot, {}).routePrefix).toBe('v1/public');
  });

  it('empty route prefix is allowed', () => {
    const appRoot = appRootWith({ 'host.json': JSON.stringify({ extensions: { http: { routePrefix: '' } } }) });

    expect(readHostJson(appRoot, {}).routePrefix).toBe('');
  });

  it('durable task settings are read', () => {
    const durableTask = { hubName: 'connector', maxConcurrentActivityFunctions: 16, maxConcurrentOrchestratorFunctions: 4 };
    const appRoot = appRootWith({ 'host.json': JSON.stringify({ extensions: { durableTask } }) });

    expect(readHostJson(appRoot, {}).durableTask).toEqual(durableTask);
  });

  it('hub name resolves an app setting', () => {
    const appRoot = appRootWith({ 'host.json': JSON.stringify({ extensions: { durableTask: { hubName: '%TASK_HUB%' } } }) });

    expect(readHostJson(appRoot, { TASK_HUB: 'fromSetting' }).durableTask.hubName).toBe('fromSetting');
  });

  it('invalid JSON names the file', () => {
    const appRoot = appRootWith({ 'host.json': '{ "version": "2.0" ' });

    expect(() => readHostJson(appRoot, {})).toThrow(`Invalid JSON in ${path.join(appRoot, 'host.json')}`);
  });

  it('non-string route prefix names the value', () => {
    const appRoot = appRootWith({ 'host.json': JSON.stringify({ extensions: { http: { routePrefix: 5 } } }) });

    expect(() => readHostJson(appRoot, {})).toThrow('extensions.http.routePrefix must be a string, but it is 5');
  });

  it('zero concurrency names the setting', () => {
    const appRoot = appRootWith({ 'host.json': JSON.stringify({ extensions: { durableTask: { maxConcurrentActivityFunctions: 0 } } }) });

    expect(() => readHostJson(appRoot, {})).toThrow('extensions.durableTask.maxConcurrentActivityFunctions must be a positive integer, but it is 0');
  });

  it('invalid hub name is rejected', () => {
    const appRoot = appRootWith({ 'host.json': JSON.stringify({ extensions: { durableTask: { hubName: 'my-hub' } } }) });

    expect(() => readHostJson(appRoot, {})).toThrow('hubName is "my-hub"');
  });
});

describe('host environment', () => {
  it('defaults apply', () => {
    expect(readHostEnvironment({})).toEqual({
      maxRequestBodyBytes: 104_857_600,
      shutdownGracePeriodMs: 30_000,
      connectionLimits: { maxHeaderBytes: 16_384, headersTimeoutMs: 60_000, requestTimeoutMs: 300_000 },
      logLevel: 'info',
      functionWorkerCount: undefined,
    });
  });

  it('worker count is read', () => {
    expect(readHostEnvironment({ FUNCTIONS_WORKER_PROCESS_COUNT: '3' }).functionWorkerCount).toBe(3);
  });

  it('empty worker count means functions run on the host thread', () => {
    expect(readHostEnvironment({ FUNCTIONS_WORKER_PROCESS_COUNT: ' ' }).functionWorkerCount).toBeUndefined();
  });

  it('worker count over 10 is rejected', () => {
    expect(() => readHostEnvironment({ FUNCTIONS_WORKER_PROCESS_COUNT: '12' })).toThrow('FUNCTIONS_WORKER_PROCESS_COUNT must be a whole number from 1 to 10, but it is "12"');
  });

  it('connection limits are read', () => {
    const environment = readHostEnvironment({ HOST_MAX_HEADER_BYTES: '8192', HOST_HEADERS_TIMEOUT_MS: '2000', HOST_REQUEST_TIMEOUT_MS: '3000' });

    expect(environment.connectionLimits).toEqual({ maxHeaderBytes: 8192, headersTimeoutMs: 2000, requestTimeoutMs: 3000 });
  });

  it('invalid request timeout names the setting', () => {
    expect(() => readHostEnvironment({ HOST_REQUEST_TIMEOUT_MS: '0' })).toThrow('HOST_REQUEST_TIMEOUT_MS must be a positive integer, but it is "0"');
  });

  it('body limit is read', () => {
    expect(readHostEnvironment({ HOST_MAX_REQUEST_BODY_BYTES: '1024' }).maxRequestBodyBytes).toBe(1024);
  });

  it('invalid body limit names the setting', () => {
    expect(() => readHostEnvironment({ HOST_MAX_REQUEST_BODY_BYTES: '10MB' })).toThrow('HOST_MAX_REQUEST_BODY_BYTES must be a positive integer, but it is "10MB"');
  });

  it('unknown log level is rejected', () => {
    expect(() => readHostEnvironment({ LOG_LEVEL: 'verbose' })).toThrow('LOG_LEVEL is "verbose"');
  });
});
