import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, test, vi } from 'vitest';
import { createMessageId, rawBlobNameOf } from '../../lib/ids';
import { repoRoot, startHostProcess, type HostProcess } from '../helpers/hostProcess';
import { startTargetServer, type TargetServer } from '../helpers/targetServer';
import { createTempFolder, functionKey, hostHasPayload, jsonBytes, listInstanceIds, removeTempFolders, waitForTerminalStatus } from './support';

/**
 * Sends requests with each authentication scheme to the connector app on the local host,
 * and checks the status, the problem document and that a rejected request stored and
 * started nothing.
 */

const webhookKey = Buffer.from('e2e-webhook-key-of-32-bytes-long');
const nextWebhookKey = Buffer.from('e2e-next-webhook-key-of-32-bytes');
const hmacSecret = 'e2e-hmac-secret';
const basicPassword = 'e2e-basic-password';

const secretSettings = {
  E2E_WEBHOOK_SECRET: `whsec_${webhookKey.toString('base64')}`,
  E2E_WEBHOOK_SECRET_NEXT: `whsec_${nextWebhookKey.toString('base64')}`,
  E2E_HMAC_SECRET: hmacSecret,
  E2E_BASIC_PASSWORD: basicPassword,
};

const toleranceInSeconds = 300;

/** Connectors by id, each with its `inbound.auth` and, where needed, `trustedProxies`. */
const connectorInbound: Record<string, Record<string, unknown>> = {
  webhooks: { auth: { type: 'standard-webhooks', secretRef: ['E2E_WEBHOOK_SECRET', 'E2E_WEBHOOK_SECRET_NEXT'], toleranceInSeconds } },
  'timestamped-hmac': {
    auth: { type: 'hmac', header: 'X-Signature', prefix: 'v1=', timestampHeader: 'X-Timestamp', secretRef: 'E2E_HMAC_SECRET' },
  },
  'basic-auth': { auth: { type: 'basic', username: 'partner', secretRef: 'E2E_BASIC_PASSWORD' } },
  'loopback-only': { auth: { type: 'hmac-sha256', secretRef: 'E2E_HMAC_SECRET', ipAllowlist: ['127.0.0.0/8'] } },
  'documentation-only': {
    auth: [
      { type: 'ip-allowlist', ranges: ['203.0.113.0/24', '2001:db8::/32'] },
      { type: 'hmac-sha256', secretRef: 'E2E_HMAC_SECRET' },
    ],
  },
  'behind-proxy': { auth: { type: 'hmac-sha256', secretRef: 'E2E_HMAC_SECRET', ipAllowlist: ['203.0.113.0/24'] }, trustedProxies: ['127.0.0.0/8'] },
};

let target: TargetServer;
let host: HostProcess;
let dataDir: string;
let connectorsFile: string;

function writeConnectorsFile(folder: string, targetUrl: string): string {
  const connectors = Object.entries(connectorInbound).map(([id, inbound]) => ({
    id,
    inbound,
    // standard-webhooks takes webhook-id as its dedup key by default, and the others name it here.
    ...(id === 'webhooks' ? {} : { dedupKey: { header: 'webhook-id' } }),
    destinations: [
      {
        id: 'erp',
        url: `${targetUrl}/${id}`,
        allowedPrivateRanges: ['127.0.0.0/8'],
        retry: { maxAttempts: 2, firstIntervalInMilliseconds: 50, backoffCoefficient: 1, maxIntervalInMilliseconds: 50 },
      },
    ],
  }));
  const file = path.join(folder, 'connectors.json');
  fs.writeFileSync(file, JSON.stringify({ connectors }, null, 2));
  return file;
}

function startHost(): Promise<HostProcess> {
  return startHostProcess({
    appRoot: repoRoot,
    dataDir,
    env: { CONNECTORS_FILE: connectorsFile, LOCAL_FUNCTION_KEY: functionKey, PAYLOAD_STORE: undefined, ...secretSettings },
  });
}

beforeAll(async () => {
  target = await startTargetServer();
  const folder = createTempFolder('e2e-auth-');
  dataDir = path.join(folder, 'data');
  connectorsFile = writeConnectorsFile(folder, target.url);
  host = await startHost();
});

afterAll(async () => {
  await host?.stop();
  await target?.close();
  removeTempFolders();
});

