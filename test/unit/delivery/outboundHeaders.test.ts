import { HttpRequest } from '@azure/functions';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { deliverOnce } from '../../../lib/delivery/deliverOnce';
import { isValidTraceparent } from '../../../lib/delivery/traceparent';
import { createMessageId } from '../../../lib/ids';
import { signHmacSha256 } from '../support/signHmacSha256';
import { ingestMessage } from '../../../triggers/ingest';
import { createTestDependencies, ordersConnector, testSecret, type TestDependencies } from '../support/testDependencies';
import {
  createDeliveryContext,
  deliveryRequest,
  destinationOf,
  respondWith,
  startScriptedTarget,
  testMessageId,
  type ReceivedRequest,
  type ScriptedTarget,
  type TestDeliveryContext,
} from './support/deliveryHarness';

describe('attempt headers', () => {
  let context: TestDeliveryContext;
  let target: ScriptedTarget;

  beforeEach(async () => {
    context = createDeliveryContext();
    target = await startScriptedTarget(respondWith(200));
  });

  afterEach(async () => {
    await target.close();
    await context.close();
  });

  async function sentHeaders(destinationOverrides: Record<string, unknown>, requestOverrides: Parameters<typeof deliveryRequest>[1] = {}): Promise<ReceivedRequest['headers']> {
    const destination = destinationOf({ url: `${target.url}/orders`, ...destinationOverrides });
    await deliverOnce(deliveryRequest(destination, requestOverrides), context);
    return target.requests[target.requests.length - 1].headers;
  }

  test('idempotency key and attempt number are sent', async () => {
    const headers = await sentHeaders({}, { attemptNumber: 3 });

    expect(headers['idempotency-key']).toBe(`${testMessageId}:erp`);
    expect(headers['x-delivery-attempt']).toBe('3');
  });

  test('content type is the stored one', async () => {
    const headers = await sentHeaders({}, { contentType: 'application/x-ndjson' });

    expect(headers['content-type']).toBe('application/x-ndjson');
  });

  test('partner trace id is kept', async () => {
    const traceparent = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';

    const headers = await sentHeaders({}, { traceparent });

    expect(String(headers.traceparent).split('-')[1]).toBe('4bf92f3577b34da6a3ce929d0e0e4736');
  });

  test('attempt is a child span of the partner trace', async () => {
    const traceparent = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';

    const headers = await sentHeaders({}, { traceparent });

    expect(String(headers.traceparent).split('-')[2]).not.toBe('00f067aa0ba902b7');
  });

  test('derived traceparent keeps the trace and changes the parent per attempt', async () => {
    const first = String((await sentHeaders({}, { attemptNumber: 1 })).traceparent);
    const second = String((await sentHeaders({}, { attemptNumber: 2 })).traceparent);

    expect(isValidTraceparent(first)).toBe(true);
    expect(second.split('-')[1]).toBe(first.split('-')[1]);
    expect(second.split('-')[2]).not.toBe(first.split('-')[2]);
  });

  test('invalid given traceparent is replaced', async () => {
    const headers = await sentHeaders({}, { traceparent: '00-00000000000000000000000000000000-00f067aa0ba902b7-01' });

    expect(isValidTraceparent(String(headers.traceparent))).toBe(true);
  });

  test('static headers are sent', async () => {
    const headers = await sentHeaders({ headers: { 'X-Tenant': 'north' } });

    expect(headers['x-tenant']).toBe('north');
  });

  test('static header cannot replace the idempotency key', async () => {
    const headers = await sentHeaders({ headers: { 'Idempotency-Key': 'other' } });

    expect(headers['idempotency-key']).toBe(`${testMessageId}:erp`);
  });

  test('only listed partner headers are forwarded', async () => {
    const headers = await sentHeaders(
      { forwardHeaders: ['x-correlation-id'] },
      { forwardedHeaders: { 'x-correlation-id': 'corr-7', 'x-partner-secret': 'not for the target' } },
    );

    expect(headers['x-correlation-id']).toBe('corr-7');
    expect(headers['x-partner-secret']).toBeUndefined();
  });

  test('connection headers are never forwarded', async () => {
    const headers = await sentHeaders({ forwardHeaders: ['connection', 'x-region'] }, { forwardedHeaders: { connection: 'close', 'x-region': 'eu' } });

    expect(headers['x-region']).toBe('eu');
    expect(headers.connection).toBe('keep-alive');
  });
});

describe('ingest keeps forwarded headers', () => {
  let dependencies: TestDependencies;

  beforeEach(() => {
    const connector = ordersConnector();
    connector.destinations[0].forwardHeaders = ['X-Correlation-Id'];
    dependencies = createTestDependencies([connector]);
  });

  afterEach(() => {
    dependencies.dispose();
  });

  function partnerRequest(headers: Record<string, string>): HttpRequest {
    const body = Buffer.from(JSON.stringify({ orderId: '123', status: 'paid', updatedAt: '2024-05-01T09:00:00Z' }));
    return new HttpRequest({
      method: 'POST',
      url: 'http://127.0.0.1:7071/api/connectors/orders/messages',
      body: { bytes: body },
      headers: { 'content-type': 'application/json', 'x-signature': signHmacSha256(body, testSecret), 'webhook-id': 'evt-forward', ...headers },
      params: { connectorId: 'orders' },
    });
  }

  function recordingStarter(): { inputs: unknown[]; startNew: (name: string, options: { instanceId: string; input: unknown }) => Promise<string>; getStatus: () => Promise<undefined> } {
    const inputs: unknown[] = [];
    return {
      inputs,
      startNew: async (_name, options) => {
        inputs.push(options.input);
        return options.instanceId;
      },
      getStatus: async () => undefined,
    };
  }

  test('listed request headers are stored with the message', async () => {
    await ingestMessage(partnerRequest({ 'x-correlation-id': 'corr-42', 'x-other': 'kept back' }), recordingStarter(), dependencies);

    const message = await dependencies.trackingStore.getMessage(createMessageId('orders', 'evt-forward'));
    expect(message?.forwardedHeaders).toEqual({ 'x-correlation-id': 'corr-42' });
  });

  test('partner traceparent becomes the message trace', async () => {
    const starter = recordingStarter();
    const traceparent = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';

    await ingestMessage(partnerRequest({ traceparent }), starter, dependencies);

    expect(starter.inputs[0]).toMatchObject({ traceparent });
  });

  test('malformed partner traceparent is not kept', async () => {
    const starter = recordingStarter();

    await ingestMessage(partnerRequest({ traceparent: 'not-a-trace' }), starter, dependencies);

    expect(starter.inputs[0]).not.toHaveProperty('traceparent');
  });
});
