import crypto from 'node:crypto';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { deliverOnce } from '../../../lib/delivery/deliverOnce';
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

const signingKey = Buffer.from('outbound signing key of 32 bytes');
const signingSecret = `whsec_${signingKey.toString('base64')}`;

/** Verifies a request the way a Standard Webhooks receiver does, with its own HMAC computation. */
function hasValidSignature(request: ReceivedRequest): boolean {
  const id = request.headers['webhook-id'];
  const timestamp = request.headers['webhook-timestamp'];
  const expected = crypto.createHmac('sha256', signingKey).update(`${id}.${timestamp}.${request.body.toString()}`).digest('base64');
  return String(request.headers['webhook-signature']).split(' ').includes(`v1,${expected}`);
}

describe('Standard Webhooks signing', () => {
  let context: TestDeliveryContext;
  let target: ScriptedTarget | undefined;

  beforeEach(() => {
    context = createDeliveryContext({ ERP_SIGNING_SECRET: signingSecret });
  });

  afterEach(async () => {
    await target?.close();
    target = undefined;
    await context.close();
  });

  async function signedDestination(handler = respondWith(200)) {
    target = await startScriptedTarget(handler);
    return destinationOf({ url: `${target.url}/orders`, signing: { type: 'standard-webhooks', secretRef: 'ERP_SIGNING_SECRET' } });
  }

  test('target verifies the signature', async () => {
    const destination = await signedDestination();

    await deliverOnce(deliveryRequest(destination), context);

    const request = target?.requests[0] as ReceivedRequest;
    expect(hasValidSignature(request)).toBe(true);
    expect(request.headers['webhook-id']).toBe(`${testMessageId}:erp`);
    expect(request.headers['webhook-timestamp']).toBe(String(Math.floor(context.now.getTime() / 1000)));
  });

  test('next attempt is signed with a new timestamp', async () => {
    const destination = await signedDestination();

    await deliverOnce(deliveryRequest(destination, { attemptNumber: 1 }), context);
    context.now = new Date(context.now.getTime() + 5_000);
    await deliverOnce(deliveryRequest(destination, { attemptNumber: 2 }), context);

    const [first, second] = target?.requests ?? [];
    expect(Number(second.headers['webhook-timestamp']) - Number(first.headers['webhook-timestamp'])).toBe(5);
    expect(second.headers['webhook-signature']).not.toBe(first.headers['webhook-signature']);
    expect(hasValidSignature(second)).toBe(true);
  });

  test('each redirect hop is signed', async () => {
    const destination = await signedDestination((request, response) => {
      response.writeHead(request.path === '/final' ? 200 : 308, { location: '/final' });
      response.end();
    });

    const result = await deliverOnce(deliveryRequest(destination), context);

    expect(result.outcome).toBe('delivered');
    expect(target?.requests).toHaveLength(2);
    expect(hasValidSignature(target?.requests[1] as ReceivedRequest)).toBe(true);
  });

  test('invalid signing secret is retryable and names the setting', async () => {
    context.secrets.ERP_SIGNING_SECRET = 'whsec_not base64!';
    const destination = await signedDestination();

    const result = await deliverOnce(deliveryRequest(destination), context);

    expect(result.outcome).toBe('retryable');
    expect(result.error).toBe(
      'setting ERP_SIGNING_SECRET, named by signing.secretRef of destination erp, is not a Standard Webhooks secret. Set it to "whsec_" followed by the base64 key',
    );
    expect(target?.requests).toHaveLength(0);
  });
});
