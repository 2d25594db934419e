import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { repoRoot, startHostProcess, type HostProcess } from '../helpers/hostProcess';

const appRoot = path.join(repoRoot, 'test', 'fixtures', 'httpApp');

function sha256(bytes: Buffer): string {
  return createHash('sha256').update(bytes).digest('hex');
}

interface RequestDescription {
  functionName: string;
  params: Record<string, string>;
  query: Record<string, string>;
  method: string;
  url: string;
  testHeader: string | null;
  clientAddress: string | null;
}

describe('HTTP server with an HTTP-only app', () => {
  let host: HostProcess;
  let dataDir: string;
  let hostKey: string;

  async function getDescription(pathAndQuery: string, init?: RequestInit): Promise<RequestDescription> {
    const response = await fetch(`${host.baseUrl}${pathAndQuery}`, init);
    expect(response.status).toBe(200);
    return (await response.json()) as RequestDescription;
  }

  beforeAll(async () => {
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'host-http-'));
    host = await startHostProcess({ appRoot, dataDir, env: { LOCAL_FUNCTION_KEY: undefined, HOST_MAX_REQUEST_BODY_BYTES: undefined } });
    hostKey = (JSON.parse(fs.readFileSync(path.join(dataDir, 'host-keys.json'), 'utf8')) as { hostKey: string }).hostKey;
  });

  afterAll(() => {
    host?.kill();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  describe('routing', () => {
    it('port 0 picks a free port', () => {
      expect(Number(new URL(host.baseUrl).port)).toBeGreaterThan(0);
    });

    it('int constraint selects its function', async () => {
      const description = await getDescription('/api/items/42');
      expect(description.functionName).toBe('itemById');
      expect(description.params).toEqual({ id: '42' });
    });

    it('alpha constraint selects its function', async () => {
      const description = await getDescription('/api/items/widget');
      expect(description.functionName).toBe('itemByName');
    });

    it('literal route wins over parameters', async () => {
      expect((await getDescription('/api/items/special')).functionName).toBe('specialItem');
    });

    it('value failing every constraint is not found', async () => {
      const response = await fetch(`${host.baseUrl}/api/items/4x2`);
      expect(response.status).toBe(404);
    });

    it('guid constraint accepts a guid', async () => {
      const orderId = '0f8fad5b-d9cb-469f-a165-70867728950e';
      expect((await getDescription(`/api/orders/${orderId}`)).params).toEqual({ orderId });
    });

    it('guid constraint rejects other text', async () => {
      expect((await fetch(`${host.baseUrl}/api/orders/12345`)).status).toBe(404);
    });

    it('bool constraint accepts false', async () => {
      expect((await getDescription('/api/flags/false')).params).toEqual({ enabled: 'false' });
    });

    it('regex constraint accepts a match', async () => {
      expect((await getDescription('/api/codes/ABC-12')).params).toEqual({ code: 'ABC-12' });
    });

    it('regex constraint rejects a mismatch', async () => {
      expect((await fetch(`${host.baseUrl}/api/codes/ABC-123`)).status).toBe(404);
    });

    it('length constraints bound the value', async () => {
      expect((await fetch(`${host.baseUrl}/api/names/abcd`)).status).toBe(200);
      expect((await fetch(`${host.baseUrl}/api/names/ab`)).status).toBe(404);
      expect((await fetch(`${host.baseUrl}/api/names/abcdef`)).status).toBe(404);
    });

    it('optional parameter may be omitted', async () => {
      expect((await getDescription('/api/archive/2024')).params).toEqual({ year: '2024' });
    });

    it('optional parameter is passed when present', async () => {
      expect((await getDescription('/api/archive/2024/5')).params).toEqual({ year: '2024', month: '5' });
    });

    it('catch-all receives the decoded rest', async () => {
      expect((await getDescription('/api/files/reports/2024/a%20b.txt')).params).toEqual({ path: 'reports/2024/a b.txt' });
    });

    it('complex segment splits name and extension', async () => {
      expect((await getDescription('/api/docs/report.final.pdf')).params).toEqual({ name: 'report.final', extension: 'pdf' });
    });

    it('function without route is served under its name', async () => {
      expect((await getDescription('/api/DefaultRoute')).functionName).toBe('defaultRoute');
    });

    it('route without the prefix is not found', async () => {
      expect((await fetch(`${host.baseUrl}/items/42`)).status).toBe(404);
    });

    it('trailing slash is ignored', async () => {
      expect((await getDescription('/api/items/42/')).functionName).toBe('itemById');
    });

    it('invalid percent-encoding is rejected', async () => {
      const response = await fetch(`${host.baseUrl}/api/files/%E0%A4%A`);
      expect(response.status).toBe(400);
      expect(response.headers.get('content-type')).toBe('application/problem+json');
    });
  });

  describe('request data', () => {
    it('repeated query values are joined', async () => {
      expect((await getDescription('/api/items/1?tag=a&tag=b&page=2')).query).toEqual({ tag: 'a,b', page: '2' });
    });

    it('headers reach the function', async () => {
      expect((await getDescription('/api/items/1', { headers: { 'x-test': 'header value' } })).testHeader).toBe('header value');
    });

    it('x-client-ip is the socket address', async () => {
      expect((await getDescription('/api/items/1')).clientAddress).toBe('127.0.0.1');
    });

    it('x-client-ip sent by the client is replaced', async () => {
      const description = await getDescription('/api/items/1', { headers: { 'x-client-ip': '203.0.113.9', 'x-forwarded-for': '198.51.100.1' } });
      expect(description.clientAddress).toBe('127.0.0.1');
    });

    it('url is the full request URL', async () => {
      expect((await getDescription('/api/items/1?a=b')).url).toBe(`${host.baseUrl}/api/items/1?a=b`);
    });

    it('binary body arrives byte for byte', async () => {
      const body = randomBytes(256 * 1024);
      const response = await fetch(`${host.baseUrl}/api/body/sha256`, { method: 'POST', body, headers: { 'content-type': 'application/octet-stream' } });
      const result = (await response.json()) as { sha256: string; length: number };
      expect(result.length).toBe(body.length);
      expect(result.sha256).toBe(sha256(body));
    });

    it('non-UTF-8 body arrives byte for byte', async () => {
      const body = Buffer.from([0xff, 0xfe, 0x00, 0xc3, 0x28, 0xa0, 0xa1, 0xe2, 0x28, 0xa1, 0x80]);
      const response = await fetch(`${host.baseUrl}/api/body/sha256`, { method: 'PUT', body, headers: { 'content-type': 'text/plain; charset=utf-8' } });
      const result = (await response.json()) as { sha256: string; contentType: string };
      expect(result.sha256).toBe(sha256(body));
      expect(result.contentType).toBe('text/plain; charset=utf-8');
    });

    it('JSON body keeps its exact bytes', async () => {
      const body = Buffer.from('{ "b": 1,\n  "a": 1.50 }');
      const response = await fetch(`${host.baseUrl}/api/body/sha256`, { method: 'POST', body, headers: { 'content-type': 'application/json' } });
      expect(((await response.json()) as { sha256: string }).sha256).toBe(sha256(body));
    });

    it('empty body arrives empty', async () => {
      const response = await fetch(`${host.baseUrl}/api/body/sha256`, { method: 'POST' });
      expect(((await response.json()) as { length: number }).length).toBe(0);
    });
  });

  describe('responses', () => {
    it('status, headers, cookies and body are sent', async () => {
      const response = await fetch(`${host.baseUrl}/api/respond`);
      expect(response.status).toBe(201);
      expect(response.headers.get('x-custom')).toBe('custom value');
      expect(response.headers.getSetCookie()).toEqual(['session=abc; Path=/; HttpOnly; SameSite=Strict']);
      expect(await response.text()).toBe('created');
    });

    it('function without response gives 204', async () => {
      const response = await fetch(`${host.baseUrl}/api/no-response`);
      expect(response.status).toBe(204);
    });

    it('failing function gives 500 without internals', async () => {
      const response = await fetch(`${host.baseUrl}/api/fail`);
      const text = await response.text();
      expect(response.status).toBe(500);
      expect(response.headers.get('content-type')).toBe('application/problem+json');
      expect(text).not.toContain('fixture-secret');
      expect(text).not.toContain('at handler');
    });

    it('failing function is logged with its error', async () => {
      const response = await fetch(`${host.baseUrl}/api/fail`);
      const problem = (await response.json()) as { detail: string };
      const invocationId = /invocation ([0-9a-f-]{36})/.exec(problem.detail)?.[1];
      const entry = host.logEntries().find((logEntry) => logEntry.invocationId === invocationId);
      expect(entry?.msg).toBe('function invocation failed');
      expect(entry?.functionName).toBe('fail');
      expect((entry?.err as { message: string }).message).toContain('connection string');
    });

    it('successful invocation is logged', async () => {
      await fetch(`${host.baseUrl}/api/items/77`);
      const entry = host.logEntries().find((logEntry) => logEntry.functionName === 'itemById' && logEntry.msg === 'function invocation succeeded');
      expect(entry?.outcome).toBe('succeeded');
      expect(typeof entry?.durationInMilliseconds).toBe('number');
      expect(typeof entry?.invocationId).toBe('string');
    });
  });

  describe('errors', () => {
    it('unknown route gives 404 problem', async () => {
      const response = await fetch(`${host.baseUrl}/api/no/such/route`);
      const problem = (await response.json()) as Record<string, unknown>;
      expect(response.status).toBe(404);
      expect(response.headers.get('content-type')).toBe('application/problem+json');
      expect(problem.status).toBe(404);
      expect(problem.title).toBe('Route not found');
      expect(problem.detail).toContain('/api/no/such/route');
      expect(typeof problem.type).toBe('string');
    });

    it('wrong method gives 405 with Allow', async () => {
      const response = await fetch(`${host.baseUrl}/api/things`, { method: 'POST' });
      expect(response.status).toBe(405);
      expect(response.headers.get('allow')).toBe('GET, DELETE');
      expect(response.headers.get('content-type')).toBe('application/problem+json');
    });

    it('second method on the same route is served', async () => {
      expect((await getDescription('/api/things', { method: 'DELETE' })).functionName).toBe('deleteThings');
    });

    it('management API is absent without durable functions', async () => {
      const response = await fetch(`${host.baseUrl}/runtime/webhooks/durabletask/instances/?code=${hostKey}`);
      expect(response.status).toBe(404);
      expect(((await response.json()) as { detail: string }).detail).toContain('no durable functions');
    });
  });

  describe('auth levels', () => {
    it('anonymous function needs no key', async () => {
      expect((await fetch(`${host.baseUrl}/api/items/1`)).status).toBe(200);
    });

    it('function level without key gives 401 problem', async () => {
      const response = await fetch(`${host.baseUrl}/api/secure/function`);
      expect(response.status).toBe(401);
      expect(response.headers.get('content-type')).toBe('application/problem+json');
    });

    it('function level with wrong key gives 401', async () => {
      const response = await fetch(`${host.baseUrl}/api/secure/function`, { headers: { 'x-functions-key': `${hostKey}x` } });
      expect(response.status).toBe(401);
    });

    it('function level accepts the key header', async () => {
      expect((await getDescription('/api/secure/function', { headers: { 'x-functions-key': hostKey } })).functionName).toBe('functionLevel');
    });

    it('function level accepts the code parameter', async () => {
      expect((await getDescription(`/api/secure/function?code=${encodeURIComponent(hostKey)}`)).functionName).toBe('functionLevel');
    });

    it('admin level accepts the same key', async () => {
      expect((await getDescription('/api/secure/admin', { headers: { 'x-functions-key': hostKey } })).functionName).toBe('adminLevel');
    });

    it('admin level without key gives 401', async () => {
      expect((await fetch(`${host.baseUrl}/api/secure/admin?code=wrong`)).status).toBe(401);
    });

    it('function level rejects a POST without key', async () => {
      const response = await fetch(`${host.baseUrl}/api/secure/function`, { method: 'POST', body: 'x'.repeat(1000) });
      expect(response.status).toBe(401);
    });
  });

  describe('health', () => {
    it('health answers ready', async () => {
      const response = await fetch(`${host.baseUrl}/api/health`);
      expect(response.status).toBe(200);
      expect(await response.json()).toEqual({ status: 'ready' });
    });

    it('health needs no key', async () => {
      expect((await fetch(`${host.baseUrl}/api/health`)).status).toBe(200);
    });
  });

  describe('host output', () => {
    it('key is never printed', () => {
      expect(host.stdout()).not.toContain(hostKey);
      expect(host.stderr()).not.toContain(hostKey);
    });

    it('key file path is printed', () => {
      expect(host.stdout()).toContain(path.join(dataDir, 'host-keys.json'));
    });

    it('every stdout line but the ready line is JSON', () => {
      const lines = host.stdout().split('\n').filter((line) => line !== '');
      const otherLines = lines.filter((line) => !line.startsWith('{'));
      expect(otherLines).toEqual([`Functions host ready at ${host.baseUrl} (host key in ${path.join(dataDir, 'host-keys.json')})`]);
    });
  });
});

