import path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { HostProcess } from '../helpers/hostProcess';
import {
  readAuditSteps,
  readDelivery,
  sendOperatorRequest,
  startScriptedTarget,
  waitFor,
  type ScriptedTarget,
} from './deliverySupport';
import {
  createTempFolder,
  jsonBytes,
  readStatus,
  removeTempFolders,
  sendMessage,
  startConnectorHost,
  waitForTerminalStatus,
  writeConnectorsFile,
} from './support';

/**
 * Runs the circuit breaker and the 410 Gone handling of destinations on the local host against a
 * scripted loopback target. The breaker destinations make one attempt per message, so each dead
 * letter counts as one failure of their breaker.
 */

let target: ScriptedTarget;
let host: HostProcess;
let dataDir: string;
let breakerTargetIsUp = false;
let goneTargetIsBack = false;

const oneAttempt = { jitter: 'none' };
/** Cool-down of the `recovering` destination, much longer than its 50 ms retry interval. */
const recoveringCoolDownInMilliseconds = 1500;

beforeAll(async () => {
  target = await startScriptedTarget();
  target.answer('/breaker', () => ({ status: breakerTargetIsUp ? 200 : 500 }));
  target.answer('/stuck', () => ({ status: 500 }));
  target.answer('/gone', () => ({ status: goneTargetIsBack ? 200 : 410 }));
  target.answer('/recovering', (_request, index) => ({ status: index < 2 ? 500 : 200 }));

  const folder = createTempFolder('e2e-circuit-');
  dataDir = path.join(folder, 'data');
  const connectorsFile = writeConnectorsFile(folder, target.url, [
    {
      id: 'breaker',
      destinations: [{ id: 'crm', path: '/breaker', maxAttempts: 1, retry: oneAttempt, circuitBreaker: { failureThreshold: 2, coolDownInMilliseconds: 1500 } }],
    },
    {
      id: 'stuck',
      destinations: [
        {
          id: 'erp',
          path: '/stuck',
          maxAttempts: 1,
          retry: { ...oneAttempt, totalDeadlineInMilliseconds: 800 },
          circuitBreaker: { failureThreshold: 2, coolDownInMilliseconds: 60_000 },
        },
      ],
    },
    {
      id: 'recovering',
      destinations: [
        { id: 'crm', path: '/recovering', maxAttempts: 3, retry: oneAttempt, circuitBreaker: { failureThreshold: 2, coolDownInMilliseconds: recoveringCoolDownInMilliseconds } },
      ],
    },
    {
      id: 'gone',
      destinations: [{ id: 'archive', path: '/gone', maxAttempts: 3, retry: oneAttempt, circuitBreaker: { coolDownInMilliseconds: 300 } }],
    },
  ]);
  host = await startConnectorHost(connectorsFile, dataDir);
});

afterAll(async () => {
  await host?.stop();
  await target?.close();
  removeTempFolders();
});

async function send(connectorId: string): Promise<string> {
  return sendMessage(host.baseUrl, connectorId, jsonBytes({ id: `${connectorId}-${Date.now()}` }));
}

async function readDestination(connectorId: string, destinationId: string): Promise<Record<string, unknown> | undefined> {
  const response = await sendOperatorRequest(host.baseUrl, 'GET', '/api/destinations');
  const destinations = response.body.destinations as Array<Record<string, unknown>>;
  return destinations.find((destination) => destination.connectorId === connectorId && destination.destinationId === destinationId);
}

describe('circuit breaker', () => {
  test('opens, probes after the cool-down and closes', async () => {
    for (let index = 0; index < 2; index++) {
      await waitForTerminalStatus(host.baseUrl, await send('breaker'));
    }
    // Deliveries report their attempts with a signal, so the breaker may count the last one just after the message completes.
    await waitFor('the breaker to open', async () => ((await readDestination('breaker', 'crm'))?.circuit === 'open' ? true : undefined));

    const heldMessageId = await send('breaker');
    const held = await waitFor('the delivery to wait for the circuit', () => {
      const delivery = readDelivery(dataDir, heldMessageId, 'crm');
      return delivery?.reason?.startsWith('circuit open until') === true ? delivery : undefined;
    });
    expect(held.outcome).toBe('pending');
    expect(target.requestsTo('/breaker')).toHaveLength(2);

    breakerTargetIsUp = true;
    const status = await waitForTerminalStatus(host.baseUrl, heldMessageId);

    expect(status.runtimeStatus).toBe('Completed');
    expect(target.requestsTo('/breaker')).toHaveLength(3);
    await waitFor('the breaker to close', async () => ((await readDestination('breaker', 'crm'))?.circuit === 'closed' ? true : undefined));
  });

  test('own failed attempts open the breaker before the next attempt', async () => {
    // Each failed attempt is signalled to the breaker, and the delivery's next request for an
    // attempt must reach the breaker after that signal. So the second failure opens the breaker
    // before the third attempt, which waits for the cool-down instead of the 50 ms retry interval.
    const messageId = await send('recovering');
    const status = await waitForTerminalStatus(host.baseUrl, messageId);

    expect(status.runtimeStatus).toBe('Completed');
    const requests = target.requestsTo('/recovering');
    expect(requests).toHaveLength(3);
    expect(requests[2].receivedAt - requests[1].receivedAt).toBeGreaterThanOrEqual(recoveringCoolDownInMilliseconds);
    expect(requests[1].receivedAt - requests[0].receivedAt).toBeLessThan(recoveringCoolDownInMilliseconds);
    expect(readDelivery(dataDir, messageId, 'crm')).toMatchObject({ outcome: 'delivered', attempts: 3 });
    await waitFor('the breaker to close', async () => ((await readDestination('recovering', 'crm'))?.circuit === 'closed' ? true : undefined));
  });

  test('circuit open until the deadline dead-letters', async () => {
    for (let index = 0; index < 2; index++) {
      await waitForTerminalStatus(host.baseUrl, await send('stuck'));
    }

    const messageId = await send('stuck');
    const status = await waitForTerminalStatus(host.baseUrl, messageId);

    expect(status.runtimeStatus).toBe('Failed');
    expect(target.requestsTo('/stuck')).toHaveLength(2);
    expect(readDelivery(dataDir, messageId, 'erp')).toMatchObject({ outcome: 'deadLettered', attempts: 0 });
    expect(readDelivery(dataDir, messageId, 'erp')?.reason).toMatch(/^circuit open after 0 attempts/);
  });
});

