import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { repoRoot, startHostProcess, type HostProcess } from '../helpers/hostProcess';
import { readRecords, waitForRecords, type FixtureRecord } from '../helpers/recordFile';

const appRoot = path.join(repoRoot, 'test', 'fixtures', 'triggersApp');
const hostKey = 'admin-test-key';
/** A schedule whose next occurrence is months away, so that only admin requests run the timer. */
const yearly = '0 0 0 1 1 *';

interface Problem {
  title: string;
  status: number;
  detail: string;
}

interface AdminHost {
  host: HostProcess;
  folder: string;
  recordFile: string;
}

async function startAdminHost(env: Record<string, string> = {}): Promise<AdminHost> {
  const folder = fs.mkdtempSync(path.join(os.tmpdir(), 'host-admin-'));
  const recordFile = path.join(folder, 'records.jsonl');
  const host = await startHostProcess({
    appRoot,
    dataDir: path.join(folder, 'data'),
    env: { LOCAL_FUNCTION_KEY: hostKey, FIXTURE_RECORD_FILE: recordFile, FIXTURE_TIMER_SCHEDULE: yearly, ...env },
  });
  return { host, folder, recordFile };
}

function stopAdminHost(adminHost: AdminHost | undefined): void {
  adminHost?.host.kill();
  if (adminHost) {
    fs.rmSync(adminHost.folder, { recursive: true, force: true });
  }
}

function invoke(baseUrl: string, functionName: string, body: string | undefined, headers: Record<string, string> = { 'x-functions-key': hostKey }): Promise<Response> {
  return fetch(`${baseUrl}/admin/functions/${functionName}`, { method: 'POST', headers: { 'Content-Type': 'application/json', ...headers }, body });
}

async function problemOf(response: Response): Promise<Problem> {
  expect(response.headers.get('content-type')).toBe('application/problem+json');
  return (await response.json()) as Problem;
}

describe('admin invocation', () => {
  let admin: AdminHost;

  function recordsOf(functionName: string): FixtureRecord[] {
    return readRecords(admin.recordFile).filter((record) => record.functionName === functionName);
  }

  beforeAll(async () => {
    admin = await startAdminHost();
  });

  afterAll(() => stopAdminHost(admin));

  it('timer function runs its handler once', async () => {
    const response = await invoke(admin.host.baseUrl, 'recordTimer', '{}');

    expect(response.status).toBe(202);
    const runs = recordsOf('recordTimer');
    expect(runs).toHaveLength(1);
    expect(runs[0].timer?.isPastDue).toBe(false);
    expect(runs[0].timer?.scheduleStatus.next).toMatch(/-01-01T00:00:00\.000Z$/);
  });

  it('Event Grid function receives the input as its event', async () => {
    const event = { id: 'admin-event-1', subject: 'orders/1', eventType: 'Example.Created', eventTime: '2026-12-04T12:00:00Z', data: { orderId: '1' }, dataVersion: '1.0' };

    const response = await invoke(admin.host.baseUrl, 'recordEventA', JSON.stringify({ input: JSON.stringify(event) }));

    expect(response.status).toBe(202);
    expect(recordsOf('recordEventA').find((record) => record.event?.id === 'admin-event-1')?.event).toEqual(event);
    expect(recordsOf('recordEventB').filter((record) => record.event?.id === 'admin-event-1')).toEqual([]);
  });

  it('function name is case-insensitive', async () => {
    const event = { id: 'admin-event-2', eventType: 'Example.Created' };

    const response = await invoke(admin.host.baseUrl, 'RECORDEVENTA', JSON.stringify({ input: JSON.stringify(event) }));

    expect(response.status).toBe(202);
  });

  it('code query parameter is accepted', async () => {
    const response = await fetch(`${admin.host.baseUrl}/admin/functions/recordTimer?code=${hostKey}`, { method: 'POST', body: '{}' });

    expect(response.status).toBe(202);
  });

  it('empty body runs the timer function', async () => {
    expect((await invoke(admin.host.baseUrl, 'recordTimer', undefined)).status).toBe(202);
  });

  it('failing function gets 500 naming it', async () => {
    const event = { id: 'admin-event-fail', eventType: 'Fixture.Fail' };

    const response = await invoke(admin.host.baseUrl, 'rejectFailingEvent', JSON.stringify({ input: JSON.stringify(event) }));

    expect(response.status).toBe(500);
    expect((await problemOf(response)).detail).toContain('Function "rejectFailingEvent" failed in invocation');
  });

  it('unknown function gets 404', async () => {
    const response = await invoke(admin.host.baseUrl, 'noSuchFunction', '{}');

    expect(response.status).toBe(404);
    expect((await problemOf(response)).detail).toContain('no function named "noSuchFunction"');
  });

  it('missing key gets 401', async () => {
    const runsBefore = recordsOf('recordTimer').length;

    const response = await invoke(admin.host.baseUrl, 'recordTimer', '{}', {});

    expect(response.status).toBe(401);
    expect(recordsOf('recordTimer')).toHaveLength(runsBefore);
  });

  it('wrong key gets 401', async () => {
    expect((await invoke(admin.host.baseUrl, 'recordTimer', '{}', { 'x-functions-key': 'wrong' })).status).toBe(401);
  });

  it('invalid JSON gets 400', async () => {
    const response = await invoke(admin.host.baseUrl, 'recordTimer', '{"input": ');

    expect(response.status).toBe(400);
    expect((await problemOf(response)).detail).toContain('The body is not valid JSON');
  });

  it('body that is not an object gets 400', async () => {
    const response = await invoke(admin.host.baseUrl, 'recordTimer', '"run"');

    expect(response.status).toBe(400);
    expect((await problemOf(response)).detail).toContain('it must be a JSON object');
  });

  it('input that is not a string gets 400', async () => {
    const response = await invoke(admin.host.baseUrl, 'recordEventA', JSON.stringify({ input: { id: '1' } }));

    expect(response.status).toBe(400);
    expect((await problemOf(response)).detail).toContain('"input" must be a string');
  });

  it('Event Grid input that is not a JSON object gets 400', async () => {
    const response = await invoke(admin.host.baseUrl, 'recordEventA', JSON.stringify({ input: 'not json' }));

    expect(response.status).toBe(400);
    expect((await problemOf(response)).detail).toContain('"input" must be one event as JSON object text');
  });

  it('HTTP function gets 400', async () => {
    const response = await invoke(admin.host.baseUrl, 'ping', '{}');

    expect(response.status).toBe(400);
    expect((await problemOf(response)).detail).toContain('Send a request to its route instead.');
  });

  it('GET gets 405', async () => {
    const response = await fetch(`${admin.host.baseUrl}/admin/functions/recordTimer`, { headers: { 'x-functions-key': hostKey } });

    expect(response.status).toBe(405);
    expect(response.headers.get('allow')).toBe('POST');
  });
});

describe('admin invocation of a running timer', () => {
  let admin: AdminHost | undefined;

  afterAll(() => stopAdminHost(admin));

  it('second request gets 409 while the first runs', async () => {
    admin = await startAdminHost({ FIXTURE_TIMER_SLEEP_MS: '1000' });
    const { host, recordFile } = admin;
    const first = invoke(host.baseUrl, 'recordTimer', '{}');
    await waitForRecords(recordFile, (records) => records.some((record) => record.phase === 'started'), 2000);

    const second = await invoke(host.baseUrl, 'recordTimer', '{}');

    expect(second.status).toBe(409);
    expect((await problemOf(second)).detail).toContain('a timer function runs once at a time');
    expect((await first).status).toBe(202);
  });
});
