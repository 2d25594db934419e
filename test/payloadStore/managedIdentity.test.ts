import { inspect } from 'node:util';

import { ClientSecretCredential } from '@azure/identity';
import { BlobServiceClient, type StoragePipelineOptions } from '@azure/storage-blob';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { PermanentError } from '../../lib/errors';
import { AzureBlobPayloadStore } from '../../lib/payloadStore/AzureBlobPayloadStore';
import { createPayloadStore } from '../../lib/payloadStore/createPayloadStore';
import { describePayloadStoreContract } from './payloadStoreContract';
import { createFixedTokenCredential, createTestJwt, type FixedTokenCredential } from './support/jwtCredential';
import { startAzuriteWithOAuth, type AzuriteOAuthBlobService } from './support/startAzuriteWithOAuth';

const containerName = 'payloads';
const nowInSeconds = (): number => Math.floor(Date.now() / 1000);

// Every store here gets its credential injected, so no test constructs DefaultAzureCredential or
// ManagedIdentityCredential, which would probe the instance metadata endpoint.
describe('azure blob payload store with a token on Azurite', () => {
  let azurite: AzuriteOAuthBlobService;
  let credential: FixedTokenCredential;

  beforeAll(async () => {
    azurite = await startAzuriteWithOAuth();
    credential = createFixedTokenCredential(createTestJwt(nowInSeconds(), 3600));
  });

  afterAll(async () => {
    await azurite?.stop();
  });

  const openStore = (tokenCredential: FixedTokenCredential): AzureBlobPayloadStore =>
    new AzureBlobPayloadStore({
      blobServiceUri: azurite.blobServiceUri,
      credential: tokenCredential,
      containerName,
      tlsOptions: { ca: azurite.caCertificate },
      retryOptions: { maxTries: 1 },
    });

  describe('contract', () => {
    describePayloadStoreContract(async () => ({ store: openStore(credential), close: async () => undefined }));
  });

  it('credential gets storage scope', async () => {
    const scopedCredential = createFixedTokenCredential(createTestJwt(nowInSeconds(), 3600));

    await openStore(scopedCredential).put('raw/orders/B-1', Buffer.from('x'), { contentType: 'text/plain' });

    expect(scopedCredential.tokenRequests[0]).toEqual(['https://storage.azure.com/.default']);
  });

  it('expired token is permanent', async () => {
    const expiredCredential = createFixedTokenCredential(createTestJwt(nowInSeconds() - 7200, 3600));

    const put = openStore(expiredCredential).put('raw/orders/B-2', Buffer.from('x'), { contentType: 'text/plain' });

    await expect(put).rejects.toBeInstanceOf(PermanentError);
    await expect(put).rejects.toThrow('Failed to write payload "raw/orders/B-2" in');
    await expect(put).rejects.toThrow('Server failed to authenticate the request.');
  });

  it('error omits the token', async () => {
    const expiredCredential = createFixedTokenCredential(createTestJwt(nowInSeconds() - 7200, 3600));

    const put = openStore(expiredCredential).put('raw/orders/B-3', Buffer.from('x'), { contentType: 'text/plain' });
    const error = await put.then(
      () => undefined,
      (caught: unknown) => caught as Error,
    );

    expect(error).toBeInstanceOf(PermanentError);
    expect(error?.message).not.toContain(expiredCredential.token);
    // What a logger prints: the RestError cause keeps its request, whose headers the SDK sanitizes.
    expect(inspect(error, { depth: 8 })).not.toContain(expiredCredential.token);
  });

  it('request without token is rejected', async () => {
    // No credential: the SDK sends the request without an Authorization header.
    const pipelineOptions = { tlsOptions: { ca: azurite.caCertificate }, retryOptions: { maxTries: 1 } } as StoragePipelineOptions;
    const anonymousClient = new BlobServiceClient(azurite.blobServiceUri, undefined, pipelineOptions);

    const create = anonymousClient.getContainerClient('anonymous').create();

    await expect(create).rejects.toMatchObject({ statusCode: 403 });
  });

  it('createPayloadStore signs in with identity', async () => {
    const managedIdentityClientIds: (string | undefined)[] = [];
    const store = createPayloadStore(
      '/unused-data-folder',
      {
        PAYLOAD_STORE: 'azure-blob',
        PAYLOAD_STORAGE__blobServiceUri: azurite.blobServiceUri,
        AZURE_CLIENT_ID: '11111111-2222-3333-4444-555555555555',
      },
      {
        createCredential: (managedIdentityClientId) => {
          managedIdentityClientIds.push(managedIdentityClientId);
          return credential;
        },
        tlsOptions: { ca: azurite.caCertificate },
      },
    );

    await store.put('raw/orders/B-4', Buffer.from('signed in'), { contentType: 'text/plain' });
    const stored = await store.get('raw/orders/B-4');

    expect(stored?.bytes.toString()).toBe('signed in');
    expect(managedIdentityClientIds).toEqual(['11111111-2222-3333-4444-555555555555']);
  });
});

const realAccountSettingNames = ['AZURE_PAYLOAD_STORAGE_BLOB_SERVICE_URI', 'AZURE_TENANT_ID', 'AZURE_CLIENT_ID', 'AZURE_CLIENT_SECRET'];
const realAccountConfigured = realAccountSettingNames.every((name) => (process.env[name]?.trim() ?? '') !== '');

// A service principal's client secret is the one credential that never probes the managed
// identity endpoint, so it is the only one these tests construct. Its identity needs Storage Blob
// Data Contributor on the account.
describe.skipIf(!realAccountConfigured)(`azure blob payload store with a token on a real account (needs ${realAccountSettingNames.join(', ')})`, () => {
  describePayloadStoreContract(async () => {
    const environment = process.env;
    const credential = new ClientSecretCredential(environment.AZURE_TENANT_ID ?? '', environment.AZURE_CLIENT_ID ?? '', environment.AZURE_CLIENT_SECRET ?? '');
    const store = new AzureBlobPayloadStore({
      blobServiceUri: environment.AZURE_PAYLOAD_STORAGE_BLOB_SERVICE_URI ?? '',
      credential,
      containerName: 'payload-store-contract-tests',
    });
    return { store, close: async () => undefined };
  });
});
