import { randomUUID } from 'node:crypto';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { gzipSync } from 'node:zlib';

import { BlobServiceClient } from '@azure/storage-blob';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { ConfigurationError, PermanentError, RetryableError } from '../lib/errors';
import { startAzurite, type AzuriteBlobService } from '../local/azurite';
import { AzureBlobPayloadStore } from '../lib/payloadStore/AzureBlobPayloadStore';
import { createPayloadStore } from '../lib/payloadStore/createPayloadStore';
import { FilePayloadStore, tempFileSuffix } from '../lib/payloadStore/FilePayloadStore';
import { LocalPayloadStore, localPayloadDatabaseFileName } from '../lib/payloadStore/LocalPayloadStore';
import type { PayloadStore } from '../lib/payloadStore/PayloadStore';
import { describePayloadStoreContract, sha256Of } from './payloadStore/payloadStoreContract';

const realAccountConnectionString = process.env.AZURE_PAYLOAD_STORAGE_CONNECTION_STRING?.trim() ?? '';
const realAccountContainerName = 'payload-store-contract-tests';

describe('file payload store', () => {
  let folderPath: string;

  beforeAll(async () => {
    folderPath = await mkdtemp(join(tmpdir(), 'payload-store-'));
  });

  afterAll(async () => {
    await rm(folderPath, { recursive: true, force: true });
  });

  describe('contract', () => {
    describePayloadStoreContract(async () => ({
      store: new FilePayloadStore(join(folderPath, 'contract')),
      close: async () => undefined,
    }));
  });

  it('leftover temp file stays invisible', async () => {
    const store = new FilePayloadStore(join(folderPath, 'interrupted'));
    const name = 'raw/orders/A-4';
    const firstBytes = Buffer.from('first version, complete');
    await store.put(name, firstBytes, { contentType: 'text/plain' });
    // An interrupted put leaves a temp file beside the target with part of the new file in it.
    const filePath = store.filePathFor(name);
    const fileBytes = await readFile(filePath);
    await writeFile(`${filePath}.${randomUUID()}${tempFileSuffix}`, fileBytes.subarray(0, fileBytes.length - 5));

    const stored = await store.get(name);

    expect(stored?.bytes).toEqual(firstBytes);
  });

  it('temp file alone is not a payload', async () => {
    const store = new FilePayloadStore(join(folderPath, 'interrupted-first-write'));
    const name = 'raw/orders/A-5';
    const filePath = store.filePathFor(name);
    await mkdir(dirname(filePath), { recursive: true });
    await writeFile(`${filePath}.${randomUUID()}${tempFileSuffix}`, 'partial');

    expect(await store.get(name)).toBeUndefined();
    expect(await store.exists(name)).toBe(false);
  });

  it('put leaves no temp file', async () => {
    const store = new FilePayloadStore(join(folderPath, 'no-leftovers'));
    const name = 'raw/orders/A-6';

    await store.put(name, Buffer.from('x'), { contentType: 'text/plain' });
    const filePath = store.filePathFor(name);
    const fileNames = await readdir(dirname(filePath));

    expect(fileNames).toEqual([basename(filePath)]);
  });

  it('put under a file is permanent', async () => {
    const filePath = join(folderPath, 'not-a-folder');
    await writeFile(filePath, 'x');
    const store = new FilePayloadStore(filePath);

    const put = store.put('raw/orders/A-12', Buffer.from('x'), { contentType: 'text/plain' });

    await expect(put).rejects.toBeInstanceOf(PermanentError);
    await expect(put).rejects.toThrow(`Failed to write payload "raw/orders/A-12" to ${store.filePathFor('raw/orders/A-12')}: ENOTDIR`);
  });

  it('get rejects corrupt file', async () => {
    const store = new FilePayloadStore(join(folderPath, 'corrupt'));
    const name = 'raw/orders/A-7';
    await store.put(name, Buffer.from('original bytes'), { contentType: 'text/plain' });
    const filePath = store.filePathFor(name);
    const fileBytes = await readFile(filePath);
    fileBytes[fileBytes.length - 1] ^= 0xff;
    await writeFile(filePath, fileBytes);

    await expect(store.get(name)).rejects.toThrow(`Payload "raw/orders/A-7" in ${filePath} is corrupt: its SHA-256 is`);
  });
});

