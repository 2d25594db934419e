import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { cliPath, repoRoot, runHostUntilExit, startHostProcess, type HostProcess } from '../helpers/hostProcess';

const fixtureMain = path.join(repoRoot, 'test', 'fixtures', 'httpApp', 'app.js');
const createdFolders: string[] = [];
const startedHosts: HostProcess[] = [];

function createFolder(prefix: string): string {
  const folder = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  createdFolders.push(folder);
  return folder;
}

/** Creates an app root whose package.json points at the HTTP fixture app, with the given host.json and local.settings.json. */
function createAppRoot(files: { hostJson?: unknown; localSettings?: unknown; main?: string } = {}): string {
  const appRoot = createFolder('host-app-');
  fs.writeFileSync(path.join(appRoot, 'package.json'), JSON.stringify({ name: 'lifecycle-app', main: files.main ?? fixtureMain }));
  if (files.hostJson !== undefined) {
    fs.writeFileSync(path.join(appRoot, 'host.json'), typeof files.hostJson === 'string' ? files.hostJson : JSON.stringify(files.hostJson));
  }
  if (files.localSettings !== undefined) {
    fs.writeFileSync(path.join(appRoot, 'local.settings.json'), JSON.stringify(files.localSettings));
  }
  return appRoot;
}

async function startHost(appRoot: string, dataDir: string, env: Record<string, string | undefined> = {}): Promise<HostProcess> {
  const host = await startHostProcess({ appRoot, dataDir, env: { LOCAL_FUNCTION_KEY: undefined, ...env } });
  startedHosts.push(host);
  return host;
}

function readKeyFile(dataDir: string): string {
  return (JSON.parse(fs.readFileSync(path.join(dataDir, 'host-keys.json'), 'utf8')) as { hostKey: string }).hostKey;
}

