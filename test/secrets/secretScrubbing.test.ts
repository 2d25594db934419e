import { afterAll, beforeAll, expect, it } from 'vitest';
import { createConnectorLogger } from '../../lib/logger';
import { SecretScrubber } from '../../lib/redaction/secretScrubber';
import { KeyVaultSecretStore } from '../../lib/secrets/keyVaultSecretStore';
import { createScrubbedSecretsUpdater } from '../../lib/secrets/scrubbedSecretsUpdater';
import { createTestCertificates, type TestCertificates } from '../unit/delivery/support/testCertificates';
import { startKeyVaultServer, type KeyVaultServer } from './support/keyVaultServer';
import { createFixedTokenCredential } from './support/testCredential';

const firstValue = 'vault-secret-first-8c1d';
const rotatedValue = 'vault-secret-rotated-3e5b';

let certificates: TestCertificates;
let server: KeyVaultServer;

beforeAll(async () => {
  certificates = createTestCertificates();
  server = await startKeyVaultServer(certificates);
});

afterAll(async () => {
  await server.close();
});

/** Builds a Key Vault store whose refreshes feed the scrubber of a connector logger, as the app wires them. */
function createScrubbedStore(): { store: KeyVaultSecretStore; log: (text: string) => void; logLines: string[] } {
  const scrubber = new SecretScrubber();
  const updateScrubbedSecrets = createScrubbedSecretsUpdater(scrubber);
  const logLines: string[] = [];
  const logger = createConnectorLogger(scrubber, { write: (line: string) => logLines.push(line) });
  const store: KeyVaultSecretStore = new KeyVaultSecretStore({
    settings: { vaultUrl: server.vaultUrl, cacheTtlInSeconds: 300, timeoutInMilliseconds: 5000 },
    credential: createFixedTokenCredential(),
    secretRefs: ['PARTNER_API_KEY'],
    logger,
    onRefresh: () => updateScrubbedSecrets([store.read('PARTNER_API_KEY') ?? '']),
    clientOptions: { disableChallengeResourceVerification: true, tlsOptions: { ca: certificates.caCertificate } },
  });
  return { store, log: (text) => logger.warn({ detail: text }, 'partner sent its key back'), logLines };
}

it('loaded value is scrubbed from logs', async () => {
  server.setSecret('PARTNER-API-KEY', firstValue);
  const { store, log, logLines } = createScrubbedStore();

  await store.refresh();
  log(`echo: ${firstValue}`);

  expect(logLines.at(-1)).not.toContain(firstValue);
  expect(logLines.at(-1)).toContain('[redacted]');
});

it('rotated values are both scrubbed', async () => {
  server.setSecret('PARTNER-API-KEY', firstValue);
  const { store, log, logLines } = createScrubbedStore();
  await store.refresh();
  server.setSecret('PARTNER-API-KEY', rotatedValue);

  await store.refresh();
  log(`old ${firstValue}, new ${rotatedValue}`);

  expect(logLines.at(-1)).not.toContain(firstValue);
  expect(logLines.at(-1)).not.toContain(rotatedValue);
});
