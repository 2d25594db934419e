import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { deliverOnce } from '../../../lib/delivery/deliverOnce';
import { createDeliveryContext, deliveryRequest, destinationOf, startScriptedTarget, type ScriptedTarget, type TargetHandler, type TestDeliveryContext } from './support/deliveryHarness';

/** Redirects every request to `/hop<n+1>` with `statusCode`, except requests to `/final`, which get 200. */
function redirectingTo(statusCode: number, location?: (index: number) => string): TargetHandler {
  return (request, response, index) => {
    if (request.path === '/final') {
      response.writeHead(200);
      response.end('done');
      return;
    }
    response.writeHead(statusCode, { location: location?.(index) ?? '/final' });
    response.end();
  };
}

describe('deliverOnce redirects', () => {
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

  for (const statusCode of [301, 302, 303]) {
    test(`${statusCode} is permanent and not followed`, async () => {
      target = await startScriptedTarget(redirectingTo(statusCode));
      const destination = destinationOf({ url: `${target.url}/orders` });

      const result = await deliverOnce(deliveryRequest(destination), context);

      expect(result.outcome).toBe('permanent');
      expect(result.statusCode).toBe(statusCode);
      expect(result.error).toContain(`HTTP ${statusCode}`);
      expect(result.error).toContain(`only 307 and 308 redirects are followed (Location ${target.url}/final)`);
      expect(target.requests).toHaveLength(1);
    });
  }

  for (const statusCode of [307, 308]) {
    test(`${statusCode} is followed with method and body`, async () => {
      target = await startScriptedTarget(redirectingTo(statusCode));
      const destination = destinationOf({ url: `${target.url}/orders`, method: 'PATCH' });

      const result = await deliverOnce(deliveryRequest(destination), context);

      expect(result.outcome).toBe('delivered');
      expect(result.redirectCount).toBe(1);
      expect(result.finalUrl).toBe(`${target.url}/final`);
      expect(target.requests.map((request) => request.path)).toEqual(['/orders', '/final']);
      expect(target.requests[1].method).toBe('PATCH');
      expect(target.requests[1].body.toString()).toBe('{"id":"1"}');
    });
  }

  test('too many hops is permanent and names the limit', async () => {
    target = await startScriptedTarget(redirectingTo(307, (index) => `/hop${index + 1}`));
    const destination = destinationOf({ url: `${target.url}/orders`, maxRedirects: 2 });

    const result = await deliverOnce(deliveryRequest(destination), context);

    expect(result.outcome).toBe('permanent');
    expect(result.error).toContain(`HTTP 307 to ${target.url}/hop3 exceeds maxRedirects 2 after 2 redirects`);
    expect(target.requests).toHaveLength(3);
  });

  test('maxRedirects 0 follows no redirect', async () => {
    target = await startScriptedTarget(redirectingTo(308));
    const destination = destinationOf({ url: `${target.url}/orders`, maxRedirects: 0 });

    const result = await deliverOnce(deliveryRequest(destination), context);

    expect(result.outcome).toBe('permanent');
    expect(target.requests).toHaveLength(1);
  });

  test('hop outside allowed ranges is refused', async () => {
    let port = 0;
    target = await startScriptedTarget(redirectingTo(307, () => `http://127.0.0.2:${port}/`));
    port = target.port;
    const destination = destinationOf({ url: `${target.url}/orders`, allowedPrivateRanges: ['127.0.0.1/32'] });

    const result = await deliverOnce(deliveryRequest(destination), context);

    expect(result.outcome).toBe('permanent');
    expect(result.error).toContain('blocked: address 127.0.0.2 of host 127.0.0.2 is not public and is outside allowedPrivateRanges [127.0.0.1/32]');
    expect(result.error).toContain(`after 1 redirect, at http://127.0.0.2:${port}/`);
    expect(target.requests).toHaveLength(1);
  });

  test('redirect without Location is permanent', async () => {
    target = await startScriptedTarget((_request, response) => {
      response.writeHead(307);
      response.end();
    });
    const destination = destinationOf({ url: `${target.url}/orders` });

    const result = await deliverOnce(deliveryRequest(destination), context);

    expect(result.outcome).toBe('permanent');
    expect(result.error).toBe(`HTTP 307 without a Location header from ${target.url}/orders`);
  });
});
