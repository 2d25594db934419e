import pino from 'pino';
import { afterAll, afterEach, beforeAll, beforeEach, expect, it } from 'vitest';
import { deliverPayload } from '../../activities/deliverPayload';
import type { DeliverPayloadInput } from '../../lib/contracts';
import { KeyVaultSecretStore } from '../../lib/secrets/keyVaultSecretStore';
import { startTargetServer, type TargetServer } from '../helpers/targetServer';
import { createTestCertificates, type TestCertificates } from '../unit/delivery/support/testCertificates';
import { createTestDependencies, ordersConnector, type TestDependencies } from '../unit/support/testDependencies';
import { startKeyVaultServer, type KeyVaultServer } from './support/keyVaultServer';
import { createFixedTokenCredential } from './support/testCredential';

const destinationToken = 'erp-bearer-token-from-key-vault-5d0e';
const messageId = 'orders-0123456789abcdef0123456789abcdef';
const payloadBlobName = `transformed/orders/${messageId}/erp`;

let certificates: TestCertificates;
let vault: KeyVaultServer;
let target: TargetServer;
let dependencies: TestDependencies;

beforeAll(async () => {
  certificates = createTestCertificates();
  vault = await startKeyVaultServer(certificates);
  vault.setSecret('ERP-API-TOKEN', destinationToken);
  target = await startTargetServer();
});

afterAll(async () => {
  await vault.close();
  await target.close();
});

beforeEach(async () => {
  const connector = ordersConnector(`${target.url}/orders`);
  connector.destinations[0].auth = { type: 'bearer', secretRef: 'ERP_API_TOKEN' };
  dependencies = createTestDependencies([connector]);
  const store = new KeyVaultSecretStore({
    settings: { vaultUrl: vault.vaultUrl, cacheTtlInSeconds: 300, timeoutInMilliseconds: 5000 },
    credential: createFixedTokenCredential(),
    secretRefs: ['ORDERS_HMAC_SECRET', 'ERP_API_TOKEN'],
    logger: pino({ level: 'silent' }),
    clientOptions: { disableChallengeResourceVerification: true, tlsOptions: { ca: certificates.caCertificate } },
  });
  dependencies.secretStore = store;
  dependencies.readSecret = (secretRef) => store.read(secretRef);
  await dependencies.payloadStore.put(payloadBlobName, Buffer.from('{"id":"123"}'), { contentType: 'application/json' });
});

afterEach(() => {
  dependencies.dispose();
});

const input: DeliverPayloadInput = {
  messageId,
  connectorId: 'orders',
  destinationId: 'erp',
  payloadBlobName,
  attemptNumber: 1,
  maxAttempts: 3,
  idempotencyKey: `${messageId}:erp`,
};

it('first attempt sends the vault token', async () => {
  const output = await deliverPayload(input, dependencies);

  expect(output.outcome).toBe('delivered');
  expect(target.requests.at(-1)?.headers.authorization).toBe(`Bearer ${destinationToken}`);
});
