import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { azuriteAccountName } from '../../../local/azurite';
import { createTestCertificates } from '../../unit/delivery/support/testCertificates';

/** An in-memory Azurite blob service on https://127.0.0.1 that accepts bearer tokens. */
export interface AzuriteOAuthBlobService {
  /** Blob service URI including the account, like "https://127.0.0.1:41234/devstoreaccount1". */
  blobServiceUri: string;
  /** PEM of the test CA that signed the server certificate. */
  caCertificate: string;
  stop(): Promise<void>;
}

interface BlobServer {
  start(): Promise<void>;
  close(): Promise<void>;
  getHttpServerAddress(): string;
}
type BlobServerConstructor = new (configuration: unknown) => BlobServer;
type BlobConfigurationConstructor = new (...configurationArguments: unknown[]) => unknown;
type MemoryExtentChunkStoreConstructor = new (sizeLimitInBytes: number | undefined) => unknown;

/**
 * Starts Azurite 3.35.0's blob service in this process with HTTPS and `--oauth basic`, the
 * configuration that `startAzurite` in local/azurite.ts builds plus a certificate and the OAuth
 * level. Azurite accepts a bearer token only over HTTPS.
 *
 * With `--oauth basic` Azurite decodes the token as a JWT without checking its signature. It
 * rejects a token whose `iat`, `nbf` or `exp` is missing, whose lifetime does not cover the
 * request, whose `iss` is not an Entra ID issuer, or whose `aud` is not a storage audience.
 */
export async function startAzuriteWithOAuth(): Promise<AzuriteOAuthBlobService> {
  const BlobServerClass = (require('azurite/dist/src/blob/BlobServer') as { default: BlobServerConstructor }).default;
  const BlobConfiguration = (require('azurite/dist/src/blob/BlobConfiguration') as { default: BlobConfigurationConstructor }).default;
  const memoryStore = require('azurite/dist/src/common/persistence/MemoryExtentStore') as {
    MemoryExtentChunkStore: MemoryExtentChunkStoreConstructor;
    DEFAULT_EXTENT_MEMORY_LIMIT: number;
  };

  // Azurite reads the certificate and key from files, once, when the server starts.
  const certificates = createTestCertificates();
  const certificateFolder = await mkdtemp(join(tmpdir(), 'azurite-oauth-'));
  const certificatePath = join(certificateFolder, 'server.crt');
  const keyPath = join(certificateFolder, 'server.key');
  await writeFile(certificatePath, certificates.serverCertificate);
  await writeFile(keyPath, certificates.serverKey, { mode: 0o600 });

  const configuration = new BlobConfiguration(
    '127.0.0.1', // host
    0, // port: any free one
    undefined, // keep-alive timeout: Azurite's default
    join(certificateFolder, 'unused-metadata.json'), // metadata database, unused in memory
    join(certificateFolder, 'unused-extents.json'), // extent database, unused in memory
    [{ locationId: 'Default', locationPath: join(certificateFolder, 'unused-blobs'), maxConcurrency: 1 }],
    false, // access log
    undefined, // access log stream
    false, // debug log
    undefined, // debug log file
    false, // loose mode
    true, // skip the API version check, as local/azurite.ts explains
    certificatePath,
    keyPath,
    '', // certificate password
    'basic', // OAuth level
    false, // disable product-style URLs
    true, // in memory
    new memoryStore.MemoryExtentChunkStore(memoryStore.DEFAULT_EXTENT_MEMORY_LIMIT),
  );

  const server = new BlobServerClass(configuration);
  try {
    await server.start();
  } catch (error) {
    await rm(certificateFolder, { recursive: true, force: true });
    throw error;
  }

  let stopped: Promise<void> | undefined;
  return {
    blobServiceUri: `${server.getHttpServerAddress()}/${azuriteAccountName}`,
    caCertificate: certificates.caCertificate,
    stop: () => {
      stopped ??= server.close().finally(() => rm(certificateFolder, { recursive: true, force: true }));
      return stopped;
    },
  };
}
