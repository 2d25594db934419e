import { HttpRequest, type HttpResponseInit } from '@azure/functions';
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { createMessageId } from '../../lib/ids';
import { signHmacSha256 } from './support/signHmacSha256';
import { ingestMessage, isJsonContentType, type OrchestrationStarter } from '../../triggers/ingest';
import { createTestDependencies, testNow, testSecret, type TestDependencies } from './support/testDependencies';

interface StartCall {
  name: string;
  instanceId: string;
  input: any;
}

/** Creates a starter that records startNew calls. getStatus reports `existingInstanceIds` as running and others as not found. */
function createStarter(options: { failStart?: boolean; existingInstanceIds?: string[] } = {}): OrchestrationStarter & { starts: StartCall[] } {
  const starts: StartCall[] = [];
  return {
    starts,
    async startNew(name, startOptions) {
      if (options.failStart) {
        throw new Error('the durable client could not reach the host');
      }
      starts.push({ name, instanceId: startOptions.instanceId, input: startOptions.input });
      return startOptions.instanceId;
    },
    async getStatus(instanceId) {
      if (options.existingInstanceIds?.includes(instanceId)) {
        return { runtimeStatus: 'Running' };
      }
      throw new Error(`DurableClient error: Durable Functions extension replied with HTTP 404 response for ${instanceId}.`);
    },
  };
}

const body = Buffer.from(JSON.stringify({ orderId: '123', status: 'paid', updatedAt: '2024-05-01T09:00:00Z' }));

function signedRequest(options: { bytes?: Buffer; headers?: Record<string, string>; connectorId?: string } = {}): HttpRequest {
  const bytes = options.bytes ?? body;
  return new HttpRequest({
    method: 'POST',
    url: `http://127.0.0.1:7071/api/connectors/${options.connectorId ?? 'orders'}/messages`,
    body: { bytes },
    headers: {
      'content-type': 'application/json',
      'x-signature': signHmacSha256(bytes, testSecret),
      'webhook-id': 'evt-1',
      ...options.headers,
    },
    params: { connectorId: options.connectorId ?? 'orders' },
  });
}

function problemOf(response: HttpResponseInit): Record<string, unknown> {
  return JSON.parse(response.body as string) as Record<string, unknown>;
}

function headerOf(response: HttpResponseInit, name: string): string | undefined {
  return (response.headers as Record<string, string>)[name];
}