describe('request body limit', () => {
  const maxBodyBytes = 1024;
  let host: HostProcess;
  let dataDir: string;

  beforeAll(async () => {
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'host-limit-'));
    host = await startHostProcess({ appRoot, dataDir, env: { HOST_MAX_REQUEST_BODY_BYTES: String(maxBodyBytes) } });
  });

  afterAll(() => {
    host?.kill();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  it('body at the limit is accepted', async () => {
    const response = await fetch(`${host.baseUrl}/api/body/sha256`, { method: 'POST', body: randomBytes(maxBodyBytes) });
    expect(response.status).toBe(200);
  });

  it('declared length over the limit gives 413', async () => {
    const response = await fetch(`${host.baseUrl}/api/body/sha256`, { method: 'POST', body: randomBytes(maxBodyBytes + 1) });
    expect(response.status).toBe(413);
    expect(((await response.json()) as { detail: string }).detail).toContain('HOST_MAX_REQUEST_BODY_BYTES');
  });

  it('chunked body over the limit gives 413', async () => {
    const chunks = [randomBytes(600), randomBytes(600)];
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        const chunk = chunks.shift();
        if (chunk) {
          controller.enqueue(chunk);
        } else {
          controller.close();
        }
      },
    });
    const response = await fetch(`${host.baseUrl}/api/body/sha256`, { method: 'POST', body, duplex: 'half' } as RequestInit);
    expect(response.status).toBe(413);
  });
});