/** Polls `url` until it responds with `status`, at most 40 times 50 ms apart. */
async function waitForStatus(url: string, status: number): Promise<Response> {
  for (let attempt = 0; attempt < 40; attempt += 1) {
    const response = await fetch(url).catch(() => undefined);
    if (response?.status === status) {
      return response;
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`${url} did not respond with ${status} within 2 seconds.`);
}

afterEach(() => {
  startedHosts.splice(0).forEach((host) => host.kill());
});

/** Waits until the host writes its ready line to `logFile`, at most 10 s, and returns the host's process id from its log. */
async function waitForHostPid(logFile: string): Promise<number> {
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    const text = fs.existsSync(logFile) ? fs.readFileSync(logFile, 'utf8') : '';
    const match = /"pid":(\d+)/.exec(text);
    if (text.includes('Functions host ready') && match !== null) {
      return Number(match[1]);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`The host did not write its ready line to ${logFile} within 10 s.`);
}

/** Polls whether process `pid` still runs, every 100 ms up to `timeoutInMilliseconds`. Returns true once it has exited. */
async function waitForProcessExit(pid: number, timeoutInMilliseconds: number): Promise<boolean> {
  const deadline = Date.now() + timeoutInMilliseconds;
  while (Date.now() < deadline) {
    try {
      process.kill(pid, 0);
    } catch {
      return true;
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  process.kill(pid, 'SIGKILL');
  return false;
}

afterAll(() => {
  createdFolders.splice(0).forEach((folder) => fs.rmSync(folder, { recursive: true, force: true }));
});

describe('host key', () => {
  it('key file is created private and reused after restart', async () => {
    const appRoot = createAppRoot();
    const dataDir = createFolder('host-data-');

    const first = await startHost(appRoot, dataDir);
    const key = readKeyFile(dataDir);
    expect(fs.statSync(path.join(dataDir, 'host-keys.json')).mode & 0o777).toBe(0o600);
    expect((await first.stop()).code).toBe(0);

    const second = await startHost(appRoot, dataDir);
    expect(readKeyFile(dataDir)).toBe(key);
    const response = await fetch(`${second.baseUrl}/api/secure/function`, { headers: { 'x-functions-key': key } });
    expect(response.status).toBe(200);
    expect(second.stdout()).toContain(path.join(dataDir, 'host-keys.json'));
    expect(`${first.stdout()}${first.stderr()}${second.stdout()}${second.stderr()}`).not.toContain(key);
  });

  it('LOCAL_FUNCTION_KEY replaces the key file', async () => {
    const dataDir = createFolder('host-data-');
    const key = 'local-function-key-for-tests';

    const host = await startHost(createAppRoot(), dataDir, { LOCAL_FUNCTION_KEY: key });

    expect((await fetch(`${host.baseUrl}/api/secure/function?code=${key}`)).status).toBe(200);
    expect(fs.existsSync(path.join(dataDir, 'host-keys.json'))).toBe(false);
    expect(host.stdout()).toContain('host key from LOCAL_FUNCTION_KEY');
    expect(host.stdout()).not.toContain(key);
  });
});

describe('route prefix and health', () => {
  it('custom prefix moves routes and health', async () => {
    const appRoot = createAppRoot({ hostJson: { version: '2.0', extensions: { http: { routePrefix: 'v1/public' } } } });
    const host = await startHost(appRoot, createFolder('host-data-'));

    expect((await fetch(`${host.baseUrl}/v1/public/items/1`)).status).toBe(200);
    expect((await fetch(`${host.baseUrl}/api/items/1`)).status).toBe(404);
    expect((await fetch(`${host.baseUrl}/v1/public/health`)).status).toBe(200);
  });

  it('empty prefix serves routes at the root', async () => {
    const appRoot = createAppRoot({ hostJson: { version: '2.0', extensions: { http: { routePrefix: '' } } } });
    const host = await startHost(appRoot, createFolder('host-data-'));

    expect((await fetch(`${host.baseUrl}/items/1`)).status).toBe(200);
    expect(await (await fetch(`${host.baseUrl}/health`)).json()).toEqual({ status: 'ready' });
  });

  it("app's own health route wins", async () => {
    const appRoot = createAppRoot({ localSettings: { IsEncrypted: false, Values: { FIXTURE_OWN_HEALTH_ROUTE: 'true' } } });
    const host = await startHost(appRoot, createFolder('host-data-'));

    expect(await (await fetch(`${host.baseUrl}/api/health`)).json()).toEqual({ status: 'from the app' });
  });

  it('environment overrides local settings', async () => {
    const appRoot = createAppRoot({ localSettings: { Values: { FIXTURE_OWN_HEALTH_ROUTE: 'true' } } });
    const host = await startHost(appRoot, createFolder('host-data-'), { FIXTURE_OWN_HEALTH_ROUTE: 'false' });

    expect(await (await fetch(`${host.baseUrl}/api/health`)).json()).toEqual({ status: 'ready' });
  });
});

describe('graceful stop', () => {
  it('running request finishes and new requests get 503', async () => {
    const host = await startHost(createAppRoot(), createFolder('host-data-'));
    const slowResponse = fetch(`${host.baseUrl}/api/slow?ms=1500`);
    await new Promise((resolve) => setTimeout(resolve, 200));

    process.kill(host.pid, 'SIGTERM');
    const unavailable = await waitForStatus(`${host.baseUrl}/api/items/1`, 503);
    const health = await fetch(`${host.baseUrl}/api/health`);

    expect(unavailable.headers.get('retry-after')).toBe('5');
    expect(unavailable.headers.get('content-type')).toBe('application/problem+json');
    expect(await health.json()).toEqual({ status: 'stopping' });
    expect((await slowResponse).status).toBe(200);
    expect(await host.exited).toEqual({ code: 0, signal: null });
    expect(host.logEntries().map((entry) => entry.msg)).toEqual(expect.arrayContaining(['host stopping', 'host stopped']));
  });

  it('grace period bounds the wait', async () => {
    const host = await startHost(createAppRoot(), createFolder('host-data-'), { HOST_SHUTDOWN_GRACE_PERIOD_MS: '300' });
    const slowResponse = fetch(`${host.baseUrl}/api/slow?ms=5000`).then(
      (response) => response.status,
      () => 'connection closed',
    );
    await new Promise((resolve) => setTimeout(resolve, 200));
    const stopStart = Date.now();

    process.kill(host.pid, 'SIGTERM');

    expect(await host.exited).toEqual({ code: 0, signal: null });
    expect(Date.now() - stopStart).toBeLessThan(3000);
    expect(await slowResponse).toBe('connection closed');
  });

  it('host stops when its parent exits', async () => {
    const appRoot = createAppRoot();
    const dataDir = createFolder('host-data-');
    const logFile = path.join(dataDir, 'out.log');
    // A shell runs the host in the foreground, as `npm start` does. Killing the shell alone
    // leaves the host without its parent, as a signal sent to npm alone does.
    const shell = spawn('sh', ['-c', `"${process.execPath}" "${cliPath}" --port 0 --data-dir "${dataDir}" --app-root "${appRoot}" > "${logFile}" 2>&1`]);
    const hostPid = await waitForHostPid(logFile);
    shell.kill('SIGKILL');

    const exited = await waitForProcessExit(hostPid, 10_000);

    expect(exited).toBe(true);
    expect(fs.readFileSync(logFile, 'utf8')).toContain('parent process exited; stopping');
  });

  it('SIGINT stops the host too', async () => {
    const host = await startHost(createAppRoot(), createFolder('host-data-'));

    expect(await host.stop('SIGINT')).toEqual({ code: 0, signal: null });
  });
});

describe('command line', () => {
  it('local settings set PORT and DATA_DIR', async () => {
    const dataDir = path.join(createFolder('host-data-'), 'from-settings');
    const appRoot = createAppRoot({ localSettings: { Values: { PORT: '0', DATA_DIR: dataDir } } });

    const host = await startHostProcess({ appRoot, dataDir: 'unused', args: [], env: { DATA_DIR: undefined, PORT: undefined, LOCAL_FUNCTION_KEY: undefined } });
    startedHosts.push(host);

    expect(new URL(host.baseUrl).port).not.toBe('7071');
    expect(fs.existsSync(path.join(dataDir, 'host-keys.json'))).toBe(true);
  });

  it('--help prints the options', async () => {
    const result = await runHostUntilExit({ appRoot: createAppRoot(), dataDir: createFolder('host-data-'), args: ['--help'] });

    expect(result.code).toBe(0);
    expect(result.stdout).toContain('--port N');
  });
});

describe('start failures', () => {
  it('app that throws while loading exits non-zero', async () => {
    const appRoot = createAppRoot();
    const mainPath = path.join(appRoot, 'broken.js');
    fs.writeFileSync(mainPath, "throw new Error('fixture app cannot start');\n");
    fs.writeFileSync(path.join(appRoot, 'package.json'), JSON.stringify({ main: 'broken.js' }));

    const result = await runHostUntilExit({ appRoot, dataDir: createFolder('host-data-') });

    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`The Functions app in ${appRoot} failed to load: fixture app cannot start`);
    expect(result.stdout).not.toContain('Functions host ready');
  });

  it('missing main file exits non-zero', async () => {
    const appRoot = createAppRoot({ main: 'dist/missing.js' });

    const result = await runHostUntilExit({ appRoot, dataDir: createFolder('host-data-') });

    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`${path.join(appRoot, 'dist', 'missing.js')} does not exist`);
  });

  it('invalid host.json names the file', async () => {
    const appRoot = createAppRoot({ hostJson: '{ "version": "2.0", ' });

    const result = await runHostUntilExit({ appRoot, dataDir: createFolder('host-data-') });

    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`Invalid JSON in ${path.join(appRoot, 'host.json')}`);
  });

  it('port in use exits non-zero', async () => {
    const running = await startHost(createAppRoot(), createFolder('host-data-'));
    const port = new URL(running.baseUrl).port;

    const result = await runHostUntilExit({ appRoot: createAppRoot(), dataDir: createFolder('host-data-'), args: ['--port', port] });

    expect(result.code).toBe(1);
    expect(result.stderr).toContain('EADDRINUSE');
  });

  it('invalid port argument prints usage', async () => {
    const result = await runHostUntilExit({ appRoot: createAppRoot(), dataDir: createFolder('host-data-'), args: ['--port', 'abc'] });

    expect(result.code).toBe(2);
    expect(result.stderr).toContain('--port must be a port number from 0 to 65535');
    expect(result.stderr).toContain('Usage:');
  });
});