describe('azure blob payload store on Azurite', () => {
  let azurite: AzuriteBlobService;
  const containerName = 'payloads';

  beforeAll(async () => {
    azurite = await startAzurite();
  });

  afterAll(async () => {
    await azurite?.stop();
  });

  describe('contract', () => {
    describePayloadStoreContract(async () => ({
      store: new AzureBlobPayloadStore({ connectionString: azurite.connectionString, containerName }),
      close: async () => undefined,
    }));
  });

  it('blob properties hold headers and sha256', async () => {
    const store = new AzureBlobPayloadStore({ connectionString: azurite.connectionString, containerName });
    const bytes = gzipSync(Buffer.from('{"orderId":"A-8"}'));
    await store.put('raw/orders/A-8', bytes, { contentType: 'application/json', contentEncoding: 'gzip' });

    const blobClient = BlobServiceClient.fromConnectionString(azurite.connectionString)
      .getContainerClient(containerName)
      .getBlobClient('raw/orders/A-8');
    const properties = await blobClient.getProperties();

    expect(properties.contentType).toBe('application/json');
    expect(properties.contentEncoding).toBe('gzip');
    expect(properties.metadata?.sha256).toBe(sha256Of(bytes));
  });

  it('get rejects blob with wrong sha256', async () => {
    const store = new AzureBlobPayloadStore({ connectionString: azurite.connectionString, containerName });
    const blockBlobClient = BlobServiceClient.fromConnectionString(azurite.connectionString)
      .getContainerClient(containerName)
      .getBlockBlobClient('raw/orders/A-9');
    await store.put('raw/orders/A-9', Buffer.from('original'), { contentType: 'text/plain' });
    await blockBlobClient.uploadData(Buffer.from('replaced'), { metadata: { sha256: sha256Of(Buffer.from('original')) } });

    await expect(store.get('raw/orders/A-9')).rejects.toThrow('Payload "raw/orders/A-9" in');
    await expect(store.get('raw/orders/A-9')).rejects.toThrow(`is corrupt: its SHA-256 is ${sha256Of(Buffer.from('replaced'))}`);
  });

  it('put creates missing container', async () => {
    const store = new AzureBlobPayloadStore({ connectionString: azurite.connectionString, containerName: 'created-on-first-put' });

    await store.put('raw/orders/A-10', Buffer.from('x'), { contentType: 'text/plain' });

    expect(await store.exists('raw/orders/A-10')).toBe(true);
  });

  it('wrong account key is permanent', async () => {
    const connectionString = azurite.connectionString.replace(/AccountKey=[^;]+/, `AccountKey=${Buffer.alloc(64).toString('base64')}`);
    const store = new AzureBlobPayloadStore({ connectionString, containerName });

    const put = store.put('raw/orders/A-13', Buffer.from('x'), { contentType: 'text/plain' });

    await expect(put).rejects.toBeInstanceOf(PermanentError);
    await expect(put).rejects.toThrow('Failed to write payload "raw/orders/A-13" in');
  });

  it('stopped service is retryable', async () => {
    const stoppedAzurite = await startAzurite();
    await stoppedAzurite.stop();
    const store = new AzureBlobPayloadStore({
      connectionString: stoppedAzurite.connectionString,
      containerName,
      retryOptions: { maxTries: 1 },
    });

    const put = store.put('raw/orders/A-14', Buffer.from('x'), { contentType: 'text/plain' });

    await expect(put).rejects.toBeInstanceOf(RetryableError);
    await expect(put).rejects.toThrow(`Failed to write payload "raw/orders/A-14" in ${stoppedAzurite.blobEndpoint}/${containerName}`);
  });

  it('missing container reads as empty', async () => {
    const store = new AzureBlobPayloadStore({ connectionString: azurite.connectionString, containerName: 'never-created' });

    expect(await store.get('raw/orders/A-11')).toBeUndefined();
    expect(await store.exists('raw/orders/A-11')).toBe(false);
    expect(await store.delete('raw/orders/A-11')).toBe(false);
  });
});

