import { HttpRequest } from '@azure/functions';
import pino from 'pino';
import { afterAll, afterEach, beforeAll, beforeEach, expect, it } from 'vitest';
import { KeyVaultSecretStore } from '../../lib/secrets/keyVaultSecretStore';
import type { OrchestrationStarter } from '../../triggers/ingest';
import { ingestMessage } from '../../triggers/ingest';
import { createTestCertificates, type TestCertificates } from '../unit/delivery/support/testCertificates';
import { signHmacSha256 } from '../unit/support/signHmacSha256';
import { createTestDependencies, type TestDependencies } from '../unit/support/testDependencies';
import { startKeyVaultServer, type KeyVaultServer } from './support/keyVaultServer';
import { createFixedTokenCredential } from './support/testCredential';

const vaultSecret = 'orders-hmac-from-key-vault-91b3';
const body = Buffer.from('{"orderId":"123","status":"paid","updatedAt":"2024-05-01T09:00:00Z"}');

let certificates: TestCertificates;
let server: KeyVaultServer;
let dependencies: TestDependencies;

beforeAll(async () => {
  certificates = createTestCertificates();
  server = await startKeyVaultServer(certificates);
  server.setSecret('ORDERS-HMAC-SECRET', vaultSecret);
});

afterAll(async () => {
  await server.close();
});

beforeEach(() => {
  dependencies = createTestDependencies();
  const store = new KeyVaultSecretStore({
    settings: { vaultUrl: server.vaultUrl, cacheTtlInSeconds: 300, timeoutInMilliseconds: 5000 },
    credential: createFixedTokenCredential(),
    secretRefs: ['ORDERS_HMAC_SECRET'],
    logger: pino({ level: 'silent' }),
    clientOptions: { disableChallengeResourceVerification: true, tlsOptions: { ca: certificates.caCertificate } },
  });
  dependencies.secretStore = store;
  dependencies.readSecret = (secretRef) => store.read(secretRef);
});

afterEach(() => {
  dependencies.dispose();
});

function signedRequest(secret: string): HttpRequest {
  return new HttpRequest({
    method: 'POST',
    url: 'http://127.0.0.1:7071/api/connectors/orders/messages',
    body: { bytes: body },
    headers: { 'content-type': 'application/json', 'x-signature': signHmacSha256(body, secret), 'webhook-id': 'evt-1' },
    params: { connectorId: 'orders' },
  });
}

const starter: OrchestrationStarter = {
  startNew: async (_name, options) => options.instanceId,
  getStatus: async (instanceId) => {
    throw new Error(`DurableClient error: Durable Functions extension replied with HTTP 404 response for ${instanceId}.`);
  },
};

it('first request loads the vault secret', async () => {
  const response = await ingestMessage(signedRequest(vaultSecret), starter, dependencies);

  expect(response.status).toBe(202);
});

it('signature with another secret is rejected', async () => {
  const response = await ingestMessage(signedRequest('some-other-secret'), starter, dependencies);

  expect(response.status).toBe(401);
});
