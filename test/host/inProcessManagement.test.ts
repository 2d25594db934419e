import { randomUUID } from 'node:crypto';
import diagnosticsChannel from 'node:diagnostics_channel';
import fs from 'node:fs';
import type { ClientRequest, IncomingMessage } from 'node:http';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import type { AxiosInstance, AxiosResponse, AxiosStatic } from 'axios';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { RunningHost } from '../../local/host';
import { requireFoundAxios } from '../helpers/durableClientAxios';
import { repoRoot } from '../helpers/hostProcess';

/**
 * Durable client calls of functions on a host that runs in this process: they are served in
 * process, with the responses that the same requests get over HTTP. Node's `http.server.request.start`
 * and `http.client.request.start` diagnostics channels show every HTTP request in this process,
 * so a call that went over the loopback would appear there.
 */

// The host comes from dist/ through Node's require, because it loads the durable engine with require.
const requireFromDist = createRequire(path.join(repoRoot, 'dist', 'local', 'host.js'));
const { startHost } = requireFromDist('./host') as typeof import('../../local/host');
const { createHostLogger } = requireFromDist('./logger') as typeof import('../../local/logger');
const { loadDurableClientAxios } = requireFromDist('./management/inProcessClientAdapter') as typeof import('../../local/management/inProcessClientAdapter');

const appRoot = path.join(repoRoot, 'test', 'fixtures', 'managementApp');
const managementPath = '/runtime/webhooks/durabletask';

const hostKey = 'in-process-test-key';
const maxRequestBodyBytes = 4096;

interface StatusPayload {
  instanceId: string;
  runtimeStatus: string;
  output: unknown;
}

interface ExchangeCase {
  name: string;
  method: 'get' | 'post' | 'put';
  /** Path and query after the management base path. `{id}` is replaced by an instance id. */
  pathAndQuery: string;
  /** Request data. axios sends a Buffer as it is, but encodes a string that is not valid JSON as a JSON string. */
  body?: string | Buffer;
  /** Starts a new instance, so the two paths use two ids and the HTTP response is compared with its id replaced. */
  startsInstance?: boolean;
}

function uniqueId(prefix: string): string {
  return `${prefix}-${randomUUID().slice(0, 8)}`;
}

/** Headers of a response without those that Node's HTTP server adds to every response. */
function endToEndHeaders(response: AxiosResponse): Record<string, unknown> {
  const headers = { ...(response.headers as { toJSON(): Record<string, unknown> }).toJSON() };
  delete headers.date;
  delete headers['keep-alive'];
  if (headers.connection === 'keep-alive') {
    delete headers.connection;
  }
  return headers;
}

