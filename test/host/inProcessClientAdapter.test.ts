import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import type { AxiosError, AxiosStatic } from 'axios';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { HostExchangeRequest, HostExchangeResponse } from '../../local/http/hostExchange';
import { loadDurableClientAxios, serveManagementInProcess, type AxiosModule } from '../../local/management/inProcessClientAdapter';
import { requireFoundAxios } from '../helpers/durableClientAxios';
import { repoRoot } from '../helpers/hostProcess';

/**
 * The axios adapter that serves durable client calls in process, on the axios module that the
 * fixture app's `durable-functions` loads, with stand-in management servers and real loopback
 * HTTP servers for the requests that it passes on.
 */

const fixtureMain = path.join(repoRoot, 'test', 'fixtures', 'managementApp', 'app.js');
const managementPath = '/runtime/webhooks/durabletask';

interface NetworkServer {
  origin: string;
  requestPaths: string[];
  close(): Promise<void>;
}

/** Starts an HTTP server on 127.0.0.1 that records each request path and responds with `{ "servedBy": "network" }`. */
function startNetworkServer(): Promise<NetworkServer> {
  const requestPaths: string[] = [];
  const server = http.createServer((req, res) => {
    requestPaths.push(req.url ?? '');
    req.resume();
    res.writeHead(200, { 'Content-Type': 'application/json' });
    res.end(JSON.stringify({ servedBy: 'network' }));
  });
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      resolve({
        origin: `http://127.0.0.1:${port}`,
        requestPaths,
        close: () => new Promise((closed) => server.close(() => closed())),
      });
    });
  });
}