function nowInSeconds(): number {
  return Math.floor(Date.now() / 1000);
}

function newWebhookId(): string {
  return `msg_${crypto.randomUUID().replace(/-/g, '')}`;
}

let orderNumber = 0;

function newBody(): Buffer {
  orderNumber += 1;
  return jsonBytes({ orderId: `A-${orderNumber}`, status: 'shipped' });
}

function signWebhook(key: Buffer, id: string, timestamp: number, body: Buffer): string {
  const signedContent = Buffer.concat([Buffer.from(`${id}.${timestamp}.`), body]);
  return `v1,${crypto.createHmac('sha256', key).update(signedContent).digest('base64')}`;
}

function webhookHeaders(body: Buffer, options: { id?: string; timestamp?: number; key?: Buffer } = {}): Record<string, string> {
  const id = options.id ?? newWebhookId();
  const timestamp = options.timestamp ?? nowInSeconds();
  return { 'webhook-id': id, 'webhook-timestamp': String(timestamp), 'webhook-signature': signWebhook(options.key ?? webhookKey, id, timestamp, body) };
}

function hmacHeaders(body: Buffer, secret: string = hmacSecret): Record<string, string> {
  return { 'webhook-id': newWebhookId(), 'X-Signature': `sha256=${crypto.createHmac('sha256', secret).update(body).digest('hex')}` };
}

function timestampedHmacHeaders(body: Buffer, timestamp: number): Record<string, string> {
  const signedText = Buffer.concat([Buffer.from(`${timestamp}.`), body]);
  return {
    'webhook-id': newWebhookId(),
    'X-Timestamp': String(timestamp),
    'X-Signature': `v1=${crypto.createHmac('sha256', hmacSecret).update(signedText).digest('hex')}`,
  };
}

interface IngestResult {
  status: number;
  contentType: string | null;
  challenge: string | null;
  body: Record<string, unknown>;
}

async function post(connectorId: string, body: Buffer, headers: Record<string, string>): Promise<IngestResult> {
  const response = await fetch(`${host.baseUrl}/api/connectors/${connectorId}/messages`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body,
  });
  return {
    status: response.status,
    contentType: response.headers.get('content-type'),
    challenge: response.headers.get('www-authenticate'),
    body: (await response.json()) as Record<string, unknown>,
  };
}

/**
 * Waits until the next whole second begins, then runs `send` and returns its result when it
 * finished within that second, so the host read the same Unix second as `nowInSeconds()`.
 * Tries up to three times, which bounds the wait to about three seconds.
 */
async function sendWithinOneSecond(send: (now: number) => Promise<IngestResult>): Promise<IngestResult> {
  const maxTries = 3;
  for (let tryNumber = 1; tryNumber <= maxTries; tryNumber++) {
    await new Promise((resolve) => setTimeout(resolve, 1000 - (Date.now() % 1000) + 5));
    const now = nowInSeconds();
    const result = await send(now);
    if (nowInSeconds() === now) {
      return result;
    }
  }
  throw new Error(`No request finished within the second in which it was sent, in ${maxTries} tries.`);
}

/** Checks that the message of `webhookId` was neither stored, started nor delivered. */
async function expectNothingStoredOrStarted(connectorId: string, webhookId: string): Promise<void> {
  const messageId = createMessageId(connectorId, webhookId);

  const status = await fetch(`${host.baseUrl}/api/messages/${messageId}`, { headers: { 'x-functions-key': functionKey } });
  const instance = await fetch(`${host.baseUrl}/runtime/webhooks/durabletask/instances/${messageId}`, { headers: { 'x-functions-key': functionKey } });

  expect(status.status).toBe(404);
  expect(instance.status).toBe(404);
  expect(await hostHasPayload(dataDir, rawBlobNameOf(connectorId, messageId))).toBe(false);
  expect(target.requests.filter((request) => String(request.headers['idempotency-key']).startsWith(messageId))).toEqual([]);
}

function deliveriesOf(messageId: string): number {
  return target.requests.filter((request) => request.headers['idempotency-key'] === `${messageId}:erp`).length;
}

interface RejectionCase {
  name: string;
  connectorId: string;
  /** Returns the headers to send with `body`, which the case may sign and then change. */
  request(body: Buffer): { headers: Record<string, string>; sentBody?: Buffer };
  status: 401 | 403;
  reason: string;
  header?: string;
  detail: string;
  challenge?: string;
}

