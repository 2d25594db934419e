import { mkdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';

/**
 * Azurite's development account. Its key is public (Azurite and the Azure Storage emulator
 * documentation publish it) and works only against an emulator.
 */
export const azuriteAccountName = 'devstoreaccount1';
export const azuriteAccountKey = 'Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==';

export interface AzuriteOptions {
  /**
   * Folder for Azurite's blob data, in the layout of `azurite --location <folder>`. When absent,
   * blobs live in memory and are gone after `stop()`.
   */
  folderPath?: string;
  /**
   * PEM certificate and key files for HTTPS. Azurite reads them once, when it starts. Without
   * them the service speaks plain HTTP.
   */
  https?: { certificatePath: string; keyPath: string };
  /**
   * `basic`: accept bearer tokens as well, decoded as JWTs without a signature check (Azurite's
   * `--oauth basic`, which needs `https`).
   */
  oauth?: 'basic';
}

/** A running Azurite blob service. */
export interface AzuriteBlobService {
  /** Blob endpoint including the account, like "http://127.0.0.1:41234/devstoreaccount1". */
  blobEndpoint: string;
  connectionString: string;
  /** Stops the service. Calling it again returns the same promise. */
  stop(): Promise<void>;
}

// The parts of Azurite's blob server that this file uses. Azurite ships no type declarations.
interface BlobServer {
  start(): Promise<void>;
  close(): Promise<void>;
  getHttpServerAddress(): string;
}
type BlobServerConstructor = new (configuration: unknown) => BlobServer;
type BlobConfigurationConstructor = new (...configurationArguments: unknown[]) => unknown;
type MemoryExtentChunkStoreConstructor = new (sizeLimitInBytes: number | undefined) => unknown;

/**
 * Starts Azurite's blob service in this process on 127.0.0.1 and a free port.
 *
 * Azurite's package `main` is its VS Code extension, so the blob server is loaded by deep import
 * from `azurite/dist/src/blob/`. It is loaded on the first call rather than on import, because
 * loading takes about a second (0.8 to 1.2 s measured on a 2-core VM). The server writes no access
 * or debug log and downloads nothing.
 *
 * The API version check is off because `@azure/storage-blob` 12.32.0 sends x-ms-version
 * 2026-04-06 and Azurite 3.35.0 accepts versions up to 2025-11-05. Both are pinned because they
 * are the last releases that declare support for Node 20.
 */
export async function startAzurite(options: AzuriteOptions = {}): Promise<AzuriteBlobService> {
  const BlobServerClass = (require('azurite/dist/src/blob/BlobServer') as { default: BlobServerConstructor }).default;
  const BlobConfiguration = (require('azurite/dist/src/blob/BlobConfiguration') as { default: BlobConfigurationConstructor }).default;
  const blobConstants = require('azurite/dist/src/blob/utils/constants') as {
    DEFAULT_BLOB_LOKI_DB_PATH: string;
    DEFAULT_BLOB_EXTENT_LOKI_DB_PATH: string;
    DEFAULT_BLOB_PERSISTENCE_PATH: string;
    DEFAULT_WRITE_CONCURRENCY_PER_LOCATION: number;
  };
  const memoryStore = require('azurite/dist/src/common/persistence/MemoryExtentStore') as {
    MemoryExtentChunkStore: MemoryExtentChunkStoreConstructor;
    DEFAULT_EXTENT_MEMORY_LIMIT: number;
  };

  const isInMemory = options.folderPath === undefined;
  const folderPath = resolve(options.folderPath ?? '.');
  if (!isInMemory) {
    await mkdir(folderPath, { recursive: true });
  }

  const configuration = new BlobConfiguration(
    '127.0.0.1', // host
    0, // port: any free one
    undefined, // keep-alive timeout: Azurite's default
    join(folderPath, blobConstants.DEFAULT_BLOB_LOKI_DB_PATH), // metadata database, unused in memory
    join(folderPath, blobConstants.DEFAULT_BLOB_EXTENT_LOKI_DB_PATH), // extent database, unused in memory
    [
      {
        locationId: 'Default',
        locationPath: join(folderPath, blobConstants.DEFAULT_BLOB_PERSISTENCE_PATH),
        maxConcurrency: blobConstants.DEFAULT_WRITE_CONCURRENCY_PER_LOCATION,
      },
    ],
    false, // access log
    undefined, // access log stream
    false, // debug log
    undefined, // debug log file
    false, // loose mode: not needed by @azure/storage-blob
    true, // skip the API version check
    options.https?.certificatePath ?? '', // certificate
    options.https?.keyPath ?? '', // certificate key
    '', // certificate password
    options.oauth, // OAuth level
    false, // disable product-style URLs
    isInMemory,
    // A chunk store of its own, because stopping a server clears its category ("blob") in the
    // store, which Azurite's shared store would clear for every in-memory server in the process.
    // Its size limit is Azurite's default, half of the machine's memory.
    isInMemory ? new memoryStore.MemoryExtentChunkStore(memoryStore.DEFAULT_EXTENT_MEMORY_LIMIT) : undefined,
  );

  const server = new BlobServerClass(configuration);
  await server.start();

  const blobEndpoint = `${server.getHttpServerAddress()}/${azuriteAccountName}`;
  const protocol = options.https === undefined ? 'http' : 'https';
  const connectionString =
    `DefaultEndpointsProtocol=${protocol};AccountName=${azuriteAccountName};` + `AccountKey=${azuriteAccountKey};BlobEndpoint=${blobEndpoint};`;

  let stopped: Promise<void> | undefined;
  return {
    blobEndpoint,
    connectionString,
    stop: () => {
      stopped ??= server.close();
      return stopped;
    },
  };
}