const realAccountSuiteName = 'azure blob payload store on a real account';
if (realAccountConnectionString === '') {
  describe.skip(`${realAccountSuiteName} (skipped: set AZURE_PAYLOAD_STORAGE_CONNECTION_STRING to run)`, () => {
    it('contract', () => undefined);
  });
} else {
  describe(realAccountSuiteName, () => {
    describePayloadStoreContract(async () => ({
      store: new AzureBlobPayloadStore({ connectionString: realAccountConnectionString, containerName: realAccountContainerName }),
      close: async () => undefined,
    }));
  });
}

describe('createPayloadStore', () => {
  let dataFolderPath: string;

  beforeAll(async () => {
    dataFolderPath = await mkdtemp(join(tmpdir(), 'connector-data-'));
  });

  afterAll(async () => {
    await rm(dataFolderPath, { recursive: true, force: true });
  });

  it('defaults to local store in the data folder', async () => {
    const store = createPayloadStore(dataFolderPath, {});

    expect(store).toBeInstanceOf(LocalPayloadStore);
    await store.put('raw/a', Buffer.from('a'), { contentType: 'text/plain' });
    expect(await readdir(dataFolderPath)).toContain(localPayloadDatabaseFileName);
    (store as LocalPayloadStore).close();
  });

  it('selects azure blob store', () => {
    const store = createPayloadStore(dataFolderPath, {
      PAYLOAD_STORE: 'azure-blob',
      PAYLOAD_STORAGE_CONNECTION_STRING: 'UseDevelopmentStorage=true',
    });

    expect(store).toBeInstanceOf(AzureBlobPayloadStore);
  });

  it('rejects unknown store kind', () => {
    const create = (): PayloadStore => createPayloadStore(dataFolderPath, { PAYLOAD_STORE: 's3' });

    expect(create).toThrow(ConfigurationError);
    expect(create).toThrow('Invalid PAYLOAD_STORE "s3": expected "local" or "azure-blob". Unset it to keep payloads in the data folder.');
  });

  it('rejects missing account settings', () => {
    const create = (): PayloadStore => createPayloadStore(dataFolderPath, { PAYLOAD_STORE: 'azure-blob' });

    expect(create).toThrow(ConfigurationError);
    expect(create).toThrow(
      'PAYLOAD_STORE is "azure-blob", but neither PAYLOAD_STORAGE__blobServiceUri nor PAYLOAD_STORAGE_CONNECTION_STRING is set. ' +
        "Set PAYLOAD_STORAGE__blobServiceUri to the storage account's blob endpoint, such as https://<account>.blob.core.windows.net/, " +
        "to sign in with a managed identity, or set PAYLOAD_STORAGE_CONNECTION_STRING to a connection string with a key or SAS (or Azurite's). " +
        'To keep payloads in the data folder, set PAYLOAD_STORE to "local".',
    );
  });

  it('rejects blank connection string', () => {
    const create = (): PayloadStore =>
      createPayloadStore(dataFolderPath, { PAYLOAD_STORE: 'azure-blob', PAYLOAD_STORAGE_CONNECTION_STRING: '  ' });

    expect(create).toThrow('neither PAYLOAD_STORAGE__blobServiceUri nor PAYLOAD_STORAGE_CONNECTION_STRING is set');
  });

  it('rejects malformed connection string', () => {
    const create = (): PayloadStore =>
      createPayloadStore(dataFolderPath, { PAYLOAD_STORE: 'azure-blob', PAYLOAD_STORAGE_CONNECTION_STRING: 'AccountName=only' });

    expect(create).toThrow(
      'Invalid payload store settings PAYLOAD_STORAGE_CONNECTION_STRING or PAYLOAD_CONTAINER: Invalid storage connection string: ' +
        'Invalid BlobEndpoint in the provided SAS Connection String.',
    );
  });

  it('rejects invalid container name', () => {
    const create = (): PayloadStore =>
      createPayloadStore(dataFolderPath, {
        PAYLOAD_STORE: 'azure-blob',
        PAYLOAD_STORAGE_CONNECTION_STRING: 'UseDevelopmentStorage=true',
        PAYLOAD_CONTAINER: 'Payloads_2024',
      });

    expect(create).toThrow('Invalid container name "Payloads_2024": expected 3 to 63 lowercase letters');
  });
});
