import path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { HostProcess } from '../helpers/hostProcess';
import { readAuditSteps, readDelivery, readMessageRow, startScriptedTarget, type ScriptedTarget } from './deliverySupport';
import { createTempFolder, jsonBytes, removeTempFolders, sendMessage, startConnectorHost, waitForTerminalStatus, writeConnectorsFile } from './support';

/**
 * Delivers messages through the local host to a scripted loopback target and checks how many
 * attempts each answer class gets, and what the tracking tables and the audit trail record.
 * Retries use `jitter: 'none'`, so waits are exact.
 */

const noJitter = { jitter: 'none' };

let target: ScriptedTarget;
let host: HostProcess;
let dataDir: string;

beforeAll(async () => {
  target = await startScriptedTarget();
  target.answer('/flaky', (_request, index) => ({ status: index < 2 ? 503 : 200 }));
  target.answer('/rejecting', () => ({ status: 400 }));
  target.answer('/broken', () => ({ status: 500 }));
  target.answer('/slow', () => ({ status: 503 }));
  target.answer('/retry-after', (_request, index) => (index === 0 ? { status: 429, headers: { 'retry-after': '1' } } : { status: 200 }));
  target.answer('/retry-after-long', (_request, index) => (index === 0 ? { status: 503, headers: { 'retry-after': '3600' } } : { status: 200 }));
  target.answer('/good', () => ({ status: 200 }));

  const folder = createTempFolder('e2e-retries-');
  dataDir = path.join(folder, 'data');
  const connectorsFile = writeConnectorsFile(folder, target.url, [
    { id: 'flaky', destinations: [{ id: 'crm', path: '/flaky', maxAttempts: 5, retry: noJitter }] },
    { id: 'rejecting', destinations: [{ id: 'crm', path: '/rejecting', maxAttempts: 5, retry: noJitter }] },
    // Two tests dead-letter here, which would open a breaker with the default threshold of 5.
    { id: 'broken', destinations: [{ id: 'billing', path: '/broken', maxAttempts: 3, retry: noJitter, circuitBreaker: { failureThreshold: 100 } }] },
    {
      id: 'slow',
      destinations: [
        { id: 'erp', path: '/slow', maxAttempts: 10, retry: { ...noJitter, firstIntervalInMilliseconds: 500, maxIntervalInMilliseconds: 500, totalDeadlineInMilliseconds: 1500 } },
      ],
    },
    {
      id: 'honoured',
      destinations: [{ id: 'erp', path: '/retry-after', retry: { ...noJitter, minRetryAfterInMilliseconds: 0, maxRetryAfterInMilliseconds: 5000 } }],
    },
    {
      id: 'clamped',
      destinations: [{ id: 'erp', path: '/retry-after-long', retry: { ...noJitter, minRetryAfterInMilliseconds: 0, maxRetryAfterInMilliseconds: 300 } }],
    },
    {
      id: 'split',
      destinations: [
        { id: 'good', path: '/good', retry: noJitter },
        { id: 'bad', path: '/rejecting', retry: noJitter },
      ],
    },
  ]);
  // Lifecycle events go to the log instead of the host's topic, so that a test can read them there.
  host = await startConnectorHost(connectorsFile, dataDir, { EVENT_GRID_TOPIC_ENDPOINT: 'none' });
});

afterAll(async () => {
  await host?.stop();
  await target?.close();
  removeTempFolders();
});

async function deliver(connectorId: string): Promise<{ messageId: string; runtimeStatus: string | null }> {
  const messageId = await sendMessage(host.baseUrl, connectorId, jsonBytes({ id: connectorId }));
  const status = await waitForTerminalStatus(host.baseUrl, messageId);
  return { messageId, runtimeStatus: status.runtimeStatus };
}

