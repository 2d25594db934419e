import { randomUUID } from 'node:crypto';
import { ClientSecretCredential } from '@azure/identity';
import { SecretClient } from '@azure/keyvault-secrets';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSecretStore } from '../../lib/secrets/createSecretStore';
import { toKeyVaultSecretName } from '../../lib/secrets/keyVaultSecretName';
import type { SecretStore } from '../../lib/secrets/secretStore';
import type { Environment } from '../../lib/settings';
import { createTestCertificates } from '../unit/delivery/support/testCertificates';
import { startKeyVaultServer } from './support/keyVaultServer';
import { createFixedTokenCredential } from './support/testCredential';

interface StoreFixture {
  store: SecretStore;
  /** Writes a secret where the store reads it, under the Key Vault name for a vault. */
  setSecret(secretRef: string, value: string): Promise<void>;
  close(): Promise<void>;
}

/** Returns the secretRefs of one contract run. Each real vault run passes a unique `runId`, so runs do not collide. */
function contractSecretRefs(runId: string): { present: string; rotated: string; missing: string; certificate: string } {
  return {
    present: `CONTRACT_${runId}_PRESENT`,
    rotated: `CONTRACT_${runId}_ROTATED`,
    missing: `CONTRACT_${runId}_MISSING`,
    certificate: `CONTRACT_${runId}_CERTIFICATE`,
  };
}

const multiLineValue = '-----BEGIN CERTIFICATE-----\nMIIB, grüße, 日本語\n-----END CERTIFICATE-----\n';

/** Runs the contract that every SecretStore adapter must pass. */
function describeSecretStoreContract(runId: string, openStore: (secretRefs: string[]) => Promise<StoreFixture>): void {
  const refs = contractSecretRefs(runId);
  let fixture: StoreFixture;

  beforeAll(async () => {
    fixture = await openStore(Object.values(refs));
    await fixture.setSecret(refs.present, 'first-contract-value');
    await fixture.setSecret(refs.rotated, 'value-before-rotation');
    await fixture.setSecret(refs.certificate, multiLineValue);
    await fixture.store.refresh();
  });

  afterAll(async () => {
    await fixture?.close();
  });

  it('read returns a set secret', () => {
    expect(fixture.store.read(refs.present)).toBe('first-contract-value');
  });

  it('missing secret reads undefined', () => {
    expect(fixture.store.read(refs.missing)).toBeUndefined();
  });

  it('multi-line value keeps exact text', () => {
    expect(fixture.store.read(refs.certificate)).toBe(multiLineValue);
  });

  it('refresh picks up a rotated value', async () => {
    await fixture.setSecret(refs.rotated, 'value-after-rotation');

    await fixture.store.refresh();

    expect(fixture.store.read(refs.rotated)).toBe('value-after-rotation');
  });

  it('ready resolves with values readable', async () => {
    await fixture.store.ready();

    expect(fixture.store.read(refs.present)).toBe('first-contract-value');
  });

  it('describeSource names the secret', () => {
    const source = fixture.store.describeSource(refs.missing);

    expect(source).toMatch(new RegExp(`${refs.missing}|${toKeyVaultSecretName(refs.missing)}`));
  });
}

describe('local adapter', () => {
  describeSecretStoreContract('LOCAL', async () => {
    const environment: Environment = {};
    return {
      store: createSecretStore({ secretRefs: [], logger: pino({ level: 'silent' }), environment }),
      setSecret: async (secretRef, value) => {
        environment[secretRef] = value;
      },
      close: async () => undefined,
    };
  });
});

describe('Key Vault adapter on a loopback server', () => {
  describeSecretStoreContract('LOOPBACK', async (secretRefs) => {
    const certificates = createTestCertificates();
    const server = await startKeyVaultServer(certificates);
    const store = createSecretStore({
      secretRefs,
      logger: pino({ level: 'silent' }),
      environment: { KEY_VAULT_URL: server.vaultUrl },
      createCredential: () => createFixedTokenCredential(),
      clientOptions: { disableChallengeResourceVerification: true, tlsOptions: { ca: certificates.caCertificate } },
    });
    return {
      store,
      setSecret: async (secretRef, value) => server.setSecret(toKeyVaultSecretName(secretRef), value),
      close: () => server.close(),
    };
  });
});

const realVaultSettingNames = ['KEY_VAULT_URL', 'AZURE_TENANT_ID', 'AZURE_CLIENT_ID', 'AZURE_CLIENT_SECRET'];
const realVaultConfigured = realVaultSettingNames.every((name) => (process.env[name]?.trim() ?? '') !== '');

// A service principal's client secret is the one credential that never probes the managed
// identity endpoint, so it is the only one these tests construct.
describe.skipIf(!realVaultConfigured)(`Key Vault adapter on a real vault (needs ${realVaultSettingNames.join(', ')})`, () => {
  const runId = randomUUID().replaceAll('-', '').slice(0, 12).toUpperCase();
  describeSecretStoreContract(runId, async (secretRefs) => {
    const environment = process.env;
    const credential = new ClientSecretCredential(environment.AZURE_TENANT_ID ?? '', environment.AZURE_CLIENT_ID ?? '', environment.AZURE_CLIENT_SECRET ?? '');
    const client = new SecretClient(environment.KEY_VAULT_URL ?? '', credential);
    const written = new Set<string>();
    const store = createSecretStore({
      secretRefs,
      logger: pino({ level: 'silent' }),
      environment: { KEY_VAULT_URL: environment.KEY_VAULT_URL, SECRET_STORE_TIMEOUT_IN_MILLISECONDS: '30000' },
      createCredential: () => credential,
    });
    return {
      store,
      setSecret: async (secretRef, value) => {
        const name = toKeyVaultSecretName(secretRef);
        await client.setSecret(name, value);
        written.add(name);
      },
      close: async () => {
        // Deletion is soft in a vault with soft delete, and the deleted secrets are left to expire.
        await Promise.all([...written].map((name) => client.beginDeleteSecret(name)));
      },
    };
  });
});
