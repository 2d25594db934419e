import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { repoRoot, startHostProcess, type HostProcess } from '../helpers/hostProcess';

/**
 * The Durable Functions management API and the durableClient binding, against the real durable
 * engine in a host child process.
 */

const appRoot = path.join(repoRoot, 'test', 'fixtures', 'managementApp');
const hostKey = 'management-test-key';
const taskHubName = 'ManagementFixtureHub';

interface StatusPayload {
  name: string;
  instanceId: string;
  runtimeStatus: string;
  input: unknown;
  output: unknown;
  customStatus: unknown;
  createdTime: string;
  lastUpdatedTime: string;
  historyEvents?: unknown[];
  history?: unknown[];
}

function uniqueId(prefix: string): string {
  return `${prefix}-${randomUUID().slice(0, 8)}`;
}

describe('Durable Functions management API', () => {
  let host: HostProcess;
  let dataDir: string;

  function managementUrl(pathAndQuery: string): string {
    return `${host.baseUrl}/runtime/webhooks/durabletask/${pathAndQuery}`;
  }

  function management(pathAndQuery: string, init: RequestInit = {}): Promise<Response> {
    return fetch(managementUrl(pathAndQuery), { ...init, headers: { 'x-functions-key': hostKey, ...init.headers } });
  }

  function start(orchestratorName: string, instanceId: string, input?: unknown): Promise<Response> {
    return management(`orchestrators/${orchestratorName}/${instanceId}`, {
      method: 'POST',
      body: input === undefined ? undefined : JSON.stringify(input),
      headers: { 'content-type': 'application/json' },
    });
  }

  /** Polls the status until it is one of `runtimeStatuses`, at most 100 times 50 ms apart. */
  async function waitForStatus(instanceId: string, runtimeStatuses: string[]): Promise<StatusPayload> {
    let last: StatusPayload | undefined;
    for (let attempt = 0; attempt < 100; attempt += 1) {
      const response = await management(`instances/${instanceId}`);
      if (response.status !== 404) {
        last = (await response.json()) as StatusPayload;
        if (runtimeStatuses.includes(last.runtimeStatus)) {
          return last;
        }
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    throw new Error(`Instance ${instanceId} did not reach ${runtimeStatuses.join(' or ')} within 5 seconds. Last status: ${JSON.stringify(last)}.`);
  }

  /** Calls the fixture's clientOperation function, which runs one durable client method. */
  async function clientOperation(operation: string, instanceId: string | undefined, body: unknown = {}): Promise<Response> {
    const suffix = instanceId === undefined ? '' : `/${instanceId}`;
    return fetch(`${host.baseUrl}/api/client/${operation}${suffix}`, { method: 'POST', body: JSON.stringify(body) });
  }

  beforeAll(async () => {
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'host-management-'));
    host = await startHostProcess({ appRoot, dataDir, env: { LOCAL_FUNCTION_KEY: hostKey } });
  });

  afterAll(() => {
    host?.kill();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  describe('durable client in HTTP functions', () => {
    it('createCheckStatusResponse links to this host', async () => {
      const response = await fetch(`${host.baseUrl}/api/start/helloSequence`, { method: 'POST', body: JSON.stringify(['A', 'B']) });
      const payload = (await response.json()) as Record<string, string>;
      expect(response.status).toBe(202);
      expect(response.headers.get('location')).toBe(payload.statusQueryGetUri);
      expect(payload.statusQueryGetUri.startsWith(`${host.baseUrl}/runtime/webhooks/durabletask/instances/${payload.id}?`)).toBe(true);
      expect(payload.statusQueryGetUri).toContain(`code=${hostKey}`);
    });

    it('statusQueryGetUri reports the output', async () => {
      const started = (await (await fetch(`${host.baseUrl}/api/start/helloSequence`, { method: 'POST', body: JSON.stringify(['A', 'B']) })).json()) as Record<string, string>;
      const status = await waitForStatus(started.id, ['Completed']);
      const response = await fetch(started.statusQueryGetUri);
      expect(response.status).toBe(200);
      expect(status.output).toEqual(['Hello A', 'Hello B']);
    });

    it('getStatus returns input, output and history', async () => {
      const instanceId = uniqueId('client-status');
      await fetch(`${host.baseUrl}/api/start/helloSequence/${instanceId}`, { method: 'POST', body: JSON.stringify(['C']) });
      await waitForStatus(instanceId, ['Completed']);

      const status = (await (await clientOperation('getStatus', instanceId, { showHistory: true, showHistoryOutput: true })).json()) as StatusPayload;

      expect(status.runtimeStatus).toBe('Completed');
      expect(status.input).toEqual(['C']);
      expect(status.output).toEqual(['Hello C']);
      expect(status.history?.length).toBeGreaterThan(0);
    });

    it('raiseEvent completes a waiting orchestration', async () => {
      const instanceId = uniqueId('client-event');
      await fetch(`${host.baseUrl}/api/start/waitForApproval/${instanceId}`, { method: 'POST', body: JSON.stringify({ order: 7 }) });
      await waitForStatus(instanceId, ['Running']);

      const raised = await clientOperation('raiseEvent', instanceId, { eventName: 'approval', eventData: { approvedBy: 'ops' } });
      const status = await waitForStatus(instanceId, ['Completed']);

      expect(raised.status).toBe(200);
      expect(status.output).toEqual({ approval: { approvedBy: 'ops' }, input: { order: 7 } });
    });

    it('terminate, suspend and resume work', async () => {
      const instanceId = uniqueId('client-lifecycle');
      await fetch(`${host.baseUrl}/api/start/waitForApproval/${instanceId}`, { method: 'POST' });
      await waitForStatus(instanceId, ['Running']);

      expect((await clientOperation('suspend', instanceId)).status).toBe(200);
      expect((await waitForStatus(instanceId, ['Suspended'])).runtimeStatus).toBe('Suspended');
      expect((await clientOperation('resume', instanceId)).status).toBe(200);
      expect((await waitForStatus(instanceId, ['Running'])).runtimeStatus).toBe('Running');
      expect((await clientOperation('terminate', instanceId)).status).toBe(200);
      expect((await waitForStatus(instanceId, ['Terminated'])).runtimeStatus).toBe('Terminated');
    });

    it('purgeInstanceHistory deletes the instance', async () => {
      const instanceId = uniqueId('client-purge');
      await fetch(`${host.baseUrl}/api/start/helloSequence/${instanceId}`, { method: 'POST' });
      await waitForStatus(instanceId, ['Completed']);

      expect(await (await clientOperation('purge', instanceId)).json()).toEqual({ instancesDeleted: 1 });
      expect(await (await clientOperation('purge', instanceId)).json()).toEqual({ instancesDeleted: 0 });
    });

    it('signalEntity and readEntityState work', async () => {
      const key = uniqueId('counter');
      await clientOperation('signalEntity', undefined, { key, operation: 'add', input: 5 });
      await clientOperation('signalEntity', undefined, { key, operation: 'add', input: 2 });

      let state: { entityExists: boolean; entityState?: unknown } = { entityExists: false };
      for (let attempt = 0; attempt < 100 && state.entityState !== 7; attempt += 1) {
        state = (await (await clientOperation('readEntityState', undefined, { key })).json()) as typeof state;
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      expect(state).toEqual({ entityExists: true, entityState: 7 });
    });

    it('getStatusBy filters by runtime status', async () => {
      const instanceId = uniqueId('client-filter');
      await fetch(`${host.baseUrl}/api/start/helloSequence/${instanceId}`, { method: 'POST' });
      await waitForStatus(instanceId, ['Completed']);

      const statuses = (await (await clientOperation('getStatusBy', undefined, { runtimeStatus: ['Completed'] })).json()) as StatusPayload[];

      expect(statuses.map((status) => status.instanceId)).toContain(instanceId);
      expect(new Set(statuses.map((status) => status.runtimeStatus))).toEqual(new Set(['Completed']));
    });

    it('getStatusAll lists instances', async () => {
      const statuses = (await (await clientOperation('getStatusAll', undefined)).json()) as StatusPayload[];
      expect(statuses.length).toBeGreaterThan(0);
    });

    it('management payload uses this host', async () => {
      const payload = (await (await clientOperation('managementPayload', 'some-instance')).json()) as Record<string, string>;
      expect(payload.id).toBe('some-instance');
      expect(payload.terminatePostUri).toBe(`${host.baseUrl}/runtime/webhooks/durabletask/instances/some-instance/terminate?reason={text}&taskHub=${taskHubName}&connection=Storage&code=${hostKey}`);
    });

    it('waitForCompletionOrCreateCheckStatusResponse returns the output', async () => {
      const instanceId = uniqueId('client-wait');
      await fetch(`${host.baseUrl}/api/start/waitForApproval/${instanceId}`, { method: 'POST' });
      await waitForStatus(instanceId, ['Running']);
      const waiting = clientOperation('waitForCompletion', instanceId);

      await clientOperation('raiseEvent', instanceId, { eventName: 'approval', eventData: 'yes' });
      const response = await waiting;

      // startNew without input posts the JSON string "", which becomes the input, as in the extension.
      expect(response.status).toBe(200);
      expect(await response.json()).toEqual({ approval: 'yes', input: '' });
    });
  });

  describe('authorization', () => {
    it('request without key gives 401', async () => {
      const response = await fetch(managementUrl('instances/'));
      expect(response.status).toBe(401);
      expect(response.headers.get('content-type')).toBe('application/problem+json');
    });

    it('request with wrong code gives 401', async () => {
      expect((await fetch(managementUrl('instances/?code=wrong'))).status).toBe(401);
    });

    it('code parameter is accepted', async () => {
      expect((await fetch(managementUrl(`instances/?code=${hostKey}`))).status).toBe(200);
    });

    it('other task hub gives 400', async () => {
      expect((await management('instances/?taskHub=OtherHub')).status).toBe(400);
    });
  });

  describe('start', () => {
    it('start returns 202 with the payload', async () => {
      const instanceId = uniqueId('start');
      const response = await start('helloSequence', instanceId, ['D']);
      const payload = (await response.json()) as Record<string, string>;
      expect(response.status).toBe(202);
      expect(payload.id).toBe(instanceId);
      expect(response.headers.get('location')).toBe(payload.statusQueryGetUri);
      expect(response.headers.get('retry-after')).toBe('10');
      expect(Object.keys(payload).sort()).toEqual(
        ['id', 'purgeHistoryDeleteUri', 'restartPostUri', 'resumePostUri', 'sendEventPostUri', 'statusQueryGetUri', 'suspendPostUri', 'terminatePostUri'].sort(),
      );
    });

    it('start without instance id creates one', async () => {
      const response = await management('orchestrators/helloSequence', { method: 'POST' });
      const payload = (await response.json()) as { id: string };
      expect(response.status).toBe(202);
      expect(payload.id).toMatch(/^[0-9a-f]{32}$/);
    });

    it('running instance id gives 409', async () => {
      const instanceId = uniqueId('conflict');
      await start('waitForApproval', instanceId);
      await waitForStatus(instanceId, ['Running']);

      expect((await start('waitForApproval', instanceId)).status).toBe(409);
    });

    it('concurrent starts of one id create one instance', async () => {
      const instanceId = uniqueId('concurrent');
      const responses = await Promise.all(Array.from({ length: 10 }, () => start('waitForApproval', instanceId)));
      const statuses = responses.map((response) => response.status).sort();

      expect(statuses.filter((status) => status === 202)).toHaveLength(1);
      expect(statuses.filter((status) => status === 409)).toHaveLength(9);
    });

    it('completed instance id is started again', async () => {
      const instanceId = uniqueId('replace');
      await start('helloSequence', instanceId, ['E']);
      await waitForStatus(instanceId, ['Completed']);

      expect((await start('helloSequence', instanceId, ['F'])).status).toBe(202);
      expect((await waitForStatus(instanceId, ['Completed'])).output).toEqual(['Hello F']);
    });

    it('unknown orchestrator gives 400', async () => {
      const response = await start('noSuchOrchestrator', uniqueId('unknown'));
      expect(response.status).toBe(400);
      expect(((await response.json()) as { detail: string }).detail).toContain('noSuchOrchestrator');
    });

    it('invalid JSON input gives 400', async () => {
      const response = await management(`orchestrators/helloSequence/${uniqueId('json')}`, { method: 'POST', body: '{ not json' });
      expect(response.status).toBe(400);
    });

    it('entity-style instance id gives 400', async () => {
      expect((await start('helloSequence', '%40counter%40x')).status).toBe(400);
    });

    it('timeout and pollingInterval wait for the output', async () => {
      const response = await management(`orchestrators/helloSequence/${uniqueId('wait')}?timeout=5&pollingInterval=1`, {
        method: 'POST',
        body: JSON.stringify(['G']),
        headers: { 'content-type': 'application/json' },
      });
      expect(response.status).toBe(200);
      expect(await response.json()).toEqual(['Hello G']);
    });

    it('restart runs the same input under a new id', async () => {
      const instanceId = uniqueId('restart');
      await start('helloSequence', instanceId, ['H']);
      await waitForStatus(instanceId, ['Completed']);

      const response = await management(`instances/${instanceId}/restart`, { method: 'POST' });
      const payload = (await response.json()) as { id: string };

      expect(response.status).toBe(202);
      expect(payload.id).not.toBe(instanceId);
      expect((await waitForStatus(payload.id, ['Completed'])).output).toEqual(['Hello H']);
    });
  });

  describe('status', () => {
    it('running instance gives 202 with Location', async () => {
      const instanceId = uniqueId('running');
      await start('waitForApproval', instanceId, { order: 1 });
      await waitForStatus(instanceId, ['Running']);

      const response = await management(`instances/${instanceId}`);
      const status = (await response.json()) as StatusPayload;

      expect(response.status).toBe(202);
      expect(response.headers.get('location')).toBe(managementUrl(`instances/${instanceId}`));
      expect(response.headers.get('retry-after')).toBe('5');
      expect(status.customStatus).toBe('waiting for approval');
      expect(status).toHaveProperty('output', null);
      expect(status).toHaveProperty('input', { order: 1 });
    });

    it('completed instance gives 200', async () => {
      const instanceId = uniqueId('completed');
      await start('helloSequence', instanceId);
      await waitForStatus(instanceId, ['Completed']);

      expect((await management(`instances/${instanceId}`)).status).toBe(200);
    });

    it('failed instance gives 400', async () => {
      const instanceId = uniqueId('failed');
      await start('failing', instanceId, 'planned failure');
      await waitForStatus(instanceId, ['Failed']);

      expect((await management(`instances/${instanceId}`)).status).toBe(400);
      expect((await management(`instances/${instanceId}?returnInternalServerErrorOnFailure=true`)).status).toBe(500);
    });

    it('unknown instance gives 404', async () => {
      expect((await management('instances/no-such-instance')).status).toBe(404);
    });

    it('timestamps have whole seconds', async () => {
      const instanceId = uniqueId('timestamps');
      await start('helloSequence', instanceId);
      const status = await waitForStatus(instanceId, ['Completed']);

      expect(status.createdTime).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/);
      expect(status.lastUpdatedTime).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/);
    });

    it('showHistory adds historyEvents and history', async () => {
      const instanceId = uniqueId('history');
      await start('helloSequence', instanceId, ['I']);
      await waitForStatus(instanceId, ['Completed']);

      const status = (await (await management(`instances/${instanceId}?showHistory=true&showHistoryOutput=true`)).json()) as StatusPayload;

      expect(status.historyEvents?.length).toBeGreaterThan(0);
      expect(status.history).toEqual(status.historyEvents);
    });

    it('history has the documented event shape', async () => {
      const instanceId = uniqueId('history-shape');
      await start('helloSequence', instanceId, ['J']);
      await waitForStatus(instanceId, ['Completed']);

      const status = (await (await management(`instances/${instanceId}?showHistory=true&showHistoryOutput=true`)).json()) as StatusPayload;
      const events = (status.historyEvents ?? []) as Record<string, unknown>[];
      const completed = events.find((event) => event.EventType === 'TaskCompleted');
      const finished = events.find((event) => event.EventType === 'ExecutionCompleted');

      expect(events.map((event) => event.EventType)).not.toContain('TaskScheduled');
      expect(events.map((event) => event.EventType)).not.toContain('OrchestratorStarted');
      expect(completed?.FunctionName).toBeTypeOf('string');
      expect(completed?.ScheduledTime).toBeTypeOf('string');
      expect(finished?.OrchestrationStatus).toBe('Completed');
      expect(finished?.Result).toEqual(['Hello J']);
    });

    it('history is absent without showHistory', async () => {
      const instanceId = uniqueId('no-history');
      await start('helloSequence', instanceId);
      const status = await waitForStatus(instanceId, ['Completed']);

      expect(status).not.toHaveProperty('historyEvents');
    });

    it('showInput=false hides the input', async () => {
      const instanceId = uniqueId('hidden-input');
      await start('helloSequence', instanceId, ['J']);
      await waitForStatus(instanceId, ['Completed']);

      const status = (await (await management(`instances/${instanceId}?showInput=false`)).json()) as StatusPayload;

      expect(status).toHaveProperty('input', null);
    });

    it('invalid boolean parameter gives 400', async () => {
      expect((await management('instances/any?showHistory=yes')).status).toBe(400);
    });
  });

  describe('listing', () => {
    it('list with and without trailing slash', async () => {
      expect((await management('instances/')).status).toBe(200);
      expect((await management('instances')).status).toBe(200);
    });

    it('pages follow the continuation token', async () => {
      const prefix = uniqueId('page');
      const instanceIds = [`${prefix}-a`, `${prefix}-b`, `${prefix}-c`];
      for (const instanceId of instanceIds) {
        await start('helloSequence', instanceId);
      }

      const seen: string[] = [];
      const tokens: (string | null)[] = [];
      let token: string | null = null;
      for (let page = 0; page < 10; page += 1) {
        const response: Response = await management(`instances/?instanceIdPrefix=${prefix}&top=2`, { headers: token ? { 'x-ms-continuation-token': token } : {} });
        seen.push(...((await response.json()) as StatusPayload[]).map((status) => status.instanceId));
        token = response.headers.get('x-ms-continuation-token');
        tokens.push(token);
        if (!token) {
          break;
        }
      }

      expect(seen.sort()).toEqual(instanceIds);
      expect(tokens.length).toBe(2);
      expect(tokens[1]).toBeNull();
    });

    it('runtimeStatus takes a comma list', async () => {
      const running = uniqueId('list-running');
      const failed = uniqueId('list-failed');
      await start('waitForApproval', running);
      await start('failing', failed);
      await waitForStatus(running, ['Running']);
      await waitForStatus(failed, ['Failed']);

      const statuses = (await (await management('instances/?runtimeStatus=Running,Failed')).json()) as StatusPayload[];
      const instanceIds = statuses.map((status) => status.instanceId);

      expect(instanceIds).toEqual(expect.arrayContaining([running, failed]));
      expect(statuses.every((status) => status.runtimeStatus === 'Running' || status.runtimeStatus === 'Failed')).toBe(true);
    });

    it('createdTimeTo in the past lists nothing', async () => {
      const statuses = (await (await management('instances/?createdTimeTo=2000-01-01T00:00:00Z')).json()) as StatusPayload[];
      expect(statuses).toEqual([]);
    });

    it('invalid continuation token gives 400', async () => {
      const response = await management('instances/?top=1', { headers: { 'x-ms-continuation-token': 'not-a-token' } });
      expect(response.status).toBe(400);
    });

    it('unknown runtime status gives 400', async () => {
      const response = await management('instances/?runtimeStatus=Sleeping');
      expect(response.status).toBe(400);
      expect(((await response.json()) as { detail: string }).detail).toContain('Sleeping');
    });
  });

  describe('events and lifecycle', () => {
    it('raiseEvent returns 202 and delivers data', async () => {
      const instanceId = uniqueId('event');
      await start('waitForApproval', instanceId);
      await waitForStatus(instanceId, ['Running']);

      const response = await management(`instances/${instanceId}/raiseEvent/approval`, { method: 'POST', body: '"granted"', headers: { 'content-type': 'application/json' } });

      expect(response.status).toBe(202);
      expect((await waitForStatus(instanceId, ['Completed'])).output).toEqual({ approval: 'granted', input: null });
    });

    it('raiseEvent on unknown instance gives 404', async () => {
      const response = await management('instances/no-such-instance/raiseEvent/approval', { method: 'POST', body: '1', headers: { 'content-type': 'application/json' } });
      expect(response.status).toBe(404);
    });

    it('raiseEvent on completed instance gives 410', async () => {
      const instanceId = uniqueId('event-done');
      await start('helloSequence', instanceId);
      await waitForStatus(instanceId, ['Completed']);

      const response = await management(`instances/${instanceId}/raiseEvent/approval`, { method: 'POST', body: '1', headers: { 'content-type': 'application/json' } });

      expect(response.status).toBe(410);
    });

    it('raiseEvent with text content gives 400', async () => {
      const instanceId = uniqueId('event-text');
      await start('waitForApproval', instanceId);
      await waitForStatus(instanceId, ['Running']);

      const response = await management(`instances/${instanceId}/raiseEvent/approval`, { method: 'POST', body: 'granted', headers: { 'content-type': 'text/plain' } });

      expect(response.status).toBe(400);
    });

    it('terminate returns 202, then 410', async () => {
      const instanceId = uniqueId('terminate');
      await start('waitForApproval', instanceId);
      await waitForStatus(instanceId, ['Running']);

      expect((await management(`instances/${instanceId}/terminate?reason=test`, { method: 'POST' })).status).toBe(202);
      expect((await waitForStatus(instanceId, ['Terminated'])).runtimeStatus).toBe('Terminated');
      expect((await management(`instances/${instanceId}`)).status).toBe(400);
      expect((await management(`instances/${instanceId}/terminate?reason=again`, { method: 'POST' })).status).toBe(410);
    });

    it('terminate on unknown instance gives 404', async () => {
      expect((await management('instances/no-such-instance/terminate?reason=x', { method: 'POST' })).status).toBe(404);
    });

    it('suspend and resume change the status', async () => {
      const instanceId = uniqueId('suspend');
      await start('waitForApproval', instanceId);
      await waitForStatus(instanceId, ['Running']);

      expect((await management(`instances/${instanceId}/suspend?reason=pause`, { method: 'POST' })).status).toBe(202);
      expect((await waitForStatus(instanceId, ['Suspended'])).runtimeStatus).toBe('Suspended');
      expect((await management(`instances/${instanceId}/resume?reason=go`, { method: 'POST' })).status).toBe(202);
      expect((await waitForStatus(instanceId, ['Running'])).runtimeStatus).toBe('Running');
    });

    it('rewind of a failed instance gives 202', async () => {
      const instanceId = uniqueId('rewind');
      await start('failing', instanceId);
      await waitForStatus(instanceId, ['Failed']);

      expect((await management(`instances/${instanceId}/rewind?reason=retry`, { method: 'POST' })).status).toBe(202);
    });

    it('rewind of a running instance gives 412', async () => {
      const instanceId = uniqueId('rewind-running');
      await start('waitForApproval', instanceId);
      await waitForStatus(instanceId, ['Running']);

      expect((await management(`instances/${instanceId}/rewind?reason=retry`, { method: 'POST' })).status).toBe(412);
    });

    it('unknown operation gives 404', async () => {
      expect((await management('instances/any/explode', { method: 'POST' })).status).toBe(404);
    });

    it('wrong method gives 405', async () => {
      const response = await management('instances/any/terminate');
      expect(response.status).toBe(405);
      expect(response.headers.get('allow')).toBe('POST');
    });
  });

  describe('purge', () => {
    it('purge of a running instance gives 412', async () => {
      const instanceId = uniqueId('purge-running');
      await start('waitForApproval', instanceId);
      await waitForStatus(instanceId, ['Running']);

      expect((await management(`instances/${instanceId}`, { method: 'DELETE' })).status).toBe(412);
    });

    it('purge deletes a completed instance once', async () => {
      const instanceId = uniqueId('purge');
      await start('helloSequence', instanceId);
      await waitForStatus(instanceId, ['Completed']);

      const first = await management(`instances/${instanceId}`, { method: 'DELETE' });
      const second = await management(`instances/${instanceId}`, { method: 'DELETE' });

      expect(first.status).toBe(200);
      expect(await first.json()).toEqual({ instancesDeleted: 1 });
      expect(second.status).toBe(404);
    });

    it('purge by filter needs createdTimeFrom', async () => {
      expect((await management('instances/?runtimeStatus=Completed', { method: 'DELETE' })).status).toBe(400);
    });

    it('purge by filter deletes matching instances', async () => {
      const instanceId = uniqueId('purge-filter');
      await start('failing', instanceId);
      await waitForStatus(instanceId, ['Failed']);
      const createdTimeFrom = new Date(Date.now() - 60_000).toISOString();

      const response = await management(`instances/?createdTimeFrom=${createdTimeFrom}&runtimeStatus=Failed`, { method: 'DELETE' });
      const result = (await response.json()) as { instancesDeleted: number };

      expect(response.status).toBe(200);
      expect(result.instancesDeleted).toBeGreaterThanOrEqual(1);
      expect((await management(`instances/${instanceId}`)).status).toBe(404);
    });

    it('purge by filter without matches gives 404', async () => {
      const response = await management('instances/?createdTimeFrom=2000-01-01T00:00:00Z&createdTimeTo=2000-01-02T00:00:00Z', { method: 'DELETE' });
      expect(response.status).toBe(404);
    });
  });

  describe('entities', () => {
    it('signal returns 202, read returns state', async () => {
      const key = uniqueId('entity');
      const signal = await management(`entities/counter/${key}?op=add`, { method: 'POST', body: '4', headers: { 'content-type': 'application/json' } });

      let response = await management(`entities/counter/${key}`);
      for (let attempt = 0; attempt < 100 && response.status !== 200; attempt += 1) {
        await new Promise((resolve) => setTimeout(resolve, 50));
        response = await management(`entities/counter/${key}`);
      }

      expect(signal.status).toBe(202);
      expect(response.status).toBe(200);
      expect(await response.json()).toBe(4);
    });

    it('entity listing pages with continuation token', async () => {
      const keys = [uniqueId('listed-a'), uniqueId('listed-b'), uniqueId('listed-c')];
      for (const key of keys) {
        await management(`entities/counter/${key}?op=add`, { method: 'POST', body: '1', headers: { 'content-type': 'application/json' } });
      }
      const listedKeys = async (): Promise<string[]> => {
        const found: string[] = [];
        let token: string | null = null;
        for (let page = 0; page < 50; page++) {
          const response: Response = await management('entities/counter?top=2&fetchState=true', token ? { headers: { 'x-ms-continuation-token': token } } : {});
          const entities = (await response.json()) as { entityId: { key: string }; state: number }[];
          found.push(...entities.map((entity) => entity.entityId.key));
          token = response.headers.get('x-ms-continuation-token');
          if (!token) {
            break;
          }
        }
        return found;
      };
      let found = await listedKeys();
      for (let attempt = 0; attempt < 100 && !keys.every((key) => found.includes(key)); attempt++) {
        await new Promise((resolve) => setTimeout(resolve, 50));
        found = await listedKeys();
      }

      expect(keys.every((key) => found.includes(key))).toBe(true);
      expect(new Set(found).size).toBe(found.length);
    });

    it('entity listing without a name lists every entity', async () => {
      const key = uniqueId('listed-all');
      await management(`entities/counter/${key}?op=add`, { method: 'POST', body: '1', headers: { 'content-type': 'application/json' } });
      let keys: string[] = [];
      for (let attempt = 0; attempt < 100 && !keys.includes(key); attempt++) {
        const response = await management('entities');
        keys = ((await response.json()) as { entityId: { key: string } }[]).map((entity) => entity.entityId.key);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }

      expect(keys).toContain(key);
    });

    it('unknown entity key gives 404', async () => {
      expect((await management(`entities/counter/${uniqueId('missing')}`)).status).toBe(404);
    });

    it('unknown entity name gives 400 on signal', async () => {
      expect((await management('entities/noSuchEntity/key?op=add', { method: 'POST' })).status).toBe(400);
    });
  });
});

describe('host with durable functions', () => {
  const createdFolders: string[] = [];
  const startedHosts: HostProcess[] = [];

  async function startHost(dataDir: string, env: Record<string, string | undefined> = {}): Promise<HostProcess> {
    const host = await startHostProcess({ appRoot, dataDir, env: { LOCAL_FUNCTION_KEY: hostKey, ...env } });
    startedHosts.push(host);
    return host;
  }

  function createDataDir(): string {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'host-durable-'));
    createdFolders.push(dataDir);
    return dataDir;
  }

  afterAll(() => {
    startedHosts.forEach((host) => host.kill());
    createdFolders.forEach((folder) => fs.rmSync(folder, { recursive: true, force: true }));
  });

  it('running instance survives a restart', async () => {
    const dataDir = createDataDir();
    const instanceId = uniqueId('restart-host');
    const first = await startHost(dataDir);
    await fetch(`${first.baseUrl}/runtime/webhooks/durabletask/orchestrators/waitForApproval/${instanceId}?code=${hostKey}`, { method: 'POST' });
    expect((await first.stop()).code).toBe(0);

    const second = await startHost(dataDir);
    const statusUrl = `${second.baseUrl}/runtime/webhooks/durabletask/instances/${instanceId}?code=${hostKey}`;
    const before = (await (await fetch(statusUrl)).json()) as StatusPayload;
    await fetch(`${second.baseUrl}/api/client/raiseEvent/${instanceId}`, { method: 'POST', body: JSON.stringify({ eventName: 'approval', eventData: 'after restart' }) });

    let after = before;
    for (let attempt = 0; attempt < 100 && after.runtimeStatus !== 'Completed'; attempt += 1) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      after = (await (await fetch(statusUrl)).json()) as StatusPayload;
    }
    expect(['Pending', 'Running']).toContain(before.runtimeStatus);
    expect(after.output).toEqual({ approval: 'after restart', input: null });
  });

  it('durable client bypasses HTTP_PROXY', async () => {
    // The proxy address is the discard port, where no proxy listens, so a proxied call fails.
    const host = await startHost(createDataDir(), { HTTP_PROXY: 'http://127.0.0.1:9', http_proxy: 'http://127.0.0.1:9', NO_PROXY: undefined, no_proxy: undefined });

    const response = await fetch(`${host.baseUrl}/api/start/helloSequence`, { method: 'POST', body: JSON.stringify(['K']) });

    expect(response.status).toBe(202);
  });

  it('host with the engine stops with exit code 0', async () => {
    const host = await startHost(createDataDir());

    expect(await host.stop()).toEqual({ code: 0, signal: null });
    expect(host.logEntries().map((entry) => entry.msg)).toEqual(expect.arrayContaining(['durable engine started', 'host stopped']));
  });
});