const rejectionCases: RejectionCase[] = [
  {
    name: 'unsigned webhook',
    connectorId: 'webhooks',
    request: (body) => {
      const headers = webhookHeaders(body);
      delete headers['webhook-signature'];
      return { headers };
    },
    status: 401,
    reason: 'missing-header',
    header: 'webhook-signature',
    detail: 'Header webhook-signature is missing.',
    challenge: 'StandardWebhooks header="webhook-signature"',
  },
  {
    name: 'tampered body',
    connectorId: 'webhooks',
    request: (body) => ({ headers: webhookHeaders(body), sentBody: Buffer.from(body.toString('utf8').replace('shipped', 'returned')) }),
    status: 401,
    reason: 'invalid-signature',
    header: 'webhook-signature',
    detail: 'No signature in header webhook-signature matches',
  },
  {
    name: 'tampered timestamp header',
    connectorId: 'webhooks',
    request: (body) => {
      const headers = webhookHeaders(body);
      headers['webhook-timestamp'] = String(Number(headers['webhook-timestamp']) - 1);
      return { headers };
    },
    status: 401,
    reason: 'invalid-signature',
    header: 'webhook-signature',
    detail: 'No signature in header webhook-signature matches',
  },
  {
    name: 'wrong secret',
    connectorId: 'webhooks',
    request: (body) => ({ headers: webhookHeaders(body, { key: Buffer.from('a-key-the-connector-does-not-know') }) }),
    status: 401,
    reason: 'invalid-signature',
    header: 'webhook-signature',
    detail: 'Sign the exact bytes sent',
  },
  {
    name: 'wrong hmac secret',
    connectorId: 'loopback-only',
    request: (body) => ({ headers: hmacHeaders(body, 'wrong-secret') }),
    status: 401,
    reason: 'invalid-signature',
    header: 'X-Signature',
    detail: 'Header X-Signature does not match the request body.',
    challenge: 'HMAC-SHA256 header="X-Signature"',
  },
  {
    name: 'basic without credentials',
    connectorId: 'basic-auth',
    request: () => ({ headers: { 'webhook-id': newWebhookId() } }),
    status: 401,
    reason: 'missing-header',
    header: 'Authorization',
    detail: 'Header Authorization is missing.',
    challenge: 'Basic realm="basic-auth", charset="UTF-8"',
  },
  {
    name: 'loopback outside the allowlist',
    connectorId: 'documentation-only',
    request: (body) => ({ headers: hmacHeaders(body) }),
    status: 403,
    reason: 'address-not-allowed',
    detail: 'Client address 127.0.0.1 is not in the IP allowlist of connector "documentation-only".',
  },
  {
    name: 'untrusted X-Forwarded-For',
    connectorId: 'documentation-only',
    request: (body) => ({ headers: { ...hmacHeaders(body), 'X-Forwarded-For': '203.0.113.10', 'X-Azure-ClientIP': '203.0.113.10' } }),
    status: 403,
    reason: 'address-not-allowed',
    detail: 'Client address 127.0.0.1 is not in the IP allowlist',
  },
  {
    name: 'X-Client-IP sent by the client',
    connectorId: 'documentation-only',
    request: (body) => ({ headers: { ...hmacHeaders(body), 'X-Client-IP': '203.0.113.10' } }),
    status: 403,
    reason: 'address-not-allowed',
    detail: 'Client address 127.0.0.1 is not in the IP allowlist',
  },
  {
    name: 'trusted proxy forwarding a blocked address',
    connectorId: 'behind-proxy',
    request: (body) => ({ headers: { ...hmacHeaders(body), 'X-Forwarded-For': '198.51.100.23' } }),
    status: 403,
    reason: 'address-not-allowed',
    detail: 'Client address 198.51.100.23 is not in the IP allowlist of connector "behind-proxy".',
  },
];