describe('410 Gone', () => {
  test('disables the destination until it is enabled', async () => {
    const goneMessageId = await send('gone');
    const gone = await waitForTerminalStatus(host.baseUrl, goneMessageId);
    expect(gone.runtimeStatus).toBe('Failed');
    expect(target.requestsTo('/gone')).toHaveLength(1);
    expect((await readDestination('gone', 'archive'))?.disabled).toBe(true);
    expect(readDelivery(dataDir, goneMessageId, 'archive')?.reason).toBe(
      'permanent failure after 1 attempt. Last failure: HTTP 410 Gone. The destination is disabled until an operator enables it',
    );

    const waitingMessageId = await send('gone');
    await waitFor('the delivery to wait for the disabled destination', () =>
      readDelivery(dataDir, waitingMessageId, 'archive')?.reason === 'destination disabled' ? true : undefined,
    );
    expect((await readStatus(host.baseUrl, waitingMessageId)).runtimeStatus).toBe('Running');
    expect(target.requestsTo('/gone')).toHaveLength(1);

    goneTargetIsBack = true;
    const enable = await sendOperatorRequest(
      host.baseUrl,
      'POST',
      '/api/connectors/gone/destinations/archive/enable',
      JSON.stringify({ reason: 'archive moved back' }),
      { 'x-ms-client-principal-name': 'alice@example.com' },
    );
    expect(enable.status).toBe(202);
    expect(enable.body.operator).toBe('local-operator');

    const delivered = await waitForTerminalStatus(host.baseUrl, waitingMessageId);
    expect(delivered.runtimeStatus).toBe('Completed');
    expect(target.requestsTo('/gone')).toHaveLength(2);
    expect((await readDestination('gone', 'archive'))?.disabled).toBe(false);
  });

  test('enable is listed with the destination', async () => {
    const destination = (await readDestination('gone', 'archive')) as { operatorActions?: Array<Record<string, unknown>> } | undefined;

    expect(destination?.operatorActions).toEqual([
      expect.objectContaining({ step: 'destinationEnabled', operator: 'local-operator', reason: 'archive moved back' }),
    ]);
  });

  test('enable is audited with the operator', async () => {
    const audit = readAuditSteps(dataDir, 'destination:gone|archive');

    expect(audit.map((entry) => entry.step)).toEqual(['destinationEnabled']);
    expect(audit[0].detail).toMatchObject({ operator: 'local-operator', reason: 'archive moved back' });
  });
});

describe('enable endpoint input', () => {
  test('missing reason is rejected', async () => {
    const response = await sendOperatorRequest(host.baseUrl, 'POST', '/api/connectors/gone/destinations/archive/enable', '{}');

    expect(response.status).toBe(400);
    expect(response.contentType).toBe('application/problem+json');
    expect(response.body.type).toBe('urn:api-data-connector:problem:invalid-request-body');
    expect(response.body.detail).toContain('"reason" is missing or empty');
  });

  test('invalid JSON is rejected', async () => {
    const response = await sendOperatorRequest(host.baseUrl, 'POST', '/api/connectors/gone/destinations/archive/enable', 'reason=because');

    expect(response.status).toBe(400);
    expect(response.body.detail).toContain('not valid JSON');
  });

  test('over-long reason is rejected', async () => {
    const response = await sendOperatorRequest(host.baseUrl, 'POST', '/api/connectors/gone/destinations/archive/enable', JSON.stringify({ reason: 'x'.repeat(1001) }));

    expect(response.status).toBe(400);
    expect(response.body.detail).toContain('"reason" has 1001 characters');
  });

  test('unknown connector is rejected', async () => {
    const response = await sendOperatorRequest(host.baseUrl, 'POST', '/api/connectors/nope/destinations/archive/enable', JSON.stringify({ reason: 'test' }));

    expect(response.status).toBe(404);
    expect(response.body.type).toBe('urn:api-data-connector:problem:unknown-connector');
    expect(response.body.detail).toContain('No connector has the id "nope"');
  });

  test('unknown destination is rejected', async () => {
    const response = await sendOperatorRequest(host.baseUrl, 'POST', '/api/connectors/gone/destinations/nowhere/enable', JSON.stringify({ reason: 'test' }));

    expect(response.status).toBe(404);
    expect(response.body.type).toBe('urn:api-data-connector:problem:unknown-destination');
    expect(response.body.detail).toContain('Connector "gone" has no destination "nowhere"');
  });

  test('operator is the name of the host key', async () => {
    const response = await sendOperatorRequest(host.baseUrl, 'POST', '/api/connectors/breaker/destinations/crm/enable', JSON.stringify({ reason: 'check' }));

    expect(response.status).toBe(202);
    expect(response.body.operator).toBe('local-operator');
  });
});
