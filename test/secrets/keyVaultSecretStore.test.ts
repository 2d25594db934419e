import pino from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { RetryableError } from '../../lib/errors';
import { KeyVaultSecretStore, type KeyVaultCredential } from '../../lib/secrets/keyVaultSecretStore';
import { createTestCertificates, type TestCertificates } from '../unit/delivery/support/testCertificates';
import { startKeyVaultServer, type KeyVaultServer } from './support/keyVaultServer';
import { createFixedTokenCredential, createNeverResolvingCredential, testAccessToken } from './support/testCredential';

const secretValue = 'orders-hmac-value-4f9c2a';
const rotatedValue = 'orders-hmac-value-rotated-77d1';
const ttlInSeconds = 300;

let certificates: TestCertificates;
let server: KeyVaultServer;

beforeAll(async () => {
  certificates = createTestCertificates();
  server = await startKeyVaultServer(certificates);
});

afterAll(async () => {
  await server.close();
});

afterEach(() => {
  server.setSecret('ORDERS-HMAC-SECRET', secretValue);
  server.failNextReads(0);
  server.requests.length = 0;
});

interface StoreUnderTest {
  store: KeyVaultSecretStore;
  /** Each line the store logged. */
  logLines: string[];
  /** The time the store reads, in milliseconds; tests move it. */
  clock: { now: number };
}

function createStore(options: { credential?: KeyVaultCredential; timeoutInMilliseconds?: number; secretRefs?: string[] } = {}): StoreUnderTest {
  const logLines: string[] = [];
  const clock = { now: Date.parse('2024-05-01T10:00:00.000Z') };
  const store = new KeyVaultSecretStore({
    settings: { vaultUrl: server.vaultUrl, cacheTtlInSeconds: ttlInSeconds, timeoutInMilliseconds: options.timeoutInMilliseconds ?? 5000 },
    credential: options.credential ?? createFixedTokenCredential(),
    secretRefs: options.secretRefs ?? ['ORDERS_HMAC_SECRET', 'PARTNER_API_KEY'],
    logger: pino({ level: 'debug' }, { write: (line: string) => logLines.push(line) }),
    now: () => clock.now,
    clientOptions: { disableChallengeResourceVerification: true, tlsOptions: { ca: certificates.caCertificate } },
  });
  return { store, logLines, clock };
}

describe('Key Vault requests', () => {
  it('reads the dashed secret name', async () => {
    server.setSecret('ORDERS-HMAC-SECRET', secretValue);
    const { store } = createStore({ secretRefs: ['ORDERS_HMAC_SECRET'] });

    await store.refresh();

    expect(server.secretReads().map((request) => request.path)).toEqual(['/secrets/ORDERS-HMAC-SECRET/']);
  });

  it('sends an api-version', async () => {
    const { store } = createStore({ secretRefs: ['ORDERS_HMAC_SECRET'] });

    await store.refresh();

    expect(server.secretReads()[0].apiVersion).toMatch(/^\d{4}-\d{2}-\d{2}$|^7\.\d$/);
  });

  it('sends the token after the challenge', async () => {
    const credential = createFixedTokenCredential();
    const { store } = createStore({ credential, secretRefs: ['ORDERS_HMAC_SECRET'] });

    await store.refresh();

    expect(server.requests[0].authorization).toBeUndefined();
    expect(server.secretReads()[0].authorization).toBe(`Bearer ${testAccessToken}`);
    expect(credential.tokenRequests[0]).toEqual(['https://vault.azure.net/.default']);
  });
});

describe('Key Vault cache', () => {
  it('missing secret reads undefined', async () => {
    const { store } = createStore();

    await store.refresh();

    expect(store.read('PARTNER_API_KEY')).toBeUndefined();
  });

  it('describeSource names the vault secret', () => {
    const { store } = createStore();

    expect(store.describeSource('PARTNER_API_KEY')).toBe(`Key Vault secret PARTNER-API-KEY in ${server.vaultUrl}`);
  });

  it('read before any refresh is undefined', () => {
    const { store } = createStore();

    expect(store.read('ORDERS_HMAC_SECRET')).toBeUndefined();
  });

  it('ready within ttl sends nothing', async () => {
    const { store, clock } = createStore();
    await store.ready();
    const readsAfterLoad = server.secretReads().length;

    clock.now += (ttlInSeconds - 1) * 1000;
    await store.ready();

    expect(server.secretReads().length).toBe(readsAfterLoad);
  });

  it('ttl expiry reads a rotated value', async () => {
    const { store, clock } = createStore();
    await store.ready();
    server.setSecret('ORDERS-HMAC-SECRET', rotatedValue);

    clock.now += ttlInSeconds * 1000;
    await store.ready();

    expect(store.read('ORDERS_HMAC_SECRET')).toBe(rotatedValue);
  });

  it('concurrent ready calls share one refresh', async () => {
    const { store } = createStore({ secretRefs: ['ORDERS_HMAC_SECRET'] });

    await Promise.all([store.ready(), store.ready(), store.ready()]);

    expect(server.secretReads().length).toBe(1);
  });

  it('deleted secret reads undefined after refresh', async () => {
    const { store } = createStore();
    await store.refresh();
    server.deleteSecret('ORDERS-HMAC-SECRET');

    await store.refresh();

    expect(store.read('ORDERS_HMAC_SECRET')).toBeUndefined();
  });
});

