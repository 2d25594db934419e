import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { deliverOnce } from '../../../lib/delivery/deliverOnce';
import {
  createDeliveryContext,
  deliveryRequest,
  destinationOf,
  respondWith,
  startScriptedTarget,
  type ReceivedRequest,
  type ScriptedTarget,
  type TargetHandler,
  type TestDeliveryContext,
} from './support/deliveryHarness';

const apiSecret = 'outbound-secret-value';
const clientSecret = 'client secret:with/odd+chars';

describe('outbound authentication', () => {
  let context: TestDeliveryContext;
  let target: ScriptedTarget | undefined;

  beforeEach(() => {
    context = createDeliveryContext({ ERP_SECRET: apiSecret, ERP_CLIENT_SECRET: clientSecret });
  });

  afterEach(async () => {
    await target?.close();
    target = undefined;
    await context.close();
  });

  async function deliverWithAuth(auth: Record<string, unknown>, handler: TargetHandler = respondWith(200)) {
    target = await startScriptedTarget(handler);
    const destination = destinationOf({ url: `${target.url}/orders`, auth });
    return deliverOnce(deliveryRequest(destination), context);
  }

  test('bearer sends the secret as token', async () => {
    await deliverWithAuth({ type: 'bearer', secretRef: 'ERP_SECRET' });

    expect(target?.requests[0].headers.authorization).toBe(`Bearer ${apiSecret}`);
  });

  test('api-key sends the secret in its header', async () => {
    await deliverWithAuth({ type: 'api-key', header: 'X-Api-Key', secretRef: 'ERP_SECRET' });

    expect(target?.requests[0].headers['x-api-key']).toBe(apiSecret);
    expect(target?.requests[0].headers.authorization).toBeUndefined();
  });

  test('basic sends username and secret', async () => {
    await deliverWithAuth({ type: 'basic', username: 'connector', secretRef: 'ERP_SECRET' });

    expect(target?.requests[0].headers.authorization).toBe(`Basic ${Buffer.from(`connector:${apiSecret}`).toString('base64')}`);
  });

  test('missing secret setting is retryable and names it', async () => {
    const result = await deliverWithAuth({ type: 'bearer', secretRef: 'ERP_MISSING' });

    expect(result.outcome).toBe('retryable');
    expect(result.error).toBe(
      'setting ERP_MISSING, named by auth.secretRef of destination erp, is not set. Set it in local.settings.json Values or the environment',
    );
    expect(target?.requests).toHaveLength(0);
  });
});

/**
 * Returns a target handler with a token endpoint at /token that issues `token-1`, `token-2`, ...
 * and that accepts at /orders only the tokens in `acceptedTokens`.
 */
function oauthTarget(acceptedTokens: string[], tokenResponse?: (index: number) => { status: number; body: unknown }): TargetHandler {
  let issued = 0;
  return (request, response) => {
    if (request.path === '/token') {
      issued += 1;
      const answer = tokenResponse?.(issued) ?? { status: 200, body: { access_token: `token-${issued}`, token_type: 'Bearer', expires_in: 3600 } };
      response.writeHead(answer.status, { 'content-type': 'application/json' });
      response.end(JSON.stringify(answer.body));
      return;
    }
    const accepted = acceptedTokens.some((token) => request.headers.authorization === `Bearer ${token}`);
    response.writeHead(accepted ? 200 : 401);
    response.end();
  };
}

