import { HttpRequest, type HttpResponseInit } from '@azure/functions';
import { afterEach, describe, expect, test } from 'vitest';
import { parseConnectors } from '../../../lib/config/loadConnectors';
import type { OrchestrationStarter } from '../../../lib/ingest/acceptMessage';
import { signHmacSha256 } from '../support/signHmacSha256';
import { ingestMessage } from '../../../triggers/ingest';
import { createRecordingStarter } from '../support/recordingStarter';
import { createTestDependencies, ordersConnector, testNow, testSecret, type TestDependencies } from '../support/testDependencies';

const body = Buffer.from(JSON.stringify({ orderId: '123', status: 'paid', updatedAt: '2024-05-01T09:00:00Z' }));

function signedRequest(dedupKey: string, signature: string = signHmacSha256(body, testSecret)): HttpRequest {
  return new HttpRequest({
    method: 'POST',
    url: 'http://127.0.0.1:7071/api/connectors/orders/messages',
    body: { bytes: body },
    headers: { 'content-type': 'application/json', 'x-signature': signature, 'webhook-id': dedupKey },
    params: { connectorId: 'orders' },
  });
}

function headerOf(response: HttpResponseInit, name: string): string | undefined {
  return (response.headers as Record<string, string> | undefined)?.[name];
}

function problemOf(response: HttpResponseInit): Record<string, unknown> {
  return JSON.parse(response.body as string) as Record<string, unknown>;
}

/** Builds dependencies whose `orders` connector has the given `inbound` fields and whose clock `advance` moves. */
function createLimitedDependencies(inbound: Record<string, unknown>): TestDependencies & { advance(milliseconds: number): void } {
  const connector = ordersConnector();
  connector.inbound = { ...connector.inbound, ...inbound };
  const dependencies = createTestDependencies([connector]);
  let nowInMilliseconds = testNow.getTime();
  return Object.assign(dependencies, {
    clock: () => new Date(nowInMilliseconds),
    advance: (milliseconds: number) => {
      nowInMilliseconds += milliseconds;
    },
  });
}

describe('ingest rate limit', () => {
  let dependencies: ReturnType<typeof createLimitedDependencies> | undefined;

  afterEach(() => {
    dependencies?.dispose();
    dependencies = undefined;
  });

  test('admits burst then rejects with 429', async () => {
    dependencies = createLimitedDependencies({ rateLimit: { requestsPerSecond: 1, burst: 2 } });
    const starter = createRecordingStarter();

    const statuses: Array<number | undefined> = [];
    for (const dedupKey of ['evt-1', 'evt-2', 'evt-3']) {
      statuses.push((await ingestMessage(signedRequest(dedupKey), starter, dependencies)).status);
    }

    expect(statuses).toEqual([202, 202, 429]);
    expect(starter.starts).toHaveLength(2);
  });

  test('429 carries retry after and problem json', async () => {
    dependencies = createLimitedDependencies({ rateLimit: { requestsPerSecond: 0.5, burst: 1 } });
    const starter = createRecordingStarter();
    await ingestMessage(signedRequest('evt-1'), starter, dependencies);

    const response = await ingestMessage(signedRequest('evt-2'), starter, dependencies);

    expect(headerOf(response, 'Retry-After')).toBe('2');
    expect(headerOf(response, 'Content-Type')).toBe('application/problem+json');
    expect(problemOf(response).type).toBe('urn:api-data-connector:problem:rate-limited');
    expect(problemOf(response).detail).toBe('Connector "orders" accepts 0.5 requests per second with a burst of 1. Send this request again after 2 s.');
  });

  test('rate limit applies before authentication', async () => {
    dependencies = createLimitedDependencies({ rateLimit: { requestsPerSecond: 1, burst: 1 } });
    const starter = createRecordingStarter();
    await ingestMessage(signedRequest('evt-1'), starter, dependencies);

    const response = await ingestMessage(signedRequest('evt-2', 'sha256=00'), starter, dependencies);

    expect(response.status).toBe(429);
  });

  test('rate limit admits again after refill', async () => {
    dependencies = createLimitedDependencies({ rateLimit: { requestsPerSecond: 1, burst: 1 } });
    const starter = createRecordingStarter();
    await ingestMessage(signedRequest('evt-1'), starter, dependencies);
    dependencies.advance(1_000);

    const response = await ingestMessage(signedRequest('evt-2'), starter, dependencies);

    expect(response.status).toBe(202);
  });

  test('connector without rate limit is not limited', async () => {
    dependencies = createLimitedDependencies({});
    const starter = createRecordingStarter();

    const statuses: Array<number | undefined> = [];
    for (let index = 0; index < 20; index += 1) {
      statuses.push((await ingestMessage(signedRequest(`evt-${index}`), starter, dependencies)).status);
    }

    expect(statuses.every((status) => status === 202)).toBe(true);
  });
});