describe('durable client served in process', () => {
  let host: RunningHost;
  let dataDir: string;
  let axios: AxiosStatic;
  let adapterBeforeStart: unknown;
  const savedEnvironment: Record<string, string | undefined> = {};
  const logLines: string[] = [];
  const httpRequestPaths: string[] = [];

  const onServerRequest = (message: unknown) => httpRequestPaths.push((message as { request: IncomingMessage }).request.url ?? '');
  const onClientRequest = (message: unknown) => httpRequestPaths.push((message as { request: ClientRequest }).request.path);

  /** Paths of the management API requests that went over HTTP in this process since the last reset. */
  function managementRequestsOverHttp(): string[] {
    return httpRequestPaths.filter((requestPath) => requestPath.startsWith(managementPath));
  }

  function clientOperation(operation: string, instanceId: string | undefined, body: unknown = {}): Promise<Response> {
    const suffix = instanceId === undefined ? '' : `/${instanceId}`;
    return fetch(`${host.baseUrl}/api/client/${operation}${suffix}`, { method: 'POST', body: JSON.stringify(body) });
  }

  /** Polls the status through the function's `getStatus` until it is one of `runtimeStatuses`, at most 100 times 50 ms apart. */
  async function waitForStatus(instanceId: string, runtimeStatuses: string[]): Promise<StatusPayload> {
    let last: StatusPayload | undefined;
    for (let attempt = 0; attempt < 100; attempt += 1) {
      const response = await clientOperation('getStatus', instanceId);
      if (response.status === 200) {
        last = (await response.json()) as StatusPayload;
        if (runtimeStatuses.includes(last.runtimeStatus)) {
          return last;
        }
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    throw new Error(`Instance ${instanceId} did not reach ${runtimeStatuses.join(' or ')} within 5 seconds. Last status: ${JSON.stringify(last)}.`);
  }

  beforeAll(async () => {
    for (const name of ['LOCAL_FUNCTION_KEY', 'HOST_MAX_REQUEST_BODY_BYTES']) {
      savedEnvironment[name] = process.env[name];
    }
    process.env.LOCAL_FUNCTION_KEY = hostKey;
    process.env.HOST_MAX_REQUEST_BODY_BYTES = String(maxRequestBodyBytes);
    axios = requireFoundAxios(loadDurableClientAxios(path.join(appRoot, 'app.js')));
    adapterBeforeStart = axios.defaults.adapter;

    diagnosticsChannel.subscribe('http.server.request.start', onServerRequest);
    diagnosticsChannel.subscribe('http.client.request.start', onClientRequest);
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'host-in-process-'));
    const logger = createHostLogger('info', { write: (line: string) => logLines.push(line) });
    host = await startHost({ appRoot, port: 0, dataDir, logger });
  });

  beforeEach(() => {
    httpRequestPaths.splice(0);
  });

  afterAll(async () => {
    await host?.stop();
    diagnosticsChannel.unsubscribe('http.server.request.start', onServerRequest);
    diagnosticsChannel.unsubscribe('http.client.request.start', onClientRequest);
    for (const [name, value] of Object.entries(savedEnvironment)) {
      if (value === undefined) {
        delete process.env[name];
      } else {
        process.env[name] = value;
      }
    }
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  describe('client calls from functions', () => {
    it('host logs that it serves them in process', () => {
      const entry = logLines.map((line) => JSON.parse(line) as { msg: string; origin?: string }).find((line) => line.msg === 'durable client calls to the management API are served in process');

      expect(entry?.origin).toBe(host.baseUrl);
    });

    it('startNew and getStatus', async () => {
      const instanceId = uniqueId('in-process-start');

      const started = await fetch(`${host.baseUrl}/api/start/helloSequence/${instanceId}`, { method: 'POST', body: JSON.stringify(['Lima']) });
      const status = await waitForStatus(instanceId, ['Completed']);

      expect(started.status).toBe(202);
      expect(((await started.json()) as { id: string }).id).toBe(instanceId);
      expect(status.output).toEqual(['Hello Lima']);
      expect(managementRequestsOverHttp()).toEqual([]);
    });

    it('raiseEvent', async () => {
      const instanceId = uniqueId('in-process-event');
      await fetch(`${host.baseUrl}/api/start/waitForApproval/${instanceId}`, { method: 'POST', body: JSON.stringify({ order: 3 }) });
      await waitForStatus(instanceId, ['Running']);

      const raised = await clientOperation('raiseEvent', instanceId, { eventName: 'approval', eventData: { approvedBy: 'ops' } });
      const status = await waitForStatus(instanceId, ['Completed']);

      expect(raised.status).toBe(200);
      expect(status.output).toEqual({ approval: { approvedBy: 'ops' }, input: { order: 3 } });
      expect(managementRequestsOverHttp()).toEqual([]);
    });

    it('signalEntity and readEntityState', async () => {
      const key = uniqueId('counter');
      await clientOperation('signalEntity', undefined, { key, operation: 'add', input: 4 });

      let state: { entityExists: boolean; entityState?: unknown } = { entityExists: false };
      for (let attempt = 0; attempt < 100 && state.entityState !== 4; attempt += 1) {
        state = (await (await clientOperation('readEntityState', undefined, { key })).json()) as typeof state;
        await new Promise((resolve) => setTimeout(resolve, 50));
      }

      expect(state).toEqual({ entityExists: true, entityState: 4 });
      expect(managementRequestsOverHttp()).toEqual([]);
    });

    it('terminate and purge', async () => {
      const instanceId = uniqueId('in-process-terminate');
      await fetch(`${host.baseUrl}/api/start/waitForApproval/${instanceId}`, { method: 'POST' });
      await waitForStatus(instanceId, ['Running']);

      const terminated = await clientOperation('terminate', instanceId);
      await waitForStatus(instanceId, ['Terminated']);
      const purged = await (await clientOperation('purge', instanceId)).json();

      expect(terminated.status).toBe(200);
      expect(purged).toEqual({ instancesDeleted: 1 });
      expect(managementRequestsOverHttp()).toEqual([]);
    });

    it('unknown instance gives the client error', async () => {
      const response = await clientOperation('getStatus', 'no-such-instance');

      expect(response.status).toBe(500);
      expect(managementRequestsOverHttp()).toEqual([]);
    });
  });

  describe('responses', () => {
    let inProcessClient: AxiosInstance;
    let httpClient: AxiosInstance;
    let completedInstanceId: string;
    const keyQuery = `code=${hostKey}`;

    const cases: ExchangeCase[] = [
      { name: 'start', method: 'post', pathAndQuery: `orchestrators/helloSequence/{id}?${keyQuery}`, body: '["Quito"]', startsInstance: true },
      { name: 'status of a completed instance', method: 'get', pathAndQuery: `instances/{id}?${keyQuery}` },
      { name: 'status with history', method: 'get', pathAndQuery: `instances/{id}?showHistory=true&showHistoryOutput=true&${keyQuery}` },
      { name: 'event for a completed instance', method: 'post', pathAndQuery: `instances/{id}/raiseEvent/approval?${keyQuery}`, body: '"yes"' },
      { name: 'first page of the list', method: 'get', pathAndQuery: `instances/?top=1&${keyQuery}` },
      { name: 'unknown instance', method: 'get', pathAndQuery: `instances/no-such-instance?${keyQuery}` },
      { name: 'wrong key', method: 'get', pathAndQuery: 'instances/{id}?code=wrong-key' },
      { name: 'missing key', method: 'get', pathAndQuery: 'instances/{id}' },
      { name: 'other task hub', method: 'get', pathAndQuery: `instances/{id}?taskHub=OtherHub&${keyQuery}` },
      { name: 'invalid JSON input', method: 'post', pathAndQuery: `orchestrators/helloSequence?${keyQuery}`, body: Buffer.from('{"city":') },
      { name: 'body over the host limit', method: 'post', pathAndQuery: `orchestrators/helloSequence?${keyQuery}`, body: JSON.stringify('x'.repeat(maxRequestBodyBytes)) },
      { name: 'wrong method', method: 'put', pathAndQuery: `instances/{id}?${keyQuery}` },
      { name: 'unknown route', method: 'get', pathAndQuery: `schedules/{id}?${keyQuery}` },
      { name: 'invalid percent-encoding', method: 'get', pathAndQuery: `instances/%E0%A4%A?${keyQuery}` },
      { name: 'unknown entity', method: 'get', pathAndQuery: `entities/counter/no-such-key?${keyQuery}` },
    ];

    function send(client: AxiosInstance, exchangeCase: ExchangeCase, instanceId: string): Promise<AxiosResponse> {
      const url = `${host.baseUrl}${managementPath}/${exchangeCase.pathAndQuery.replace('{id}', instanceId)}`;
      return client.request({ method: exchangeCase.method, url, data: exchangeCase.body });
    }

    beforeAll(async () => {
      // Created after the host started, as durable clients are, so they copy the in-process adapter.
      const config = { validateStatus: () => true, headers: { post: { 'Content-Type': 'application/json' } } };
      inProcessClient = axios.create(config);
      httpClient = axios.create({ ...config, adapter: 'http' });

      completedInstanceId = uniqueId('in-process-completed');
      await fetch(`${host.baseUrl}/api/start/helloSequence/${completedInstanceId}`, { method: 'POST', body: JSON.stringify(['Oslo']) });
      await waitForStatus(completedInstanceId, ['Completed']);
    });

    it.each(cases)('$name matches the HTTP response', async (exchangeCase) => {
      // Ids of the same length, so that Content-Length is the same on both paths.
      const inProcessId = exchangeCase.startsInstance ? uniqueId('start-a') : completedInstanceId;
      const httpId = exchangeCase.startsInstance ? uniqueId('start-b') : completedInstanceId;

      const inProcess = await send(inProcessClient, exchangeCase, inProcessId);
      const requestsAfterInProcess = managementRequestsOverHttp();
      const overHttp = await send(httpClient, exchangeCase, httpId);
      const sameIds = (value: unknown) => JSON.parse(JSON.stringify(value).replaceAll(httpId, inProcessId)) as unknown;

      expect(requestsAfterInProcess).toEqual([]);
      expect(managementRequestsOverHttp()).toHaveLength(2);
      expect(inProcess.status).toBe(overHttp.status);
      expect(inProcess.statusText).toBe(overHttp.statusText);
      expect(endToEndHeaders(inProcess)).toEqual(sameIds(endToEndHeaders(overHttp)));
      expect(inProcess.data).toEqual(sameIds(overHttp.data));
    });

    it('wrong key gives 401 problem in process', async () => {
      const response = await send(inProcessClient, { name: 'wrong key', method: 'get', pathAndQuery: 'instances/{id}?code=wrong-key' }, completedInstanceId);

      expect(response.status).toBe(401);
      expect(response.headers['content-type']).toBe('application/problem+json');
      expect(response.data).toMatchObject({ type: 'urn:functions-local-host:problem:unauthorized', status: 401 });
    });

    it('body over the limit gives 413 in process', async () => {
      const response = await send(inProcessClient, { name: 'too large', method: 'post', pathAndQuery: `orchestrators/helloSequence?${keyQuery}`, body: 'x'.repeat(maxRequestBodyBytes + 1) }, completedInstanceId);

      expect(response.status).toBe(413);
      expect(response.data).toMatchObject({ type: 'urn:functions-local-host:problem:request-body-too-large' });
    });
  });

  describe('after the host stops', () => {
    it('axios defaults have the adapter from before the start', async () => {
      await host.stop();

      expect(axios.defaults.adapter).toBe(adapterBeforeStart);
    });
  });
});
