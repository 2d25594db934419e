import { BlobServiceClient, type BlobDownloadResponseParsed, type ContainerClient, type StoragePipelineOptions, type StorageRetryOptions } from '@azure/storage-blob';

import { ConfigurationError, PermanentError, RetryableError, errorMessageOf } from '../errors';
import type { AzureCredential } from '../secrets/azureCredential';
import {
  digestPayload,
  validatePayloadHeaders,
  validatePayloadName,
  type PayloadDigest,
  type PayloadHeaders,
  type PayloadStore,
  type StoredPayload,
} from './PayloadStore';

/** Access to the storage account: a connection string, or a blob service URI with a token credential. */
export type AzureBlobAccountAccess =
  | {
      /** Account key or SAS connection string of the storage account, or of Azurite. */
      connectionString: string;
    }
  | {
      /** Blob service endpoint, such as https://<account>.blob.core.windows.net/. Must be https. */
      blobServiceUri: string;
      /** Credential from which the SDK requests tokens for the scope https://storage.azure.com/.default. */
      credential: AzureCredential;
    };

export type AzureBlobPayloadStoreOptions = AzureBlobAccountAccess & {
  /** Container of the payloads. `put` creates it if it is missing. */
  containerName: string;
  /**
   * Retries of each request inside the SDK. The SDK's default in @azure/storage-blob 12.32.0 is 4
   * tries with exponential delays from 4 s up to 120 s.
   */
  retryOptions?: StorageRetryOptions;
  /**
   * TLS settings of the client's pipeline, such as a test CA for a loopback HTTPS server. `ca`
   * replaces Node's bundled root certificates for this client.
   */
  tlsOptions?: { ca: string | string[] };
};

/** Blob metadata key of the payload's SHA-256 (lowercase hex), which `get` checks. */
export const sha256MetadataKey = 'sha256';

// Azure's container naming rules: 3 to 63 characters, lowercase letters, digits and single
// hyphens, starting and ending with a letter or digit.
const containerNamePattern = /^(?=.{3,63}$)[a-z0-9]+(?:-[a-z0-9]+)*$/;

/**
 * Payload store in an Azure Blob Storage container, one block blob per payload, named like the
 * payload. Content type and content encoding are the blob's HTTP headers, and the SHA-256 that
 * `put` computes is kept as blob metadata.
 *
 * A service error is re-raised with the payload name and the SDK's RestError as `cause`. It is a
 * RetryableError for a network error, 408, 429 or 5xx, and a PermanentError for any other status.
 */
export class AzureBlobPayloadStore implements PayloadStore {
  readonly #containerClient: ContainerClient;
  // Container URL for messages, without the query that contains the SAS token of a SAS connection string.
  readonly #containerLocation: string;
  #containerReady: Promise<void> | undefined;