/** Creates a starter whose `startNew` waits until `finish` is called, so requests stay in progress. */
function createBlockingStarter(): OrchestrationStarter & { finish(): void; started: Promise<void> } {
  const recording = createRecordingStarter();
  let finish: () => void = () => undefined;
  let markStarted: () => void = () => undefined;
  const finished = new Promise<void>((resolve) => {
    finish = resolve;
  });
  const started = new Promise<void>((resolve) => {
    markStarted = resolve;
  });
  return {
    getStatus: recording.getStatus,
    async startNew(name, options) {
      markStarted();
      await finished;
      return recording.startNew(name, options);
    },
    finish: () => finish(),
    started,
  };
}

describe('ingest concurrent request limit', () => {
  let dependencies: ReturnType<typeof createLimitedDependencies> | undefined;

  afterEach(() => {
    dependencies?.dispose();
    dependencies = undefined;
  });

  test('rejects request over limit with 503', async () => {
    dependencies = createLimitedDependencies({ maxConcurrentRequests: 1 });
    const starter = createBlockingStarter();
    const first = ingestMessage(signedRequest('evt-1'), starter, dependencies);
    await starter.started;

    const second = await ingestMessage(signedRequest('evt-2'), starter, dependencies);
    starter.finish();

    expect(second.status).toBe(503);
    expect(headerOf(second, 'Retry-After')).toBe('1');
    expect(problemOf(second).type).toBe('urn:api-data-connector:problem:too-many-concurrent-requests');
    expect((await first).status).toBe(202);
  });

  test('finished request frees its slot', async () => {
    dependencies = createLimitedDependencies({ maxConcurrentRequests: 1 });
    const starter = createRecordingStarter();
    await ingestMessage(signedRequest('evt-1'), starter, dependencies);

    const response = await ingestMessage(signedRequest('evt-2'), starter, dependencies);

    expect(response.status).toBe(202);
  });

  test('rejected request frees its slot', async () => {
    dependencies = createLimitedDependencies({ maxConcurrentRequests: 1 });
    const starter = createRecordingStarter();
    await ingestMessage(signedRequest('evt-1', 'sha256=00'), starter, dependencies);

    const response = await ingestMessage(signedRequest('evt-2'), starter, dependencies);

    expect(response.status).toBe(202);
  });
});

describe('inbound limit configuration', () => {
  test('maxConcurrentRequests defaults to 64', () => {
    const connectors = parseConnectors(JSON.stringify({ connectors: [ordersConnector()] }), 'connectors.json');

    expect(connectors.list[0].inbound.maxConcurrentRequests).toBe(64);
  });

  test('rate limit without burst is rejected', () => {
    const connector = ordersConnector();
    connector.inbound.rateLimit = { requestsPerSecond: 5 };

    expect(() => parseConnectors(JSON.stringify({ connectors: [connector] }), 'connectors.json')).toThrow(/burst/);
  });

  test('zero requests per second is rejected', () => {
    const connector = ordersConnector();
    connector.inbound.rateLimit = { requestsPerSecond: 0, burst: 1 };

    expect(() => parseConnectors(JSON.stringify({ connectors: [connector] }), 'connectors.json')).toThrow(/requestsPerSecond/);
  });
});
