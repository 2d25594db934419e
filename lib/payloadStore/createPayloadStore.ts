import { mkdirSync } from 'node:fs';
import { join } from 'node:path';

import { ConfigurationError, errorMessageOf } from '../errors';
import { createAzureCredential, type AzureCredential } from '../secrets/azureCredential';
import { AzureBlobPayloadStore, type AzureBlobAccountAccess, type AzureBlobPayloadStoreOptions } from './AzureBlobPayloadStore';
import { validateBlobServiceUri } from './blobServiceUri';
import { LocalPayloadStore } from './LocalPayloadStore';
import type { PayloadStore } from './PayloadStore';

/** Settings that select and configure the payload store. */
export const payloadStoreSettings = {
  /** Adapter: "local" (default) or "azure-blob". */
  kind: 'PAYLOAD_STORE',
  /** Connection string of the storage account or Azurite, for "azure-blob" with a key or SAS. */
  connectionString: 'PAYLOAD_STORAGE_CONNECTION_STRING',
  /** Blob service URI, for "azure-blob" with a managed identity. The Functions name of an identity-based connection. */
  blobServiceUri: 'PAYLOAD_STORAGE__blobServiceUri',
  /** Client id of a user-assigned managed identity, used with the blob service URI. */
  managedIdentityClientId: 'AZURE_CLIENT_ID',
  /** Blob container of the payloads for "azure-blob". Defaults to "payloads". */
  containerName: 'PAYLOAD_CONTAINER',
} as const;

/** Values of PAYLOAD_STORE, compared without regard to letter case. */
export const payloadStoreKinds = ['local', 'azure-blob'] as const;

export const defaultPayloadContainerName = 'payloads';

/** Name of the data folder's subfolder where the "local" store writes payloads larger than 1 MiB. */
export const localPayloadFolderName = 'payloads';

export interface PayloadStoreOptions {
  /**
   * Returns the credential for a blob service URI, given the AZURE_CLIENT_ID setting. Tests pass
   * their own, and the default is `createAzureCredential`.
   */
  createCredential?: (managedIdentityClientId: string | undefined) => AzureCredential;
  /** TLS settings of the blob client, such as a test CA. */
  tlsOptions?: AzureBlobPayloadStoreOptions['tlsOptions'];
}

/**
 * Creates the payload store that the settings in `environment` select.
 *
 * "local" keeps payloads in `<dataFolderPath>/payloads.db`, and those larger than 1 MiB in
 * `<dataFolderPath>/payloads`. "azure-blob" keeps them in a blob
 * container. The store reaches it with PAYLOAD_STORAGE_CONNECTION_STRING, or signs in with a token
 * credential at PAYLOAD_STORAGE__blobServiceUri. An unset or empty setting counts as missing.
 * Invalid settings raise a ConfigurationError, whose message never contains a connection string.
 */
export function createPayloadStore(dataFolderPath: string, environment: NodeJS.ProcessEnv = process.env, options: PayloadStoreOptions = {}): PayloadStore {
  const configuredKind = readSetting(environment, payloadStoreSettings.kind);
  const kind = configuredKind?.toLowerCase() ?? 'local';

  if (kind === 'local') {
    mkdirSync(dataFolderPath, { recursive: true });
    return new LocalPayloadStore(dataFolderPath, join(dataFolderPath, localPayloadFolderName));
  }

  if (kind === 'azure-blob') {
    const access = readAccountAccess(environment, options);
    const containerName = readSetting(environment, payloadStoreSettings.containerName) ?? defaultPayloadContainerName;
    try {
      return new AzureBlobPayloadStore({ ...access, containerName, tlsOptions: options.tlsOptions });
    } catch (error) {
      const accessSetting = 'connectionString' in access ? payloadStoreSettings.connectionString : payloadStoreSettings.blobServiceUri;
      throw new ConfigurationError(`Invalid payload store settings ${accessSetting} or ${payloadStoreSettings.containerName}: ${errorMessageOf(error)}`, {
        cause: error,
      });
    }
  }

  const allowedKinds = payloadStoreKinds.map((allowedKind) => JSON.stringify(allowedKind)).join(' or ');
  throw new ConfigurationError(
    `Invalid ${payloadStoreSettings.kind} ${JSON.stringify(configuredKind)}: expected ${allowedKinds}. ` +
      `Unset it to keep payloads in the data folder.`,
  );
}

// Exactly one of the connection string and the blob service URI must be set.
function readAccountAccess(environment: NodeJS.ProcessEnv, options: PayloadStoreOptions): AzureBlobAccountAccess {
  const { kind, connectionString: connectionStringName, blobServiceUri: blobServiceUriName } = payloadStoreSettings;
  const connectionString = readSetting(environment, connectionStringName);
  const blobServiceUri = readSetting(environment, blobServiceUriName);

  if (connectionString !== undefined && blobServiceUri !== undefined) {
    throw new ConfigurationError(
      `Both ${connectionStringName} and ${blobServiceUriName} are set, but the payload store uses only one. ` +
        `Unset ${connectionStringName} to sign in with a managed identity, or unset ${blobServiceUriName} to use the connection string.`,
    );
  }
  if (connectionString !== undefined) {
    return { connectionString };
  }
  if (blobServiceUri === undefined) {
    throw new ConfigurationError(
      `${kind} is "azure-blob", but neither ${blobServiceUriName} nor ${connectionStringName} is set. ` +
        `Set ${blobServiceUriName} to the storage account's blob endpoint, such as https://<account>.blob.core.windows.net/, ` +
        `to sign in with a managed identity, or set ${connectionStringName} to a connection string with a key or SAS (or Azurite's). ` +
        `To keep payloads in the data folder, set ${kind} to "local".`,
    );
  }

  validateBlobServiceUri(blobServiceUri, blobServiceUriName, connectionStringName);
  const managedIdentityClientId = readSetting(environment, payloadStoreSettings.managedIdentityClientId);
  const createCredential = options.createCredential ?? createAzureCredential;
  return { blobServiceUri, credential: createCredential(managedIdentityClientId) };
}

function readSetting(environment: NodeJS.ProcessEnv, settingName: string): string | undefined {
  const value = environment[settingName]?.trim();
  return value === undefined || value === '' ? undefined : value;
}
