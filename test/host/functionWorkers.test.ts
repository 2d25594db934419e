import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { repoRoot, runHostUntilExit, startHostProcess, type HostProcess } from '../helpers/hostProcess';

/**
 * Function invocations on worker threads (`FUNCTIONS_WORKER_PROCESS_COUNT`), with the host run
 * as a user runs it and the HTTP fixture app.
 */

const fixtureMain = path.join(repoRoot, 'test', 'fixtures', 'httpApp', 'app.js');
const createdFolders: string[] = [];
const startedHosts: HostProcess[] = [];

interface ThreadAnswer {
  isMainThread: boolean;
  threadId: number;
}

function createFolder(prefix: string): string {
  const folder = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  createdFolders.push(folder);
  return folder;
}

function createAppRoot(main = fixtureMain): string {
  const appRoot = createFolder('workers-app-');
  fs.writeFileSync(path.join(appRoot, 'package.json'), JSON.stringify({ name: 'workers-app', main }));
  return appRoot;
}

async function startHost(workerCount: string | undefined): Promise<HostProcess> {
  const host = await startHostProcess({
    appRoot: createAppRoot(),
    dataDir: createFolder('workers-data-'),
    env: { LOCAL_FUNCTION_KEY: undefined, FUNCTIONS_WORKER_PROCESS_COUNT: workerCount },
  });
  startedHosts.push(host);
  return host;
}

async function askThread(host: HostProcess, waitInMilliseconds = 0): Promise<ThreadAnswer> {
  const response = await fetch(`${host.baseUrl}/api/thread?ms=${waitInMilliseconds}`);
  expect(response.status).toBe(200);
  return (await response.json()) as ThreadAnswer;
}

afterEach(() => {
  startedHosts.splice(0).forEach((host) => host.kill());
});

afterAll(() => {
  createdFolders.splice(0).forEach((folder) => fs.rmSync(folder, { recursive: true, force: true }));
});

describe('without FUNCTIONS_WORKER_PROCESS_COUNT', () => {
  it('functions run on the host thread', async () => {
    const host = await startHost(undefined);

    const answer = await askThread(host);

    expect(answer.isMainThread).toBe(true);
  });

  it('start log says where functions run', async () => {
    const host = await startHost(undefined);

    expect(host.logEntries().some((entry) => entry.msg === 'functions run on the host thread')).toBe(true);
  });
});

describe('with FUNCTIONS_WORKER_PROCESS_COUNT', () => {
  it('functions run on a worker thread', async () => {
    const host = await startHost('1');

    const answer = await askThread(host);

    expect(answer.isMainThread).toBe(false);
  });

  it('start log names the worker count', async () => {
    const host = await startHost('2');

    const started = host.logEntries().find((entry) => entry.msg === 'function workers started');

    expect(started?.workerCount).toBe(2);
  });

  it('concurrent invocations use both workers', async () => {
    const host = await startHost('2');

    const answers = await Promise.all([askThread(host, 300), askThread(host, 300)]);

    expect(new Set(answers.map((answer) => answer.threadId)).size).toBe(2);
  });

  it('worker context.log reaches host log', async () => {
    const host = await startHost('1');

    const answer = await askThread(host);

    const line = host.logEntries().find((entry) => entry.msg === `thread function ran on thread ${answer.threadId}`);
    expect(line).toMatchObject({ functionName: 'thread', invocationId: expect.any(String) });
  });

  it('worker exit answers 500', async () => {
    const host = await startHost('1');

    const response = await fetch(`${host.baseUrl}/api/exit-thread`, { method: 'POST' });

    expect(response.status).toBe(500);
  });

  it('exited worker is replaced', async () => {
    const host = await startHost('1');
    const before = await askThread(host);
    await fetch(`${host.baseUrl}/api/exit-thread`, { method: 'POST' });

    const after = await askThread(host);

    expect(after.threadId).not.toBe(before.threadId);
  });

  it('worker exit logs exit code', async () => {
    const host = await startHost('1');

    await fetch(`${host.baseUrl}/api/exit-thread`, { method: 'POST' });

    const line = host.logEntries().find((entry) => entry.msg === 'function worker stopped unexpectedly; starting a new one');
    expect(line?.exitCode).toBe(7);
  });

  it('stop with workers exits 0', async () => {
    const host = await startHost('2');
    await askThread(host);

    const result = await host.stop();

    expect(result.code).toBe(0);
  });
});

describe('invalid FUNCTIONS_WORKER_PROCESS_COUNT', () => {
  it.each(['0', 'two', '11', '1.5', '-1'])('worker count %s stops start', async (value) => {
    const result = await runHostUntilExit({ appRoot: createAppRoot(), dataDir: createFolder('workers-data-'), env: { FUNCTIONS_WORKER_PROCESS_COUNT: value } });

    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`FUNCTIONS_WORKER_PROCESS_COUNT must be a whole number from 1 to 10, but it is "${value}"`);
    expect(result.stderr).toContain('or leave it unset to run functions on the host thread');
  });

  /** Creates an app whose main file runs `guard` and then loads the fixture app. */
  function createGuardedAppRoot(mainFileName: string, guard: string): string {
    const appRoot = createAppRoot();
    fs.writeFileSync(path.join(appRoot, mainFileName), `${guard}\nrequire(${JSON.stringify(fixtureMain)});\n`);
    fs.writeFileSync(path.join(appRoot, 'package.json'), JSON.stringify({ main: mainFileName }));
    return appRoot;
  }

  it('app failing in worker stops start', async () => {
    const appRoot = createGuardedAppRoot('workerFails.js', `if (!require('node:worker_threads').isMainThread) { throw new Error('fixture app refuses worker threads'); }`);

    const result = await runHostUntilExit({ appRoot, dataDir: createFolder('workers-data-'), env: { FUNCTIONS_WORKER_PROCESS_COUNT: '1' } });

    expect(result.code).toBe(1);
    expect(result.stderr).toContain('Function worker 1 could not load the app: fixture app refuses worker threads');
  });

  it('worker failing at start is not replaced', async () => {
    const appRoot = createGuardedAppRoot('secondWorkerFails.js', `if (require('node:worker_threads').workerData?.workerNumber === 2) { throw new Error('fixture app refuses worker 2'); }`);

    const result = await runHostUntilExit({ appRoot, dataDir: createFolder('workers-data-'), env: { FUNCTIONS_WORKER_PROCESS_COUNT: '2' } });

    expect(result.code).toBe(1);
    expect(result.stderr).toContain('Function worker 2 could not load the app: fixture app refuses worker 2');
    expect(result.stdout).not.toContain('function worker stopped unexpectedly');
  });
});
