import { HttpRequest } from '@azure/functions';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { signStandardWebhook } from '../../../lib/auth/verifyStandardWebhook';
import { decodeStandardWebhooksSecret } from '../../../lib/auth/schemeSecrets';
import { createMessageId } from '../../../lib/ids';
import { ingestMessage, type OrchestrationStarter } from '../../../triggers/ingest';
import { createTestDependencies, ordersConnector, testNow, type TestDependencies } from '../support/testDependencies';

const webhookSecret = `whsec_${Buffer.from('unit-test-webhook-key-24b').toString('base64')}`;
const body = Buffer.from(JSON.stringify({ orderId: '123', status: 'paid', updatedAt: '2024-05-01T09:00:00Z' }));

/** Returns a starter that records the instance ids it starts. */
function createStarter(): OrchestrationStarter & { instanceIds: string[] } {
  const instanceIds: string[] = [];
  return {
    instanceIds,
    async startNew(_name, options) {
      instanceIds.push(options.instanceId);
      return options.instanceId;
    },
    async getStatus(instanceId) {
      throw new Error(`Durable Functions extension replied with HTTP 404 response for ${instanceId}.`);
    },
  };
}

function webhookRequest(id: string): HttpRequest {
  const timestamp = Math.floor(testNow.getTime() / 1000);
  return new HttpRequest({
    method: 'POST',
    url: 'http://127.0.0.1:7071/api/connectors/orders/messages',
    body: { bytes: body },
    headers: {
      'content-type': 'application/json',
      'x-client-ip': '127.0.0.1',
      'webhook-id': id,
      'webhook-timestamp': String(timestamp),
      'webhook-signature': signStandardWebhook(decodeStandardWebhooksSecret(webhookSecret)!, id, timestamp, body),
    },
    params: { connectorId: 'orders' },
  });
}

describe('standard-webhooks replay', () => {
  let dependencies: TestDependencies;

  beforeEach(() => {
    const connector = ordersConnector();
    connector.inbound.auth = { type: 'standard-webhooks', secretRef: 'ORDERS_WEBHOOK_SECRET' };
    delete connector.dedupKey;
    dependencies = createTestDependencies([connector]);
    dependencies.readSecret = (secretRef) => (secretRef === 'ORDERS_WEBHOOK_SECRET' ? webhookSecret : undefined);
  });

  afterEach(() => {
    dependencies.dispose();
  });

  test('replay gets 200 with the same message id', async () => {
    const starter = createStarter();

    const first = await ingestMessage(webhookRequest('msg_1'), starter, dependencies);
    const replay = await ingestMessage(webhookRequest('msg_1'), starter, dependencies);

    expect(first.status).toBe(202);
    expect(replay.status).toBe(200);
    expect(JSON.parse(String(replay.body))).toEqual({ messageId: createMessageId('orders', 'msg_1') });
    expect(starter.instanceIds).toEqual([createMessageId('orders', 'msg_1')]);
  });

  test('another webhook-id is a new message', async () => {
    const starter = createStarter();

    await ingestMessage(webhookRequest('msg_1'), starter, dependencies);
    const second = await ingestMessage(webhookRequest('msg_2'), starter, dependencies);

    expect(second.status).toBe(202);
    expect(starter.instanceIds).toHaveLength(2);
  });
});
