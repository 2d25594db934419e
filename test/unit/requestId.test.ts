import { Writable } from 'node:stream';
import { HttpRequest, InvocationContext, type HttpResponseInit } from '@azure/functions';
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { handleWithRequestId, resolveRequestId } from '../../lib/http/requestId';
import { signHmacSha256 } from './support/signHmacSha256';
import { listChanges } from '../../triggers/changes';
import { ingestMessage, type OrchestrationStarter } from '../../triggers/ingest';
import { readMessageStatus } from '../../triggers/messageStatus';
import { createTestDependencies, type TestDependencies } from './support/testDependencies';

const invocationId = '6f1c1a52-2b7e-4d8e-9a51-0c3f2f9b7d10';

const starter: OrchestrationStarter = {
  async startNew(_name, options) {
    return options.instanceId;
  },
  async getStatus() {
    return undefined;
  },
};

function ingestRequest(headers: Record<string, string> = {}): HttpRequest {
  const bytes = Buffer.from('{"orderId":"1"}');
  return new HttpRequest({
    method: 'POST',
    url: 'http://127.0.0.1:7071/api/connectors/orders/messages',
    body: { bytes },
    headers: { 'content-type': 'application/json', 'x-signature': signHmacSha256(bytes, 'wrong-secret'), ...headers },
    params: { connectorId: 'orders' },
  });
}

function problemOf(response: HttpResponseInit): Record<string, unknown> {
  return JSON.parse(response.body as string) as Record<string, unknown>;
}

describe('resolveRequestId', () => {
  const context = new InvocationContext({ invocationId });

  test('uses a safe x-request-id', () => {
    expect(resolveRequestId(ingestRequest({ 'x-request-id': 'partner-42.a:b_c' }), context)).toBe('partner-42.a:b_c');
  });

  test('falls back to the invocation id without header', () => {
    expect(resolveRequestId(ingestRequest(), context)).toBe(invocationId);
  });

  test.each([['has space'], ['quote"inside'], ['x'.repeat(129)], ['{"level":"error"}']])('ignores unsafe x-request-id %s', (value) => {
    expect(resolveRequestId(ingestRequest({ 'x-request-id': value }), context)).toBe(invocationId);
  });
});

describe('handleWithRequestId', () => {
  let dependencies: TestDependencies;
  let lines: Record<string, unknown>[];

  beforeEach(() => {
    lines = [];
    const sink = new Writable({
      write(chunk, _encoding, done) {
        lines.push(JSON.parse(String(chunk)) as Record<string, unknown>);
        done();
      },
    });
    dependencies = { ...createTestDependencies(), logger: pino(sink) } as TestDependencies;
  });

  afterEach(() => {
    dependencies.dispose();
  });

  test('ingest rejection carries invocation id', async () => {
    const context = new InvocationContext({ invocationId });

    const response = await handleWithRequestId(ingestRequest(), context, dependencies, (scoped) => ingestMessage(ingestRequest(), starter, scoped));

    expect(response.status).toBe(401);
    expect(problemOf(response).requestId).toBe(invocationId);
  });

  test('ingest rejection log line has the request id', async () => {
    const context = new InvocationContext({ invocationId });
    const request = ingestRequest({ 'x-request-id': 'partner-42' });

    const response = await handleWithRequestId(request, context, dependencies, (scoped) => ingestMessage(request, starter, scoped));

    expect(problemOf(response).requestId).toBe('partner-42');
    const rejection = lines.find((line) => line.msg === 'inbound request failed authentication');
    expect(rejection?.requestId).toBe('partner-42');
  });

  test('unknown connector carries request id', async () => {
    const context = new InvocationContext({ invocationId });
    const request = new HttpRequest({ method: 'POST', url: 'http://127.0.0.1:7071/api/connectors/nope/messages', params: { connectorId: 'nope' } });

    const response = await handleWithRequestId(request, context, dependencies, (scoped) => ingestMessage(request, starter, scoped));

    expect(response.status).toBe(404);
    expect(problemOf(response).requestId).toBe(invocationId);
    expect(lines.find((line) => line.status === 404)?.requestId).toBe(invocationId);
  });

  test('message status 404 is logged with request id', async () => {
    const context = new InvocationContext({ invocationId });
    const request = new HttpRequest({ method: 'GET', url: 'http://127.0.0.1:7071/api/messages/unknown' });

    const response = await handleWithRequestId(request, context, dependencies, (scoped) => readMessageStatus('unknown', starter, scoped), { logRejection: true });

    expect(response.status).toBe(404);
    expect(problemOf(response).requestId).toBe(invocationId);
    const rejection = lines.find((line) => line.msg === 'request rejected');
    expect(rejection?.requestId).toBe(invocationId);
    expect(rejection?.type).toBe('urn:api-data-connector:problem:message-not-found');
  });

  test('invalid changes parameter carries request id', async () => {
    const context = new InvocationContext({ invocationId });
    const request = new HttpRequest({ method: 'GET', url: 'http://127.0.0.1:7071/api/changes?since=abc' });

    const response = await handleWithRequestId(request, context, dependencies, (scoped) => listChanges(request, scoped), { logRejection: true });

    expect(response.status).toBe(400);
    expect(problemOf(response).requestId).toBe(invocationId);
  });

  test('leaves a success body unchanged', async () => {
    const context = new InvocationContext({ invocationId });
    const request = new HttpRequest({ method: 'GET', url: 'http://127.0.0.1:7071/api/changes?since=0' });

    const response = await handleWithRequestId(request, context, dependencies, (scoped) => listChanges(request, scoped));

    expect(response.status).toBe(200);
    expect(JSON.parse(response.body as string)).not.toHaveProperty('requestId');
  });
});