describe('OAuth 2.0 client credentials', () => {
  let context: TestDeliveryContext;
  let target: ScriptedTarget | undefined;

  beforeEach(() => {
    context = createDeliveryContext({ ERP_CLIENT_SECRET: clientSecret });
  });

  afterEach(async () => {
    await target?.close();
    target = undefined;
    await context.close();
  });

  async function startOAuthTarget(handler: TargetHandler, scope?: string) {
    target = await startScriptedTarget(handler);
    const auth: Record<string, unknown> = { type: 'oauth2-client-credentials', tokenUrl: `${target.url}/token`, clientId: 'connector id', secretRef: 'ERP_CLIENT_SECRET' };
    if (scope !== undefined) {
      auth.scope = scope;
    }
    return destinationOf({ url: `${target.url}/orders`, auth });
  }

  function requestsTo(path: string): ReceivedRequest[] {
    return target?.requests.filter((request) => request.path === path) ?? [];
  }

  test('token request uses the client credentials grant', async () => {
    const destination = await startOAuthTarget(oauthTarget(['token-1']), 'orders.write');

    const result = await deliverOnce(deliveryRequest(destination), context);

    const tokenRequest = requestsTo('/token')[0];
    expect(result.outcome).toBe('delivered');
    expect(tokenRequest.method).toBe('POST');
    expect(tokenRequest.headers['content-type']).toBe('application/x-www-form-urlencoded');
    expect(tokenRequest.body.toString()).toBe('grant_type=client_credentials&scope=orders.write');
    expect(tokenRequest.headers.authorization).toBe(`Basic ${Buffer.from('connector+id:client+secret%3Awith%2Fodd%2Bchars').toString('base64')}`);
    expect(requestsTo('/orders')[0].headers.authorization).toBe('Bearer token-1');
  });

  test('token is cached across attempts', async () => {
    const destination = await startOAuthTarget(oauthTarget(['token-1']));

    await deliverOnce(deliveryRequest(destination, { attemptNumber: 1 }), context);
    const second = await deliverOnce(deliveryRequest(destination, { attemptNumber: 2 }), context);

    expect(second.outcome).toBe('delivered');
    expect(requestsTo('/token')).toHaveLength(1);
    expect(requestsTo('/orders')).toHaveLength(2);
  });

  test('token is fetched again 60 s before it expires', async () => {
    const destination = await startOAuthTarget(oauthTarget(['token-1', 'token-2']));

    await deliverOnce(deliveryRequest(destination), context);
    context.now = new Date(context.now.getTime() + 3_541_000);
    await deliverOnce(deliveryRequest(destination, { attemptNumber: 2 }), context);

    expect(requestsTo('/token')).toHaveLength(2);
    expect(requestsTo('/orders')[1].headers.authorization).toBe('Bearer token-2');
  });

  test('401 renews the token once within the attempt', async () => {
    const destination = await startOAuthTarget(oauthTarget(['token-2']));

    const result = await deliverOnce(deliveryRequest(destination), context);

    expect(result.outcome).toBe('delivered');
    expect(requestsTo('/token')).toHaveLength(2);
    expect(requestsTo('/orders').map((request) => request.headers.authorization)).toEqual(['Bearer token-1', 'Bearer token-2']);
  });

  test('second 401 is permanent', async () => {
    const destination = await startOAuthTarget(oauthTarget([]));

    const result = await deliverOnce(deliveryRequest(destination), context);

    expect(result.outcome).toBe('permanent');
    expect(result.statusCode).toBe(401);
    expect(requestsTo('/token')).toHaveLength(2);
    expect(requestsTo('/orders')).toHaveLength(2);
  });

  test('token endpoint failure is retryable without the secret', async () => {
    const destination = await startOAuthTarget(oauthTarget(['token-1'], () => ({ status: 401, body: { error: 'invalid_client', error_description: clientSecret } })));

    const result = await deliverOnce(deliveryRequest(destination), context);

    expect(result.outcome).toBe('retryable');
    expect(result.error).toBe(`OAuth token request to ${target?.url}/token failed: HTTP 401 with error "invalid_client"`);
    expect(requestsTo('/orders')).toHaveLength(0);
  });

  test('token response without access_token is retryable', async () => {
    const destination = await startOAuthTarget(oauthTarget(['token-1'], () => ({ status: 200, body: { token_type: 'Bearer' } })));

    const result = await deliverOnce(deliveryRequest(destination), context);

    expect(result.outcome).toBe('retryable');
    expect(result.error).toBe(`OAuth token request to ${target?.url}/token failed: the response has no access_token`);
  });

  test('slow token endpoint hits the attempt timeout', async () => {
    target = await startScriptedTarget(() => undefined);
    const auth = { type: 'oauth2-client-credentials', tokenUrl: `${target.url}/token`, clientId: 'connector', secretRef: 'ERP_CLIENT_SECRET' };
    const destination = destinationOf({ url: `${target.url}/orders`, auth, timeoutInMilliseconds: 300 });

    const result = await deliverOnce(deliveryRequest(destination), context);

    expect(result.outcome).toBe('retryable');
    expect(result.error).toBe(`attempt timeout: timeoutInMilliseconds 300 ms elapsed while waiting for the OAuth token response from ${target.url}/token`);
    expect(requestsTo('/orders')).toHaveLength(0);
  });

  test('token URL outside allowed ranges is refused', async () => {
    target = await startScriptedTarget(oauthTarget(['token-1']));
    const auth = { type: 'oauth2-client-credentials', tokenUrl: `http://127.0.0.2:${target.port}/token`, clientId: 'connector', secretRef: 'ERP_CLIENT_SECRET' };
    const destination = destinationOf({ url: `${target.url}/orders`, auth, allowedPrivateRanges: ['127.0.0.1/32'] });

    const result = await deliverOnce(deliveryRequest(destination), context);

    expect(result.outcome).toBe('permanent');
    expect(result.error).toContain('blocked: address 127.0.0.2 of host 127.0.0.2 is not public');
    expect(target.requests).toHaveLength(0);
  });

  test('fetched token is reported for scrubbing', async () => {
    const destination = await startOAuthTarget(oauthTarget(['token-1']));

    await deliverOnce(deliveryRequest(destination), context);

    expect(context.accessTokens).toEqual(['token-1']);
  });
});
