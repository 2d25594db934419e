import http from 'node:http';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { deliverOnce } from '../../../lib/delivery/deliverOnce';
import { createDeliveryContext, deliveryRequest, destinationOf, respondWith, startScriptedTarget, type ScriptedTarget, type TestDeliveryContext } from './support/deliveryHarness';

describe('destination limits', () => {
  let context: TestDeliveryContext;
  let target: ScriptedTarget | undefined;
  const heldResponses: http.ServerResponse[] = [];

  beforeEach(() => {
    context = createDeliveryContext();
  });

  afterEach(async () => {
    for (const response of heldResponses.splice(0)) {
      response.destroy();
    }
    await target?.close();
    target = undefined;
    await context.close();
  });

  test('maxConcurrentRequests bounds the attempts in flight', async () => {
    let inFlight = 0;
    let maxInFlight = 0;
    target = await startScriptedTarget((_request, response) => {
      inFlight += 1;
      maxInFlight = Math.max(maxInFlight, inFlight);
      setTimeout(() => {
        inFlight -= 1;
        response.writeHead(200);
        response.end();
      }, 100);
    });
    const destination = destinationOf({ url: `${target.url}/orders`, maxConcurrentRequests: 2 });

    const results = await Promise.all([1, 2, 3, 4, 5].map((attemptNumber) => deliverOnce(deliveryRequest(destination, { attemptNumber }), context)));

    expect(results.every((result) => result.outcome === 'delivered')).toBe(true);
    expect(target.requests).toHaveLength(5);
    expect(maxInFlight).toBe(2);
  });

  test('waiting too long for a slot is retryable', async () => {
    target = await startScriptedTarget((_request, response) => {
      heldResponses.push(response);
    });
    const destination = destinationOf({ url: `${target.url}/orders`, maxConcurrentRequests: 1, timeoutInMilliseconds: 1000 });
    // The second attempt gives up first, while the first one still has the only slot.
    const impatient = { ...destination, timeoutInMilliseconds: 300 };

    const [first, second] = await Promise.all([deliverOnce(deliveryRequest(destination), context), deliverOnce(deliveryRequest(impatient), context)]);

    expect(first.outcome).toBe('retryable');
    expect(second.outcome).toBe('retryable');
    expect(second.error).toBe('attempt timeout: timeoutInMilliseconds 300 ms elapsed while waiting for the destination limits (maxConcurrentRequests and rateLimit)');
    expect(target.requests).toHaveLength(1);
  });

  test('rateLimit spaces the attempts', async () => {
    target = await startScriptedTarget(respondWith(200));
    const destination = destinationOf({ url: `${target.url}/orders`, rateLimit: { requestsPerSecond: 2, burst: 1 } });
    const arrivals: number[] = [];
    const startedAt = performance.now();

    const results = await Promise.all(
      [1, 2, 3].map(async (attemptNumber) => {
        const result = await deliverOnce(deliveryRequest(destination, { attemptNumber }), context);
        arrivals.push(performance.now() - startedAt);
        return result;
      }),
    );

    // With one token at once and a new one every 500 ms, only the first attempt finishes in the first 250 ms.
    expect(results.every((result) => result.outcome === 'delivered')).toBe(true);
    expect(target.requests).toHaveLength(3);
    expect(arrivals.filter((elapsed) => elapsed < 250)).toHaveLength(1);
    expect(arrivals.filter((elapsed) => elapsed < 750)).toHaveLength(2);
  });

  test('token beyond the attempt timeout fails at once', async () => {
    target = await startScriptedTarget(respondWith(200));
    const destination = destinationOf({ url: `${target.url}/orders`, rateLimit: { requestsPerSecond: 1, burst: 1 }, timeoutInMilliseconds: 300 });

    const first = await deliverOnce(deliveryRequest(destination), context);
    const second = await deliverOnce(deliveryRequest(destination), context);

    expect(first.outcome).toBe('delivered');
    expect(second.outcome).toBe('retryable');
    expect(second.error).toMatch(/^rate limit of destination erp \(1 requests per second, burst 1\) has no token within the \d+ ms left of timeoutInMilliseconds$/);
    expect(second.durationInMilliseconds).toBeLessThan(250);
    expect(target.requests).toHaveLength(1);
  });
});