describe('rejected requests', () => {
  for (const rejectionCase of rejectionCases) {
    test(`${rejectionCase.name} gets ${rejectionCase.status}`, async () => {
      const body = newBody();
      const { headers, sentBody } = rejectionCase.request(body);

      const result = await post(rejectionCase.connectorId, sentBody ?? body, headers);

      expect(result.status).toBe(rejectionCase.status);
      expect(result.contentType).toBe('application/problem+json');
      expect(result.body.status).toBe(rejectionCase.status);
      expect(result.body.reason).toBe(rejectionCase.reason);
      expect(result.body.connectorId).toBe(rejectionCase.connectorId);
      expect(result.body.header).toBe(rejectionCase.header);
      expect(result.body.detail).toContain(rejectionCase.detail);
      if (rejectionCase.challenge !== undefined) {
        expect(result.challenge).toBe(rejectionCase.challenge);
      } else if (rejectionCase.status === 403) {
        expect(result.challenge).toBeNull();
      }
      expect(JSON.stringify(result.body)).not.toContain(hmacSecret);
      await expectNothingStoredOrStarted(rejectionCase.connectorId, headers['webhook-id']);
    });
  }

  test('403 names the forwarded address', async () => {
    const result = await post('behind-proxy', newBody(), { ...hmacHeaders(newBody()), 'X-Forwarded-For': '198.51.100.23' });

    expect(result.body.clientAddress).toBe('198.51.100.23');
    expect(result.body.type).toBe('urn:api-data-connector:problem:forbidden');
  });

  test('each rejection is logged with its reason', async () => {
    const expectedReasons = rejectionCases.map((rejectionCase) => rejectionCase.reason).concat('address-not-allowed');
    // The host writes its log through a pipe, so the last line can arrive after the response.
    await vi.waitFor(
      () => {
        const logged = host.logEntries().filter((entry) => entry.msg === 'inbound request failed authentication');
        expect(logged.map((entry) => entry.reason)).toEqual(expectedReasons);
      },
      { timeout: 5000, interval: 50 },
    );
    expect(host.stdout()).not.toContain(hmacSecret);
    expect(host.stdout()).not.toContain(basicPassword);
    expect(host.stdout()).not.toContain(secretSettings.E2E_WEBHOOK_SECRET);
  });

  test('rejection log line has the request id', async () => {
    const body = newBody();
    const result = await post('loopback-only', body, hmacHeaders(body, 'wrong-secret'));
    const requestId = result.body.requestId;

    expect(typeof requestId).toBe('string');
    // The host writes its log through a pipe, so the line can arrive after the response.
    await vi.waitFor(
      () => {
        const logged = host.logEntries().filter((entry) => entry.requestId === requestId && entry.status === 401);
        expect(logged).toHaveLength(1);
      },
      { timeout: 5000, interval: 50 },
    );
  });

  test('safe x-request-id is returned', async () => {
    const body = newBody();
    const result = await post('loopback-only', body, { ...hmacHeaders(body, 'wrong-secret'), 'x-request-id': 'partner-trace-7' });

    expect(result.body.requestId).toBe('partner-trace-7');
  });

  test('echoed secret is redacted in the log', async () => {
    const body = newBody();
    const echoHeaders = { ...hmacHeaders(body), 'content-type': 'text/plain', 'webhook-id': hmacSecret, 'x-request-id': hmacSecret };

    const result = await post('loopback-only', body, echoHeaders);

    expect(result.status).toBe(415);
    await vi.waitFor(
      () => {
        const logged = host.logEntries().filter((entry) => entry.msg === 'inbound request rejected' && entry.requestId === '[redacted]');
        expect(logged).toHaveLength(1);
        expect(logged[0]?.dedupKey).toBe('[redacted]');
      },
      { timeout: 5000, interval: 50 },
    );
    expect(host.stdout()).not.toContain(hmacSecret);
  });
});