/** Creates a stand-in management server that records its requests and responds with `status` and a JSON echo of the request. */
function createManagementServer(name: string, status = 200): { requests: HostExchangeRequest[]; serve: (request: HostExchangeRequest) => Promise<HostExchangeResponse> } {
  const requests: HostExchangeRequest[] = [];
  return {
    requests,
    serve: async (request) => {
      requests.push(request);
      const requestBody = (await request.readBody(1024)).toString('utf8');
      const body = Buffer.from(JSON.stringify({ servedBy: name, method: request.method, path: request.url.pathname, requestBody }));
      return { status, headers: { 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': String(body.length), 'X-Ms-Continuation-Token': 'next-page' }, body };
    },
  };
}

describe('in-process durable client adapter', () => {
  let axios: AxiosStatic;
  let network: NetworkServer;
  let otherNetwork: NetworkServer;
  const stops: (() => void)[] = [];

  function serve(origin: string, server: ReturnType<typeof createManagementServer>): () => void {
    const stop = serveManagementInProcess(axios as unknown as AxiosModule, origin, server.serve);
    stops.push(stop);
    return stop;
  }

  beforeAll(async () => {
    axios = requireFoundAxios(loadDurableClientAxios(fixtureMain));
    network = await startNetworkServer();
    otherNetwork = await startNetworkServer();
  });

  afterEach(() => {
    stops.splice(0).forEach((stop) => stop());
  });

  afterAll(async () => {
    await network.close();
    await otherNetwork.close();
  });

  it('loads the axios of durable-functions', () => {
    expect(typeof axios.create).toBe('function');
  });

  it('app without durable-functions has no axios', () => {
    const lookup = loadDurableClientAxios('/nonexistent-app/app.js');

    expect(lookup).toEqual({ found: false, reason: '/nonexistent-app/app.js does not resolve the durable-functions package' });
  });

  it('management path is served in process', async () => {
    const management = createManagementServer('in-process');
    serve(network.origin, management);
    const client = axios.create({ headers: { post: { 'Content-Type': 'application/json' } } });

    const response = await client.post(`${network.origin}${managementPath}/orchestrators/hello?code=key`, JSON.stringify({ city: 'Lima' }));

    expect(response.status).toBe(200);
    expect(response.statusText).toBe('OK');
    expect(response.data).toEqual({ servedBy: 'in-process', method: 'POST', path: `${managementPath}/orchestrators/hello`, requestBody: '{"city":"Lima"}' });
    expect(response.headers['x-ms-continuation-token']).toBe('next-page');
    expect(network.requestPaths).toEqual([]);
  });

  it('request headers reach the server in lower case', async () => {
    const management = createManagementServer('in-process');
    serve(network.origin, management);
    const client = axios.create({ headers: { post: { 'Content-Type': 'application/json' } } });

    await client.post(`${network.origin}${managementPath}/entities/counter/one?op=add`, '5', { headers: { 'X-Functions-Key': 'key' } });

    const headers = management.requests[0].headers;
    expect(headers['content-type']).toBe('application/json');
    expect(headers['x-functions-key']).toBe('key');
    expect(headers['content-length']).toBe('1');
    expect(headers.host).toBe(new URL(network.origin).host);
  });

  it('each origin reaches its own server', async () => {
    const first = createManagementServer('first');
    const second = createManagementServer('second');
    serve(network.origin, first);
    serve(otherNetwork.origin, second);
    const client = axios.create();

    const fromFirst = await client.get(`${network.origin}${managementPath}/instances/a`);
    const fromSecond = await client.get(`${otherNetwork.origin}${managementPath}/instances/b`);

    expect(fromFirst.data.servedBy).toBe('first');
    expect(fromSecond.data.servedBy).toBe('second');
  });

  it('other path of a served origin goes over the network', async () => {
    serve(network.origin, createManagementServer('in-process'));
    const client = axios.create();

    const response = await client.get(`${network.origin}/api/health`);

    expect(response.data).toEqual({ servedBy: 'network' });
    expect(network.requestPaths).toEqual(['/api/health']);
  });

  it('other origin goes over the network', async () => {
    serve(network.origin, createManagementServer('in-process'));
    const client = axios.create();

    const response = await client.get(`${otherNetwork.origin}${managementPath}/instances/a`);

    expect(response.data).toEqual({ servedBy: 'network' });
    expect(otherNetwork.requestPaths).toEqual([`${managementPath}/instances/a`]);
  });

  it('request with a timeout goes over the network', async () => {
    const management = createManagementServer('in-process');
    serve(network.origin, management);
    const client = axios.create({ timeout: 5000 });

    const response = await client.get(`${network.origin}${managementPath}/instances/a`);

    expect(response.data).toEqual({ servedBy: 'network' });
    expect(management.requests).toHaveLength(0);
  });

  it('rejected status raises an AxiosError with the response', async () => {
    serve(network.origin, createManagementServer('in-process', 401));
    const client = axios.create();

    const error = (await client.get(`${network.origin}${managementPath}/instances/a`).catch((caught: unknown) => caught)) as AxiosError;

    expect(axios.isAxiosError(error)).toBe(true);
    expect(error.code).toBe('ERR_BAD_REQUEST');
    expect(error.response?.status).toBe(401);
    expect(error.response?.data).toMatchObject({ servedBy: 'in-process' });
  });

  it('body over maxBodyLength is rejected before the server', async () => {
    const management = createManagementServer('in-process');
    serve(network.origin, management);
    const client = axios.create({ maxBodyLength: 4 });

    const error = (await client.post(`${network.origin}${managementPath}/orchestrators/hello`, 'too long').catch((caught: unknown) => caught)) as AxiosError;

    expect(error.message).toBe('Request body larger than maxBodyLength limit');
    expect(management.requests).toHaveLength(0);
  });

  it('arraybuffer response type gives the body bytes', async () => {
    serve(network.origin, createManagementServer('in-process'));
    const client = axios.create({ responseType: 'arraybuffer' });

    const response = await client.get(`${network.origin}${managementPath}/instances/a`);

    expect(Buffer.isBuffer(response.data)).toBe(true);
    expect(JSON.parse((response.data as Buffer).toString('utf8'))).toMatchObject({ servedBy: 'in-process' });
  });

  it('origin stays served until its own stop', async () => {
    const stopFirst = serve(network.origin, createManagementServer('first'));
    serve(otherNetwork.origin, createManagementServer('second'));

    stopFirst();
    const client = axios.create();
    const fromFirst = await client.get(`${network.origin}${managementPath}/instances/a`);
    const fromSecond = await client.get(`${otherNetwork.origin}${managementPath}/instances/b`);

    expect(fromFirst.data).toEqual({ servedBy: 'network' });
    expect(fromSecond.data.servedBy).toBe('second');
  });

  it('last stop restores the previous adapter', () => {
    const previousAdapter = axios.defaults.adapter;
    const stopFirst = serve(network.origin, createManagementServer('first'));
    const stopSecond = serve(otherNetwork.origin, createManagementServer('second'));

    stopFirst();
    const adapterWhileOneServed = axios.defaults.adapter;
    stopSecond();

    expect(adapterWhileOneServed).not.toBe(previousAdapter);
    expect(axios.defaults.adapter).toBe(previousAdapter);
  });

  it('same origin cannot be served twice', () => {
    serve(network.origin, createManagementServer('first'));

    expect(() => serve(network.origin, createManagementServer('second'))).toThrow(`Internal error: the management API of ${network.origin} is already served in process. Stop the host on that origin first.`);
  });
});
