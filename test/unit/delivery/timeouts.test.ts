import net from 'node:net';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { deliverOnce } from '../../../lib/delivery/deliverOnce';
import { createDeliveryContext, deliveryRequest, destinationOf, startScriptedTarget, type ScriptedTarget, type TestDeliveryContext } from './support/deliveryHarness';

describe('deliverOnce timeouts', () => {
  let context: TestDeliveryContext;
  let target: ScriptedTarget | undefined;
  let silentServer: net.Server | undefined;
  const sockets: net.Socket[] = [];

  beforeEach(() => {
    context = createDeliveryContext();
  });

  afterEach(async () => {
    await target?.close();
    target = undefined;
    for (const socket of sockets.splice(0)) {
      socket.destroy();
    }
    if (silentServer !== undefined) {
      await new Promise((resolve) => silentServer?.close(resolve));
      silentServer = undefined;
    }
    await context.close();
  });

  test('TLS handshake that never completes hits the connect timeout', async () => {
    // A plain TCP server that accepts and then stays silent, so the TLS handshake never ends.
    silentServer = net.createServer((socket) => sockets.push(socket));
    await new Promise<void>((resolve) => silentServer?.listen(0, '127.0.0.1', resolve));
    const { port } = silentServer.address() as net.AddressInfo;
    const destination = destinationOf({ url: `https://127.0.0.1:${port}/orders`, connectTimeoutInMilliseconds: 200, timeoutInMilliseconds: 5000 });

    const result = await deliverOnce(deliveryRequest(destination), context);

    expect(result.outcome).toBe('retryable');
    expect(result.error).toBe('connect timeout: no connection within connectTimeoutInMilliseconds 200 ms (TLS handshake included)');
    expect(result.durationInMilliseconds).toBeLessThan(4000);
    expect(sockets).toHaveLength(1);
  });

  test('target without response headers hits the headers timeout', async () => {
    target = await startScriptedTarget(() => undefined);
    const destination = destinationOf({ url: `${target.url}/orders`, headersTimeoutInMilliseconds: 200, timeoutInMilliseconds: 5000 });

    const result = await deliverOnce(deliveryRequest(destination), context);

    expect(result.outcome).toBe('retryable');
    expect(result.error).toBe('headers timeout: no response headers within headersTimeoutInMilliseconds 200 ms');
    expect(result.durationInMilliseconds).toBeLessThan(4000);
    expect(target.requests).toHaveLength(1);
  });

  test('slow body hits the attempt timeout', async () => {
    target = await startScriptedTarget((_request, response) => {
      response.writeHead(200, { 'content-type': 'text/plain' });
      response.write('first part');
    });
    const destination = destinationOf({ url: `${target.url}/orders`, timeoutInMilliseconds: 300 });

    const result = await deliverOnce(deliveryRequest(destination), context);

    expect(result.outcome).toBe('retryable');
    expect(result.error).toBe(`attempt timeout: timeoutInMilliseconds 300 ms elapsed while waiting for the response from ${target.url}/orders`);
    expect(result.durationInMilliseconds).toBeGreaterThanOrEqual(250);
    expect(result.durationInMilliseconds).toBeLessThan(4000);
  });

  test('body start that arrives in time ends the attempt', async () => {
    target = await startScriptedTarget((_request, response) => {
      response.writeHead(200, { 'content-type': 'text/plain' });
      response.write('y'.repeat(64));
    });
    const destination = destinationOf({ url: `${target.url}/orders`, timeoutInMilliseconds: 2000, responseBodyStartBytes: 16 });

    const result = await deliverOnce(deliveryRequest(destination), context);

    expect(result.outcome).toBe('delivered');
    expect(result.responseBodyStart).toBe('y'.repeat(16));
  });
});