describe('Key Vault failures', () => {
  it('vault 500 keeps the cached value', async () => {
    const { store } = createStore();
    await store.refresh();
    server.setSecret('ORDERS-HMAC-SECRET', rotatedValue);
    server.failNextReads(100);

    await expect(store.refresh()).rejects.toThrow(RetryableError);
    expect(store.read('ORDERS_HMAC_SECRET')).toBe(secretValue);
  });

  it('vault 500 error names the secret', async () => {
    const { store } = createStore({ secretRefs: ['ORDERS_HMAC_SECRET'] });
    server.failNextReads(100);

    await expect(store.refresh()).rejects.toThrow(`Key Vault ${server.vaultUrl} failed to return secret ORDERS-HMAC-SECRET`);
  });

  it('ready survives a failed refresh', async () => {
    const { store } = createStore();
    server.failNextReads(100);

    await expect(store.ready()).resolves.toBeUndefined();
  });

  it('failed refresh waits before retrying', async () => {
    const { store, clock } = createStore();
    server.failNextReads(100);
    await store.ready();
    const readsAfterFailure = server.secretReads().length;

    clock.now += 29_000;
    await store.ready();

    expect(server.secretReads().length).toBe(readsAfterFailure);
  });

  it('hung credential times out', async () => {
    const timeoutInMilliseconds = 300;
    const { store } = createStore({ credential: createNeverResolvingCredential(), timeoutInMilliseconds });
    const startedAt = performance.now();

    await expect(store.refresh()).rejects.toThrow(RetryableError);

    expect(performance.now() - startedAt).toBeLessThan(timeoutInMilliseconds + 2000);
  });

  it('timeout error names vault and setting', async () => {
    const { store } = createStore({ credential: createNeverResolvingCredential(), timeoutInMilliseconds: 200 });

    const error = await store.refresh().catch((caught: unknown) => caught as Error);

    expect(error.message).toContain(`Reading secrets from Key Vault ${server.vaultUrl} timed out after 200 ms`);
    expect(error.message).toContain('SECRET_STORE_TIMEOUT_IN_MILLISECONDS');
    expect(error.message).toContain('KEY_VAULT_URL');
  });

  it('untrusted certificate fails the refresh', async () => {
    const store = new KeyVaultSecretStore({
      settings: { vaultUrl: server.vaultUrl, cacheTtlInSeconds: ttlInSeconds, timeoutInMilliseconds: 5000 },
      credential: createFixedTokenCredential(),
      secretRefs: ['ORDERS_HMAC_SECRET'],
      logger: pino({ level: 'silent' }),
      clientOptions: { disableChallengeResourceVerification: true, retryOptions: { maxRetries: 0 } },
    });

    await expect(store.refresh()).rejects.toThrow(/certificate/);
  });
});

describe('Key Vault logs', () => {
  it('logs never contain a secret value', async () => {
    const { store, logLines, clock } = createStore();
    await store.ready();
    server.setSecret('ORDERS-HMAC-SECRET', rotatedValue);
    clock.now += ttlInSeconds * 1000;
    await store.ready();
    server.failNextReads(100);
    clock.now += ttlInSeconds * 1000;
    await store.ready();

    const logText = logLines.join('');
    expect(logLines.length).toBeGreaterThanOrEqual(3);
    expect(logText).not.toContain(secretValue);
    expect(logText).not.toContain(rotatedValue);
    expect(logText).not.toContain(testAccessToken);
  });

  it('failed refresh logs a warning', async () => {
    const { store, logLines } = createStore();
    server.failNextReads(100);

    await store.ready();

    const warning = logLines.map((line) => JSON.parse(line) as { level: number; msg: string; vaultUrl?: string }).find((entry) => entry.level === 40);
    expect(warning?.msg).toBe('Key Vault secret refresh failed, so the last values loaded stay in use');
    expect(warning?.vaultUrl).toBe(server.vaultUrl);
  });
});
