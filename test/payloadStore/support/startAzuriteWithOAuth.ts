import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { startAzurite, type AzuriteBlobService } from '../../../local/azurite';
import { createTestCertificates } from '../../unit/delivery/support/testCertificates';

/** An in-memory Azurite blob service on https://127.0.0.1 that accepts bearer tokens. */
export interface AzuriteOAuthBlobService {
  /** Blob service URI including the account, like "https://127.0.0.1:41234/devstoreaccount1". */
  blobServiceUri: string;
  /** PEM of the test CA that signed the server certificate. */
  caCertificate: string;
  stop(): Promise<void>;
}

/**
 * Starts Azurite 3.35.0's blob service in this process, in memory, with HTTPS and `--oauth basic`,
 * using a server certificate signed by a test CA. Azurite accepts a bearer token only over HTTPS.
 *
 * With `--oauth basic` Azurite decodes the token as a JWT without checking its signature. It
 * rejects a token whose `iat`, `nbf` or `exp` is missing, whose lifetime does not cover the
 * request, whose `iss` is not an Entra ID issuer, or whose `aud` is not a storage audience.
 */
export async function startAzuriteWithOAuth(): Promise<AzuriteOAuthBlobService> {
  // Azurite reads the certificate and key from files, once, when the server starts.
  const certificates = createTestCertificates();
  const certificateFolder = await mkdtemp(join(tmpdir(), 'azurite-oauth-'));
  const certificatePath = join(certificateFolder, 'server.crt');
  const keyPath = join(certificateFolder, 'server.key');
  await writeFile(certificatePath, certificates.serverCertificate);
  await writeFile(keyPath, certificates.serverKey, { mode: 0o600 });

  let service: AzuriteBlobService;
  try {
    service = await startAzurite({ https: { certificatePath, keyPath }, oauth: 'basic' });
  } catch (error) {
    await rm(certificateFolder, { recursive: true, force: true });
    throw error;
  }

  let stopped: Promise<void> | undefined;
  return {
    blobServiceUri: service.blobEndpoint,
    caCertificate: certificates.caCertificate,
    stop: () => {
      stopped ??= service.stop().finally(() => rm(certificateFolder, { recursive: true, force: true }));
      return stopped;
    },
  };
}
