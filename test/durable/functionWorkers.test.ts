import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { startInProcessEngine, type InProcessEngine } from '../helpers/inProcessEngine';

/** The durable engine with its functions on worker threads, as with FUNCTIONS_WORKER_PROCESS_COUNT. */

const appRoot = path.join(__dirname, '..', 'fixtures', 'durableApp');
let harness: InProcessEngine;
let markerFolder: string;

beforeAll(async () => {
  markerFolder = fs.mkdtempSync(path.join(os.tmpdir(), 'worker-markers-'));
  harness = await startInProcessEngine(appRoot, { functionWorkerCount: 2 });
});

afterAll(async () => {
  await harness.close();
  fs.rmSync(markerFolder, { recursive: true, force: true });
  fs.rmSync(harness.dataDir, { recursive: true, force: true });
});

async function run(name: string, input: unknown) {
  const started = await harness.engine.startOrchestration(name, undefined, input);
  const status = await harness.engine.waitForCompletion(started.instanceId, 20_000);
  return status!;
}

describe('durable functions on worker threads', () => {
  test('orchestration with activities and entity', async () => {
    const status = await run('threadOfEachStep', [1, 2, 3]);

    expect(status.output).toEqual([2, 4, 6, 5]);
  });

  test('fan-out of 200 completes', async () => {
    const status = await run('fanOutFanIn', 200);

    expect(status.output).toBe(199 * 200);
  });

  test('activity runs again after worker exit', async () => {
    const status = await run('callExitThreadOnce', path.join(markerFolder, 'exit-once'));

    expect(status.output).toBe('ran again');
  });

  test('activity exiting every worker fails', async () => {
    const status = await run('callExitThreadAlways', null);

    expect(status.runtimeStatus).toBe('Failed');
    expect(JSON.stringify(status.output)).toContain('stopped with exit code 4 while it ran');
  });

  test('worker replacements are logged', () => {
    const replaced = harness.logLines.filter((line) => line.message === 'function worker stopped unexpectedly; starting a new one');

    expect(replaced.length).toBeGreaterThanOrEqual(3);
  });
});