describe('timestamp tolerance', () => {
  const edgeCases = [
    { name: '300 seconds old is accepted', offsetInSeconds: -toleranceInSeconds, status: 202 },
    { name: '301 seconds old is rejected', offsetInSeconds: -toleranceInSeconds - 1, status: 401, reason: 'expired-timestamp' },
    { name: '300 seconds ahead is accepted', offsetInSeconds: toleranceInSeconds, status: 202 },
    { name: '301 seconds ahead is rejected', offsetInSeconds: toleranceInSeconds + 1, status: 401, reason: 'future-timestamp' },
  ];

  for (const edgeCase of edgeCases) {
    test(`webhook ${edgeCase.name}`, async () => {
      const body = newBody();
      const id = newWebhookId();

      const result = await sendWithinOneSecond((now) => post('webhooks', body, webhookHeaders(body, { id, timestamp: now + edgeCase.offsetInSeconds })));

      expect(result.status).toBe(edgeCase.status);
      if (edgeCase.reason === undefined) {
        expect(result.body.messageId).toBe(createMessageId('webhooks', id));
      } else {
        expect(result.body.reason).toBe(edgeCase.reason);
        expect(result.body.title).toBe('Invalid timestamp');
        expect(typeof result.body.serverTimestamp).toBe('number');
        expect(Math.abs(Number(result.body.serverTimestamp) - nowInSeconds())).toBeLessThanOrEqual(1);
        expect(result.body.toleranceInSeconds).toBe(toleranceInSeconds);
        await expectNothingStoredOrStarted('webhooks', id);
      }
    });
  }

  test('timestamped hmac 301 seconds old is rejected', async () => {
    const body = newBody();

    const result = await sendWithinOneSecond((now) => post('timestamped-hmac', body, timestampedHmacHeaders(body, now - 301)));

    expect(result.status).toBe(401);
    expect(result.body.reason).toBe('expired-timestamp');
    expect(result.body.header).toBe('X-Timestamp');
  });

  test('timestamped hmac 300 seconds old is accepted', async () => {
    const body = newBody();

    const result = await sendWithinOneSecond((now) => post('timestamped-hmac', body, timestampedHmacHeaders(body, now - 300)));

    expect(result.status).toBe(202);
  });
});

describe('accepted requests', () => {
  test('valid webhook is delivered', async () => {
    const body = newBody();
    const headers = webhookHeaders(body);

    const result = await post('webhooks', body, headers);
    const status = await waitForTerminalStatus(host.baseUrl, String(result.body.messageId));

    expect(result.status).toBe(202);
    expect(result.body.messageId).toBe(createMessageId('webhooks', headers['webhook-id']));
    expect(status.outcome).toBe('delivered');
    expect(deliveriesOf(String(result.body.messageId))).toBe(1);
  });

  test('webhook signed with the next secret is accepted', async () => {
    const body = newBody();

    const result = await post('webhooks', body, webhookHeaders(body, { key: nextWebhookKey }));

    expect(result.status).toBe(202);
  });

  test('basic credentials are accepted', async () => {
    const authorization = `Basic ${Buffer.from(`partner:${basicPassword}`).toString('base64')}`;

    const result = await post('basic-auth', newBody(), { 'webhook-id': newWebhookId(), Authorization: authorization });

    expect(result.status).toBe(202);
  });

  test('loopback inside the allowlist is accepted', async () => {
    const body = newBody();

    expect((await post('loopback-only', body, hmacHeaders(body))).status).toBe(202);
  });

  test('allowed address without signature gets 401', async () => {
    const result = await post('loopback-only', newBody(), { 'webhook-id': newWebhookId() });

    expect(result.status).toBe(401);
    expect(result.body.reason).toBe('missing-header');
  });

  test('trusted proxy forwarding an allowed address is accepted', async () => {
    const body = newBody();

    const result = await post('behind-proxy', body, { ...hmacHeaders(body), 'X-Forwarded-For': '198.51.100.1, 203.0.113.10' });

    expect(result.status).toBe(202);
  });
});

describe('replayed webhook', () => {
  test('replay gets 200 and one delivery across restart', async () => {
    const body = newBody();
    const headers = webhookHeaders(body);
    const messageId = createMessageId('webhooks', headers['webhook-id']);

    const first = await post('webhooks', body, headers);
    const replay = await post('webhooks', body, headers);
    await waitForTerminalStatus(host.baseUrl, messageId);
    await host.stop();
    host = await startHost();
    const replayAfterRestart = await post('webhooks', body, headers);
    await waitForTerminalStatus(host.baseUrl, messageId);

    expect(first.status).toBe(202);
    expect(first.body.messageId).toBe(messageId);
    expect(replay.status).toBe(200);
    expect(replay.body.messageId).toBe(messageId);
    expect(replayAfterRestart.status).toBe(200);
    expect(replayAfterRestart.body.messageId).toBe(messageId);
    expect(deliveriesOf(messageId)).toBe(1);
    expect(await hostHasPayload(dataDir, rawBlobNameOf('webhooks', messageId))).toBe(true);
    expect((await listInstanceIds(host.baseUrl)).filter((instanceId) => instanceId === messageId)).toHaveLength(1);
  });
});
