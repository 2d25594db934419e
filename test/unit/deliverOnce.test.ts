import net from 'node:net';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { classifyStatus, deliverOnce } from '../../lib/delivery/deliverOnce';
import {
  createDeliveryContext,
  deliveryRequest,
  destinationOf,
  respondWith,
  startScriptedTarget,
  type ScriptedTarget,
  type TargetHandler,
  type TestDeliveryContext,
} from './delivery/support/deliveryHarness';

describe('deliverOnce answers', () => {
  let context: TestDeliveryContext;
  let target: ScriptedTarget | undefined;

  beforeEach(() => {
    context = createDeliveryContext();
  });

  afterEach(async () => {
    await target?.close();
    target = undefined;
    await context.close();
  });

  async function deliverTo(handler: TargetHandler, overrides: Record<string, unknown> = {}) {
    target = await startScriptedTarget(handler);
    const destination = destinationOf({ url: `${target.url}/orders`, ...overrides });
    return deliverOnce(deliveryRequest(destination), context);
  }

  const cases: Array<[number, string, string | undefined]> = [
    [200, 'delivered', undefined],
    [204, 'delivered', undefined],
    [400, 'permanent', 'HTTP 400 Bad Request'],
    [404, 'permanent', 'HTTP 404 Not Found'],
    [408, 'retryable', 'HTTP 408 Request Timeout'],
    [429, 'retryable', 'HTTP 429 Too Many Requests'],
    [500, 'retryable', 'HTTP 500 Internal Server Error'],
    [503, 'retryable', 'HTTP 503 Service Unavailable'],
  ];
  for (const [statusCode, outcome, error] of cases) {
    test(`${statusCode} is ${outcome}`, async () => {
      const result = await deliverTo(respondWith(statusCode));

      expect(result.outcome).toBe(outcome);
      expect(result.statusCode).toBe(statusCode);
      expect(result.error).toBe(error);
      expect(target?.requests).toHaveLength(1);
    });
  }

  test('410 is permanent and disables the destination', async () => {
    const result = await deliverTo(respondWith(410));

    expect(result.outcome).toBe('permanent');
    expect(result.disablesDestination).toBe(true);
    expect(result.error).toBe('HTTP 410 Gone');
    expect(target?.requests).toHaveLength(1);
  });

  test('404 does not disable the destination', async () => {
    const result = await deliverTo(respondWith(404));

    expect(result.disablesDestination).toBeUndefined();
  });

  test('delivered attempt keeps the response body start', async () => {
    const result = await deliverTo(respondWith(201));

    expect(result.responseBodyStart).toBe('status 201');
  });

  test('body start is cut at responseBodyStartBytes', async () => {
    const result = await deliverTo(
      (_request, response) => {
        response.writeHead(200, { 'content-type': 'text/plain' });
        response.end('x'.repeat(100_000));
      },
      { responseBodyStartBytes: 10 },
    );

    expect(result.outcome).toBe('delivered');
    expect(result.responseBodyStart).toBe('x'.repeat(10));
  });

  test('responseBodyStartBytes 0 keeps no body', async () => {
    const result = await deliverTo(respondWith(500), { responseBodyStartBytes: 0 });

    expect(result.outcome).toBe('retryable');
    expect(result.responseBodyStart).toBe('');
  });

  test('sends method and body', async () => {
    await deliverTo(respondWith(200), { method: 'PUT' });

    expect(target?.requests[0].method).toBe('PUT');
    expect(target?.requests[0].body.toString()).toBe('{"id":"1"}');
  });

  test('refused connection is retryable', async () => {
    const closed = net.createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const { port } = closed.address() as net.AddressInfo;
    await new Promise((resolve) => closed.close(resolve));
    const destination = destinationOf({ url: `http://127.0.0.1:${port}/orders` });

    const result = await deliverOnce(deliveryRequest(destination), context);

    expect(result.outcome).toBe('retryable');
    expect(result.statusCode).toBeUndefined();
    expect(result.error).toContain('ECONNREFUSED');
  });

  test('blocked address is permanent and not contacted', async () => {
    target = await startScriptedTarget(respondWith(200));
    // The loader rejects such a file, so the range is changed after loading.
    const destination = { ...destinationOf({ url: `${target.url}/orders` }), allowedPrivateRanges: ['10.0.0.0/8'] };

    const result = await deliverOnce(deliveryRequest(destination), context);

    expect(result.outcome).toBe('permanent');
    expect(result.error).toContain('blocked: address 127.0.0.1 of host 127.0.0.1 is not public');
    expect(target.requests).toHaveLength(0);
  });
});

describe('deliverOnce Retry-After', () => {
  let context: TestDeliveryContext;
  let target: ScriptedTarget | undefined;

  beforeEach(() => {
    context = createDeliveryContext();
  });

  afterEach(async () => {
    await target?.close();
    await context.close();
  });

  async function retryAfterOf(statusCode: number, retryAfter: string): Promise<number | undefined> {
    target = await startScriptedTarget(respondWith(statusCode, { 'retry-after': retryAfter }));
    const result = await deliverOnce(deliveryRequest(destinationOf({ url: `${target.url}/orders` })), context);
    return result.retryAfterInMilliseconds;
  }

  test('seconds become milliseconds', async () => {
    expect(await retryAfterOf(429, '120')).toBe(120_000);
  });

  test('date is relative to the clock', async () => {
    const at = new Date(context.now.getTime() + 30_000).toUTCString();

    expect(await retryAfterOf(503, at)).toBe(30_000);
  });

  test('huge value is kept without clamping', async () => {
    expect(await retryAfterOf(503, '31536000')).toBe(31_536_000_000);
  });

  test('malformed value is absent', async () => {
    expect(await retryAfterOf(503, 'soon')).toBeUndefined();
  });
});

describe('classifyStatus', () => {
  test('follows the retry rules', () => {
    const cases: Array<[number, string]> = [
      [200, 'delivered'],
      [299, 'delivered'],
      [301, 'permanent'],
      [400, 'permanent'],
      [408, 'retryable'],
      [409, 'permanent'],
      [410, 'permanent'],
      [429, 'retryable'],
      [500, 'retryable'],
      [504, 'retryable'],
    ];
    for (const [statusCode, outcome] of cases) {
      expect(classifyStatus(statusCode), String(statusCode)).toBe(outcome);
    }
  });
});
