import { join } from 'node:path';

import { ConfigurationError, errorMessageOf } from '../errors';
import { AzureBlobPayloadStore } from './AzureBlobPayloadStore';
import { FilePayloadStore } from './FilePayloadStore';
import type { PayloadStore } from './PayloadStore';

/** Settings that select and configure the payload store. */
export const payloadStoreSettings = {
  /** Adapter: "local" (default) or "azure-blob". */
  kind: 'PAYLOAD_STORE',
  /** Connection string of the storage account or Azurite. Required for "azure-blob". */
  connectionString: 'PAYLOAD_STORAGE_CONNECTION_STRING',
  /** Blob container of the payloads for "azure-blob". Defaults to "payloads". */
  containerName: 'PAYLOAD_CONTAINER',
} as const;

/** Values of PAYLOAD_STORE, compared without regard to letter case. */
export const payloadStoreKinds = ['local', 'azure-blob'] as const;

export const defaultPayloadContainerName = 'payloads';

/** Name of the data folder's subfolder that the "local" store writes to. */
export const localPayloadFolderName = 'payloads';

/**
 * Creates the payload store that the settings in `environment` select.
 *
 * "local" keeps payloads in `<dataFolderPath>/payloads`. "azure-blob" keeps them in a blob
 * container of the storage account that PAYLOAD_STORAGE_CONNECTION_STRING names. An unset or
 * empty setting counts as missing. Invalid settings raise a ConfigurationError.
 */
export function createPayloadStore(dataFolderPath: string, environment: NodeJS.ProcessEnv = process.env): PayloadStore {
  const configuredKind = readSetting(environment, payloadStoreSettings.kind);
  const kind = configuredKind?.toLowerCase() ?? 'local';

  if (kind === 'local') {
    return new FilePayloadStore(join(dataFolderPath, localPayloadFolderName));
  }

  if (kind === 'azure-blob') {
    const connectionString = readSetting(environment, payloadStoreSettings.connectionString);
    if (connectionString === undefined) {
      throw new ConfigurationError(
        `${payloadStoreSettings.connectionString} is not set, but ${payloadStoreSettings.kind} is "azure-blob". ` +
          "Set it to the storage account's connection string (or Azurite's), " +
          `or set ${payloadStoreSettings.kind} to "local" to keep payloads in the data folder.`,
      );
    }
    const containerName = readSetting(environment, payloadStoreSettings.containerName) ?? defaultPayloadContainerName;
    try {
      return new AzureBlobPayloadStore({ connectionString, containerName });
    } catch (error) {
      throw new ConfigurationError(
        `Invalid payload store settings ${payloadStoreSettings.connectionString} or ${payloadStoreSettings.containerName}: ` +
          errorMessageOf(error),
        { cause: error },
      );
    }
  }

  const allowedKinds = payloadStoreKinds.map((allowedKind) => JSON.stringify(allowedKind)).join(' or ');
  throw new ConfigurationError(
    `Invalid ${payloadStoreSettings.kind} ${JSON.stringify(configuredKind)}: expected ${allowedKinds}. ` +
      `Unset it to keep payloads in the data folder.`,
  );
}

function readSetting(environment: NodeJS.ProcessEnv, settingName: string): string | undefined {
  const value = environment[settingName]?.trim();
  return value === undefined || value === '' ? undefined : value;
}
