import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { classifyStatus, deliverOnce, type DeliveryRequest } from '../../lib/delivery/deliverOnce';

interface ReceivedRequest {
  method: string;
  path: string;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/** Starts a loopback server that picks its response by path: /status/<code>, /slow, /redirect or /large. */
function startServer(received: ReceivedRequest[]): Promise<http.Server> {
  const server = http.createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const path = request.url ?? '/';
      received.push({ method: request.method ?? '', path, headers: request.headers, body: Buffer.concat(chunks).toString() });

      if (path.startsWith('/status/')) {
        response.writeHead(Number(path.slice('/status/'.length)), { 'content-type': 'text/plain' });
        response.end(`answer ${path}`);
      } else if (path === '/slow') {
        const timer = setTimeout(() => response.end('late'), 2000);
        response.on('close', () => clearTimeout(timer));
      } else if (path === '/redirect') {
        response.writeHead(302, { location: 'http://127.0.0.1:1/elsewhere' });
        response.end();
      } else if (path === '/large') {
        response.writeHead(200, { 'content-type': 'text/plain' });
        response.end('x'.repeat(100_000));
      } else {
        response.writeHead(404);
        response.end();
      }
    });
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

describe('deliverOnce', () => {
  const received: ReceivedRequest[] = [];
  let server: http.Server;
  let baseUrl: string;

  beforeAll(async () => {
    server = await startServer(received);
    baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  function requestTo(path: string, overrides: Partial<DeliveryRequest> = {}): DeliveryRequest {
    return {
      url: `${baseUrl}${path}`,
      method: 'POST',
      body: '{"id":"1"}',
      idempotencyKey: 'orders-abc:erp',
      timeoutInMilliseconds: 1000,
      ...overrides,
    };
  }

  test('2xx is delivered', async () => {
    const result = await deliverOnce(requestTo('/status/201'));

    expect(result.outcome).toBe('delivered');
    expect(result.statusCode).toBe(201);
    expect(result.error).toBeUndefined();
    expect(result.responseBodyStart).toBe('answer /status/201');
  });

  test('sends method, body and headers', async () => {
    await deliverOnce(requestTo('/status/200', { method: 'PUT' }));
    const request = received[received.length - 1];

    expect(request.method).toBe('PUT');
    expect(request.body).toBe('{"id":"1"}');
    expect(request.headers['content-type']).toBe('application/json');
    expect(request.headers['idempotency-key']).toBe('orders-abc:erp');
  });

  test('503 is retryable', async () => {
    const result = await deliverOnce(requestTo('/status/503'));

    expect(result.outcome).toBe('retryable');
    expect(result.statusCode).toBe(503);
    expect(result.error).toBe('HTTP 503 Service Unavailable');
  });

  test('400 is permanent', async () => {
    const result = await deliverOnce(requestTo('/status/400'));

    expect(result.outcome).toBe('permanent');
    expect(result.error).toBe('HTTP 400 Bad Request');
  });

  test('redirect is a permanent failure and not followed', async () => {
    const countBefore = received.length;

    const result = await deliverOnce(requestTo('/redirect'));

    expect(result.outcome).toBe('permanent');
    expect(result.statusCode).toBe(302);
    expect(result.error).toContain('redirects are not followed (http://127.0.0.1:1/elsewhere)');
    expect(received.length).toBe(countBefore + 1);
  });

  test('timeout is retryable', async () => {
    const result = await deliverOnce(requestTo('/slow', { timeoutInMilliseconds: 200 }));

    expect(result.outcome).toBe('retryable');
    expect(result.statusCode).toBeUndefined();
    expect(result.error).toBe('timed out after 200 ms');
    expect(result.durationInMilliseconds).toBeGreaterThanOrEqual(150);
    expect(result.durationInMilliseconds).toBeLessThan(1500);
  });

  test('refused connection is retryable', async () => {
    const closed = await startServer([]);
    const port = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));

    const result = await deliverOnce({ ...requestTo('/'), url: `http://127.0.0.1:${port}/orders` });

    expect(result.outcome).toBe('retryable');
    expect(result.error).toContain('ECONNREFUSED');
  });

  test('keeps only the first 4096 bytes of the body', async () => {
    const result = await deliverOnce(requestTo('/large'));

    expect(result.responseBodyStart).toHaveLength(4096);
  });
});

describe('classifyStatus', () => {
  test('follows the retry rules', () => {
    const cases: Array<[number, string]> = [
      [200, 'delivered'],
      [204, 'delivered'],
      [301, 'permanent'],
      [400, 'permanent'],
      [404, 'permanent'],
      [408, 'retryable'],
      [409, 'permanent'],
      [429, 'retryable'],
      [500, 'retryable'],
      [504, 'retryable'],
    ];
    for (const [statusCode, outcome] of cases) {
      expect(classifyStatus(statusCode), String(statusCode)).toBe(outcome);
    }
  });
});