  constructor(options: AzureBlobPayloadStoreOptions) {
    if (!containerNamePattern.test(options.containerName)) {
      throw new ConfigurationError(
        `Invalid container name ${JSON.stringify(options.containerName)}: expected 3 to 63 lowercase letters, ` +
          'digits and single hyphens, starting and ending with a letter or digit, such as "payloads".',
      );
    }

    const serviceClient = createBlobServiceClient(options);
    this.#containerClient = serviceClient.getContainerClient(options.containerName);
    const containerUrl = new URL(this.#containerClient.url);
    containerUrl.search = '';
    this.#containerLocation = containerUrl.toString();
  }

  async put(name: string, bytes: Buffer, headers: PayloadHeaders): Promise<PayloadDigest> {
    validatePayloadName(name);
    validatePayloadHeaders(headers);
    if (!Buffer.isBuffer(bytes)) {
      throw new TypeError(`Invalid bytes for payload ${JSON.stringify(name)}: expected a Buffer, got ${typeof bytes}.`);
    }

    const digest = digestPayload(bytes);
    try {
      await this.#prepareContainer();
      // A single Put Blob replaces bytes, headers and metadata together. Azure Storage returns
      // success only after writing every replica in the primary region (Azure Storage redundancy docs).
      await this.#containerClient.getBlockBlobClient(name).uploadData(bytes, {
        blobHTTPHeaders: {
          blobContentType: headers.contentType,
          blobContentEncoding: headers.contentEncoding,
        },
        metadata: { [sha256MetadataKey]: digest.sha256 },
      });
    } catch (error) {
      throw this.#wrapServiceError('write', name, error);
    }
    return digest;
  }

  async get(name: string): Promise<StoredPayload | undefined> {
    validatePayloadName(name);

    let response: BlobDownloadResponseParsed;
    let bytes: Buffer;
    try {
      // One download request returns bytes and headers of the same blob version. Separate
      // requests for properties and bytes could straddle an overwrite.
      response = await this.#containerClient.getBlobClient(name).download();
      bytes = await readStream(response.readableStreamBody);
    } catch (error) {
      if (isNotFound(error)) {
        return undefined;
      }
      throw this.#wrapServiceError('read', name, error);
    }

    const digest = digestPayload(bytes);
    if (response.contentLength !== undefined && response.contentLength !== digest.sizeInBytes) {
      throw this.#corrupt(name, `the download has ${digest.sizeInBytes} bytes, expected ${response.contentLength}`);
    }
    const storedSha256 = response.metadata?.[sha256MetadataKey];
    if (storedSha256 !== undefined && storedSha256 !== digest.sha256) {
      throw this.#corrupt(name, `its SHA-256 is ${digest.sha256}, expected ${storedSha256} from the blob metadata`);
    }

    // A blob written without a content type (not by this store) reads as Azure's default type.
    const payload: StoredPayload = { bytes, contentType: response.contentType ?? 'application/octet-stream', ...digest };
    if (response.contentEncoding !== undefined && response.contentEncoding !== '') {
      payload.contentEncoding = response.contentEncoding;
    }
    return payload;
  }

  async exists(name: string): Promise<boolean> {
    validatePayloadName(name);
    try {
      return await this.#containerClient.getBlobClient(name).exists();
    } catch (error) {
      throw this.#wrapServiceError('check', name, error);
    }
  }

  async delete(name: string): Promise<boolean> {
    validatePayloadName(name);
    try {
      await this.#containerClient.getBlobClient(name).delete({ deleteSnapshots: 'include' });
      return true;
    } catch (error) {
      if (isNotFound(error)) {
        return false;
      }
      throw this.#wrapServiceError('delete', name, error);
    }
  }

  // Creates the container on the first put of this instance. A failed attempt is forgotten so
  // that the next put tries again.
  #prepareContainer(): Promise<void> {
    if (this.#containerReady === undefined) {
      const ready = this.#containerClient.createIfNotExists().then(() => undefined);
      this.#containerReady = ready;
      ready.catch(() => {
        if (this.#containerReady === ready) {
          this.#containerReady = undefined;
        }
      });
    }
    return this.#containerReady;
  }

  #wrapServiceError(operation: 'write' | 'read' | 'check' | 'delete', name: string, error: unknown): Error {
    const message = `Failed to ${operation} payload ${JSON.stringify(name)} in ${this.#containerLocation}: ${errorMessageOf(error)}`;
    if (isRetryableServiceError(error)) {
      return new RetryableError(message, { cause: error });
    }
    return new PermanentError(message, { cause: error });
  }

  #corrupt(name: string, reason: string): Error {
    return new PermanentError(
      `Payload ${JSON.stringify(name)} in ${this.#containerLocation} is corrupt: ` +
        `${reason}. Restore the blob from a backup or soft-deleted version, or delete it and ask the sender to resend it.`,
    );
  }
}

// The Azure SDK's pipeline options accept `tlsOptions` (it passes them on to
// @azure/core-rest-pipeline), but StoragePipelineOptions in 12.32.0 does not declare them.
function createBlobServiceClient(options: AzureBlobPayloadStoreOptions): BlobServiceClient {
  const pipelineOptions: StoragePipelineOptions & Pick<AzureBlobPayloadStoreOptions, 'tlsOptions'> = {
    retryOptions: options.retryOptions,
    tlsOptions: options.tlsOptions,
  };

  if ('blobServiceUri' in options) {
    // The SDK sends a bearer token only to an https URL, and rejects each request otherwise.
    if (!options.blobServiceUri.toLowerCase().startsWith('https://')) {
      throw new ConfigurationError(`Invalid blob service URI: expected an https URL such as https://<account>.blob.core.windows.net/.`);
    }
    return new BlobServiceClient(options.blobServiceUri, options.credential, pipelineOptions);
  }

  try {
    return BlobServiceClient.fromConnectionString(options.connectionString, pipelineOptions);
  } catch (error) {
    // The SDK's messages name the invalid part without echoing the secret.
    throw new ConfigurationError(
      `Invalid storage connection string: ${errorMessageOf(error)}. Copy the connection string ` +
        "from the storage account's Access keys page, or use Azurite's development connection string.",
      { cause: error },
    );
  }
}

async function readStream(stream: NodeJS.ReadableStream | undefined): Promise<Buffer> {
  if (stream === undefined) {
    return Buffer.alloc(0);
  }
  const chunks: Buffer[] = [];
  for await (const chunk of stream) {
    chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
  }
  return Buffer.concat(chunks);
}

// Covers both a missing blob and a missing container, which `get` and `delete` treat alike.
function isNotFound(error: unknown): boolean {
  return (error as { statusCode?: unknown } | undefined)?.statusCode === 404;
}

// A RestError without a status code failed before any response arrived, such as a refused
// connection or a timeout.
function isRetryableServiceError(error: unknown): boolean {
  const statusCode = (error as { statusCode?: unknown } | undefined)?.statusCode;
  if (typeof statusCode !== 'number') {
    return true;
  }
  return statusCode === 408 || statusCode === 429 || statusCode >= 500;
}
