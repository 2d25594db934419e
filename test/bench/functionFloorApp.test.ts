import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { repoRoot, startFunctionHost, type ConnectorHost } from '../../bench/connectorHost';

const appRoot = path.join(repoRoot, 'bench', 'fixtures', 'httpFunctionApp');

describe('bench HTTP function app on the local host', () => {
  let host: ConnectorHost;
  let dataFolder: string;

  beforeAll(async () => {
    dataFolder = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-function-floor-test-'));
    host = await startFunctionHost(appRoot, dataFolder, { functionWorkerCount: 1 });
  });

  afterAll(async () => {
    await host?.stop();
    fs.rmSync(dataFolder, { recursive: true, force: true });
  });

  it('POST of a body gets 202', async () => {
    const response = await fetch(`${host.baseUrl}/api/accept`, { method: 'POST', body: Buffer.alloc(1_024, 'a'), headers: { 'content-type': 'application/json' } });

    expect(response.status).toBe(202);
    expect(await response.text()).toBe('');
  });

  it('GET is not routed to the function', async () => {
    const response = await fetch(`${host.baseUrl}/api/accept`);

    expect(response.status).not.toBe(202);
  });

  it('host stops with exit code 0', async () => {
    const exit = await host.stop();

    expect(exit).toEqual({ code: 0, signal: null });
  });
});