describe('ingestMessage', () => {
  let dependencies: TestDependencies;
  const messageId = createMessageId('orders', 'evt-1');

  beforeEach(() => {
    dependencies = createTestDependencies();
  });

  afterEach(() => {
    dependencies.dispose();
  });

  async function expectNothingStored(starter: { starts: StartCall[] }): Promise<void> {
    expect(await dependencies.trackingStore.getMessage(messageId)).toBeUndefined();
    expect(await dependencies.payloadStore.exists(`raw/orders/${messageId}`)).toBe(false);
    expect(starter.starts).toHaveLength(0);
  }

  describe('accepts', () => {
    test('valid message gets 202 with message id', async () => {
      const response = await ingestMessage(signedRequest(), createStarter(), dependencies);

      expect(response.status).toBe(202);
      expect(JSON.parse(response.body as string)).toEqual({ messageId });
      expect(headerOf(response, 'Location')).toBe(`/api/messages/${messageId}`);
    });

    test('stores the raw bytes', async () => {
      await ingestMessage(signedRequest(), createStarter(), dependencies);

      const stored = await dependencies.payloadStore.get(`raw/orders/${messageId}`);
      expect(stored?.bytes.equals(body)).toBe(true);
      expect(stored?.contentType).toBe('application/json');
    });

    test('starts processMessage with the message id', async () => {
      const starter = createStarter();

      await ingestMessage(signedRequest(), starter, dependencies);

      expect(starter.starts).toHaveLength(1);
      expect(starter.starts[0].name).toBe('processMessage');
      expect(starter.starts[0].instanceId).toBe(messageId);
      expect(starter.starts[0].input).toMatchObject({
        messageId,
        connectorId: 'orders',
        rawBlobName: `raw/orders/${messageId}`,
        receivedAt: testNow.toISOString(),
        sizeInBytes: body.byteLength,
      });
    });

    test('marks the message accepted', async () => {
      await ingestMessage(signedRequest(), createStarter(), dependencies);

      expect(await dependencies.trackingStore.getMessage(messageId)).toMatchObject({ claimState: 'accepted', sizeInBytes: body.byteLength });
    });

    test('response carries no key or management URL', async () => {
      const response = await ingestMessage(signedRequest(), createStarter(), dependencies);

      expect(response.body).not.toContain('code=');
      expect(response.body).not.toContain('runtime/webhooks');
    });

    test('+json content type with charset is accepted', async () => {
      const response = await ingestMessage(signedRequest({ headers: { 'content-type': 'application/vnd.orders+json; charset=utf-8' } }), createStarter(), dependencies);

      expect(response.status).toBe(202);
    });
  });

  describe('duplicates', () => {
    test('duplicate of accepted message gets 200', async () => {
      const starter = createStarter();
      await ingestMessage(signedRequest(), starter, dependencies);

      const response = await ingestMessage(signedRequest(), starter, dependencies);

      expect(response.status).toBe(200);
      expect(JSON.parse(response.body as string)).toEqual({ messageId });
      expect(starter.starts).toHaveLength(1);
    });

    test('dedup key past the window is new', async () => {
      const starter = createStarter();
      await ingestMessage(signedRequest(), starter, dependencies);
      const windowInMilliseconds = dependencies.settings.dedupWindowInDays * 24 * 60 * 60 * 1000;
      const later = new Date(testNow.getTime() + windowInMilliseconds + 120_000);
      dependencies.clock = () => later;

      const response = await ingestMessage(signedRequest(), starter, dependencies);

      expect(response.status).toBe(202);
      expect(starter.starts).toHaveLength(2);
    });

    test('request without dedup key is always new', async () => {
      const starter = createStarter();
      const request = (): HttpRequest => {
        const withoutKey = signedRequest();
        withoutKey.headers.delete('webhook-id');
        return withoutKey;
      };

      const first = await ingestMessage(request(), starter, dependencies);
      const second = await ingestMessage(request(), starter, dependencies);

      expect(first.status).toBe(202);
      expect(second.status).toBe(202);
      expect(starter.starts[0].instanceId).not.toBe(starter.starts[1].instanceId);
    });

    test('concurrent duplicate waits until accepted', async () => {
      const claim = await dependencies.trackingStore.claimMessage({ messageId, connectorId: 'orders', claimToken: 'first-request', now: testNow });
      expect(claim.status).toBe('claimed');
      const acceptLater = setTimeout(() => {
        void dependencies.trackingStore.markAccepted(messageId, 'first-request', { rawBlobName: 'raw/orders/x', sizeInBytes: 1, sha256: 'a'.repeat(64), contentType: 'application/json' });
      }, 300);

      const starter = createStarter();
      const response = await ingestMessage(signedRequest(), starter, dependencies);
      clearTimeout(acceptLater);

      expect(response.status).toBe(200);
      expect(starter.starts).toHaveLength(0);
    });

    test('concurrent duplicate that never finishes gets 503', async () => {
      await dependencies.trackingStore.claimMessage({ messageId, connectorId: 'orders', claimToken: 'first-request', now: testNow });
      const startedAt = Date.now();

      const response = await ingestMessage(signedRequest(), createStarter(), dependencies);

      expect(response.status).toBe(503);
      expect(headerOf(response, 'Retry-After')).toBe('5');
      expect(Date.now() - startedAt).toBeGreaterThanOrEqual(4500);
    }, 15_000);

    test('abandoned claim is taken over without a second start', async () => {
      const longAgo = new Date(testNow.getTime() - 60_000);
      await dependencies.trackingStore.claimMessage({ messageId, connectorId: 'orders', claimToken: 'crashed-request', now: longAgo });
      const starter = createStarter({ existingInstanceIds: [messageId] });

      const response = await ingestMessage(signedRequest(), starter, dependencies);

      expect(response.status).toBe(202);
      expect(starter.starts).toHaveLength(0);
      expect((await dependencies.trackingStore.getMessage(messageId))?.claimState).toBe('accepted');
    });

    test('abandoned claim without instance starts it', async () => {
      const longAgo = new Date(testNow.getTime() - 60_000);
      await dependencies.trackingStore.claimMessage({ messageId, connectorId: 'orders', claimToken: 'crashed-request', now: longAgo });
      const starter = createStarter();

      const response = await ingestMessage(signedRequest(), starter, dependencies);

      expect(response.status).toBe(202);
      expect(starter.starts).toHaveLength(1);
    });
  });

  describe('rejects', () => {
    test('unknown connector with 404', async () => {
      const starter = createStarter();

      const response = await ingestMessage(signedRequest({ connectorId: 'shipments' }), starter, dependencies);

      expect(response.status).toBe(404);
      expect(headerOf(response, 'Content-Type')).toBe('application/problem+json');
      expect(problemOf(response).detail).toContain('"shipments"');
      expect(starter.starts).toHaveLength(0);
    });

    test('missing signature with 401', async () => {
      const starter = createStarter();
      const request = signedRequest();
      request.headers.delete('x-signature');

      const response = await ingestMessage(request, starter, dependencies);

      expect(response.status).toBe(401);
      expect(problemOf(response).detail).toContain('Header X-Signature is missing');
      await expectNothingStored(starter);
    });

    test('authentication failure is logged once', async () => {
      const lines: Array<Record<string, unknown>> = [];
      dependencies.logger = pino({ level: 'info' }, { write: (line: string) => lines.push(JSON.parse(line) as Record<string, unknown>) });

      await ingestMessage(signedRequest({ headers: { 'x-signature': signHmacSha256(body, 'wrong-secret') } }), createStarter(), dependencies);

      expect(lines.filter((line) => line.status === 401)).toHaveLength(1);
    });

    test('wrong signature with 401 and no secret', async () => {
      const starter = createStarter();

      const response = await ingestMessage(signedRequest({ headers: { 'x-signature': signHmacSha256(body, 'wrong-secret') } }), starter, dependencies);

      expect(response.status).toBe(401);
      expect(response.body).not.toContain(testSecret);
      expect(response.body).not.toContain(signHmacSha256(body, testSecret));
      await expectNothingStored(starter);
    });

    test('body over maxBodyBytes with 413', async () => {
      const starter = createStarter();
      const large = Buffer.from(JSON.stringify({ orderId: '1', filler: 'x'.repeat(2000) }));

      const response = await ingestMessage(signedRequest({ bytes: large }), starter, dependencies);

      expect(response.status).toBe(413);
      expect(problemOf(response).detail).toContain('accepts at most 1024');
      await expectNothingStored(starter);
    });

    test('declared length over maxBodyBytes with 413', async () => {
      const response = await ingestMessage(signedRequest({ headers: { 'content-length': '999999' } }), createStarter(), dependencies);

      expect(response.status).toBe(413);
    });

    test('non-JSON content type with 415', async () => {
      const starter = createStarter();

      const response = await ingestMessage(signedRequest({ headers: { 'content-type': 'text/plain' } }), starter, dependencies);

      expect(response.status).toBe(415);
      expect(problemOf(response).detail).toContain('"text/plain"');
      await expectNothingStored(starter);
    });

    test('unsupported content encoding with 415', async () => {
      const response = await ingestMessage(signedRequest({ headers: { 'content-encoding': 'compress' } }), createStarter(), dependencies);

      expect(response.status).toBe(415);
    });

    test('body that is not the declared gzip with 400', async () => {
      const starter = createStarter();

      const response = await ingestMessage(signedRequest({ headers: { 'content-encoding': 'gzip' } }), starter, dependencies);

      expect(response.status).toBe(400);
      expect(problemOf(response).title).toBe('Invalid encoded body');
      await expectNothingStored(starter);
    });

    test('invalid JSON with 400', async () => {
      const starter = createStarter();

      const response = await ingestMessage(signedRequest({ bytes: Buffer.from('{"orderId": ') }), starter, dependencies);

      expect(response.status).toBe(400);
      expect(problemOf(response).title).toBe('Invalid JSON');
      await expectNothingStored(starter);
    });

    test('missing secret setting with 500', async () => {
      dependencies.readSecret = () => undefined;

      const response = await ingestMessage(signedRequest(), createStarter(), dependencies);

      expect(response.status).toBe(500);
      expect(response.body).not.toContain('ORDERS_HMAC_SECRET');
    });
  });

  describe('failures', () => {
    test('payload store failure releases claim with 503', async () => {
      const starter = createStarter();
      dependencies.payloadStore.put = async () => {
        throw new Error('disk full');
      };

      const response = await ingestMessage(signedRequest(), starter, dependencies);

      expect(response.status).toBe(503);
      expect(await dependencies.trackingStore.getMessage(messageId)).toBeUndefined();
      expect(starter.starts).toHaveLength(0);
    });

    test('start failure releases claim with 503', async () => {
      const response = await ingestMessage(signedRequest(), createStarter({ failStart: true }), dependencies);

      expect(response.status).toBe(503);
      expect(await dependencies.trackingStore.getMessage(messageId)).toBeUndefined();
    });

    test('retry after a failure is accepted', async () => {
      await ingestMessage(signedRequest(), createStarter({ failStart: true }), dependencies);

      const response = await ingestMessage(signedRequest(), createStarter(), dependencies);

      expect(response.status).toBe(202);
    });
  });
});

describe('isJsonContentType', () => {
  test('accepts JSON media types', () => {
    for (const contentType of ['application/json', 'Application/JSON; charset=utf-8', 'application/cloudevents+json', 'application/problem+json']) {
      expect(isJsonContentType(contentType), contentType).toBe(true);
    }
  });

  test('rejects other media types', () => {
    for (const contentType of ['', 'text/json', 'application/jsonp', 'text/plain', 'application/x-www-form-urlencoded', 'application/+json']) {
      expect(isJsonContentType(contentType), contentType).toBe(false);
    }
  });
});