describe('answer classes', () => {
  test('retryable answers then success is delivered', async () => {
    const { messageId, runtimeStatus } = await deliver('flaky');

    expect(runtimeStatus).toBe('Completed');
    expect(target.requestsTo('/flaky')).toHaveLength(3);
    expect(readDelivery(dataDir, messageId, 'crm')).toMatchObject({ outcome: 'delivered', attempts: 3, status_code: 200 });
    expect(readMessageRow(dataDir, messageId)?.outcome).toBe('delivered');
  });

  test('delivery stops at a permanent answer', async () => {
    const { messageId, runtimeStatus } = await deliver('rejecting');

    expect(runtimeStatus).toBe('Failed');
    expect(target.requestsTo('/rejecting')).toHaveLength(1);
    expect(readDelivery(dataDir, messageId, 'crm')).toMatchObject({ outcome: 'deadLettered', attempts: 1, status_code: 400 });
    expect(readDelivery(dataDir, messageId, 'crm')?.reason).toContain('permanent failure after 1 attempt. Last failure: HTTP 400');
  });

  test('exhausted attempts dead-letter the message', async () => {
    const { messageId, runtimeStatus } = await deliver('broken');
    const message = readMessageRow(dataDir, messageId);
    const deadLetter = readAuditSteps(dataDir, messageId).find((entry) => entry.step === 'deadLettered');

    expect(runtimeStatus).toBe('Failed');
    expect(target.requestsTo('/broken')).toHaveLength(3);
    expect(readDelivery(dataDir, messageId, 'billing')?.reason).toContain('maxAttempts (3) after 3 attempts. Last failure: HTTP 500');
    expect(message?.outcome).toBe('deadLettered');
    expect(message?.outcome_reason).toContain('destination billing: maxAttempts (3)');
    expect(deadLetter?.key).toBe('billing');
    expect(deadLetter?.detail.reason).toContain('maxAttempts (3)');
  });

  test('lifecycle events name the dead letter', async () => {
    const { messageId } = await deliver('broken');
    const events = host.logEntries().filter((entry) => entry.msg === 'lifecycle event' && entry.messageId === messageId);

    expect(events.map((event) => event.eventType)).toEqual(['message.received', 'message.deadlettered']);
    expect(events[1].destinationId).toBe('billing');
    expect(String(events[1].reason)).toContain('maxAttempts (3)');
  });

  test('configuration version is recorded', async () => {
    const { messageId } = await deliver('flaky');

    expect(readMessageRow(dataDir, messageId)?.configuration_version).toMatch(/^[0-9a-f]{64}$/);
  });
});

describe('schedule', () => {
  test('deadline stops the retries', async () => {
    const { messageId, runtimeStatus } = await deliver('slow');

    // Attempts start at about 0, 500 and 1000 ms; the next one would start after the 1500 ms deadline.
    expect(runtimeStatus).toBe('Failed');
    expect(target.requestsTo('/slow')).toHaveLength(3);
    expect(readDelivery(dataDir, messageId, 'erp')?.reason).toMatch(/^deadline after 3 attempts/);
  });

  test('Retry-After is honoured', async () => {
    await deliver('honoured');
    const [first, second] = target.requestsTo('/retry-after');

    expect(second.receivedAt - first.receivedAt).toBeGreaterThanOrEqual(1000);
  });

  test('Retry-After is clamped to the maximum', async () => {
    await deliver('clamped');
    const [first, second] = target.requestsTo('/retry-after-long');

    expect(second.receivedAt - first.receivedAt).toBeGreaterThanOrEqual(300);
    expect(second.receivedAt - first.receivedAt).toBeLessThan(3000);
  });
});

test('dead letter of one destination lets the other complete', async () => {
  const { messageId, runtimeStatus } = await deliver('split');
  const message = readMessageRow(dataDir, messageId);

  expect(runtimeStatus).toBe('Failed');
  expect(readDelivery(dataDir, messageId, 'good')?.outcome).toBe('delivered');
  expect(readDelivery(dataDir, messageId, 'bad')?.outcome).toBe('deadLettered');
  expect(message?.outcome).toBe('deadLettered');
  expect(message?.outcome_reason).toContain('dead-lettered for 1 of 2 destinations. destination bad:');
});
