import { describe, expect, it } from 'vitest';

import { ConfigurationError } from '../../lib/errors';
import { AzureBlobPayloadStore } from '../../lib/payloadStore/AzureBlobPayloadStore';
import { createPayloadStore, type PayloadStoreOptions } from '../../lib/payloadStore/createPayloadStore';
import type { PayloadStore } from '../../lib/payloadStore/PayloadStore';
import { createFixedTokenCredential } from './support/jwtCredential';

const dataFolderPath = '/unused-data-folder';
const accountKey = 'c2VjcmV0LWFjY291bnQta2V5LWZvci10ZXN0cw==';
const keyConnectionString = `DefaultEndpointsProtocol=https;AccountName=contoso;AccountKey=${accountKey};EndpointSuffix=core.windows.net`;

// Records each credential request, so no test constructs DefaultAzureCredential or ManagedIdentityCredential.
function recordingOptions(): PayloadStoreOptions & { managedIdentityClientIds: (string | undefined)[] } {
  const managedIdentityClientIds: (string | undefined)[] = [];
  return {
    managedIdentityClientIds,
    createCredential: (managedIdentityClientId) => {
      managedIdentityClientIds.push(managedIdentityClientId);
      return createFixedTokenCredential('test-token');
    },
  };
}

function createWithUri(blobServiceUri: string, options: PayloadStoreOptions = recordingOptions()): () => PayloadStore {
  return () => createPayloadStore(dataFolderPath, { PAYLOAD_STORE: 'azure-blob', PAYLOAD_STORAGE__blobServiceUri: blobServiceUri }, options);
}

describe('createPayloadStore with a blob service URI', () => {
  it('selects azure blob store', () => {
    const store = createWithUri('https://contoso.blob.core.windows.net/')();

    expect(store).toBeInstanceOf(AzureBlobPayloadStore);
  });

  it('passes AZURE_CLIENT_ID to credential', () => {
    const options = recordingOptions();

    createPayloadStore(
      dataFolderPath,
      { PAYLOAD_STORE: 'azure-blob', PAYLOAD_STORAGE__blobServiceUri: 'https://contoso.blob.core.windows.net/', AZURE_CLIENT_ID: 'client-1' },
      options,
    );

    expect(options.managedIdentityClientIds).toEqual(['client-1']);
  });

  it('passes no client id when unset', () => {
    const options = recordingOptions();

    createWithUri('https://contoso.blob.core.windows.net/', options)();

    expect(options.managedIdentityClientIds).toEqual([undefined]);
  });

  it('accepts https on loopback', () => {
    const store = createWithUri('https://127.0.0.1:10000/devstoreaccount1')();

    expect(store).toBeInstanceOf(AzureBlobPayloadStore);
  });

  it('rejects both account settings', () => {
    const options = recordingOptions();
    const create = (): PayloadStore =>
      createPayloadStore(
        dataFolderPath,
        {
          PAYLOAD_STORE: 'azure-blob',
          PAYLOAD_STORAGE_CONNECTION_STRING: keyConnectionString,
          PAYLOAD_STORAGE__blobServiceUri: 'https://contoso.blob.core.windows.net/',
        },
        options,
      );

    expect(create).toThrow(ConfigurationError);
    expect(create).toThrow(
      'Both PAYLOAD_STORAGE_CONNECTION_STRING and PAYLOAD_STORAGE__blobServiceUri are set, but the payload store uses only one. ' +
        'Unset PAYLOAD_STORAGE_CONNECTION_STRING to sign in with a managed identity, or unset PAYLOAD_STORAGE__blobServiceUri to use the connection string.',
    );
    expect(options.managedIdentityClientIds).toEqual([]);
  });

  it('both settings error omits the key', () => {
    const error = captureError(() =>
      createPayloadStore(dataFolderPath, {
        PAYLOAD_STORE: 'azure-blob',
        PAYLOAD_STORAGE_CONNECTION_STRING: keyConnectionString,
        PAYLOAD_STORAGE__blobServiceUri: 'https://contoso.blob.core.windows.net/',
      }),
    );

    expect(error.message).not.toContain(accountKey);
  });

  it.each([
    {
      case: 'not a URL',
      uri: 'contoso.blob.core.windows.net',
      message:
        'Invalid PAYLOAD_STORAGE__blobServiceUri: the value is not a URL. ' +
        "Set it to the storage account's blob endpoint, such as https://<account>.blob.core.windows.net/.",
    },
    {
      case: 'connection string',
      uri: keyConnectionString,
      message:
        'Invalid PAYLOAD_STORAGE__blobServiceUri: the value looks like a connection string. Move it to PAYLOAD_STORAGE_CONNECTION_STRING, ' +
        "or set PAYLOAD_STORAGE__blobServiceUri to the storage account's blob endpoint, such as https://<account>.blob.core.windows.net/.",
    },
    {
      case: 'http',
      uri: 'http://contoso.blob.core.windows.net/',
      message:
        'Invalid PAYLOAD_STORAGE__blobServiceUri http://contoso.blob.core.windows.net/: expected an https URL, ' +
        "because the Azure SDK sends tokens only over https. Set it to the storage account's blob endpoint, " +
        'such as https://<account>.blob.core.windows.net/, or for Azurite over http set PAYLOAD_STORAGE_CONNECTION_STRING instead.',
    },
    {
      case: 'http on loopback',
      uri: 'http://127.0.0.1:10000/devstoreaccount1',
      message:
        'Invalid PAYLOAD_STORAGE__blobServiceUri http://127.0.0.1:10000/devstoreaccount1: expected an https URL, ' +
        "because the Azure SDK sends tokens only over https. Set it to the storage account's blob endpoint, " +
        'such as https://<account>.blob.core.windows.net/, or for Azurite over http set PAYLOAD_STORAGE_CONNECTION_STRING instead.',
    },
    {
      case: 'other scheme',
      uri: 'ftp://contoso.blob.core.windows.net/',
      message: 'Invalid PAYLOAD_STORAGE__blobServiceUri ftp://contoso.blob.core.windows.net/: expected an https URL,',
    },
    {
      case: 'user info',
      uri: 'https://admin:hunter2@contoso.blob.core.windows.net/',
      message:
        'Invalid PAYLOAD_STORAGE__blobServiceUri https://contoso.blob.core.windows.net/: expected no user name or password in the URL. ' +
        'Remove them, because the app signs in with its managed identity.',
    },
    {
      case: 'SAS query',
      uri: 'https://contoso.blob.core.windows.net/?sv=2024-11-04&sig=c2lnbmF0dXJl',
      message:
        'Invalid PAYLOAD_STORAGE__blobServiceUri https://contoso.blob.core.windows.net/: expected no query or fragment, such as a SAS token. ' +
        'Remove everything from "?" or "#", because the app signs in with its managed identity.',
    },
    {
      case: 'fragment',
      uri: 'https://contoso.blob.core.windows.net/#payloads',
      message: 'Invalid PAYLOAD_STORAGE__blobServiceUri https://contoso.blob.core.windows.net/: expected no query or fragment, such as a SAS token.',
    },
  ])('rejects $case', ({ uri, message }) => {
    const options = recordingOptions();
    const create = createWithUri(uri, options);

    expect(create).toThrow(ConfigurationError);
    expect(create).toThrow(message);
    expect(options.managedIdentityClientIds).toEqual([]);
  });

  it.each([
    { case: 'connection string', uri: keyConnectionString, secret: accountKey },
    { case: 'password', uri: 'https://admin:hunter2@contoso.blob.core.windows.net/', secret: 'hunter2' },
    { case: 'SAS signature', uri: 'https://contoso.blob.core.windows.net/?sv=2024-11-04&sig=c2lnbmF0dXJl', secret: 'c2lnbmF0dXJl' },
  ])('error omits $case secret', ({ uri, secret }) => {
    const error = captureError(createWithUri(uri));

    expect(error.message).not.toContain(secret);
  });

  it('rejects invalid container name', () => {
    const create = (): PayloadStore =>
      createPayloadStore(
        dataFolderPath,
        { PAYLOAD_STORE: 'azure-blob', PAYLOAD_STORAGE__blobServiceUri: 'https://contoso.blob.core.windows.net/', PAYLOAD_CONTAINER: 'Payloads_2024' },
        recordingOptions(),
      );

    expect(create).toThrow('Invalid payload store settings PAYLOAD_STORAGE__blobServiceUri or PAYLOAD_CONTAINER: Invalid container name "Payloads_2024"');
  });
});

describe('AzureBlobPayloadStore with a blob service URI', () => {
  it('rejects http URI', () => {
    const create = (): AzureBlobPayloadStore =>
      new AzureBlobPayloadStore({ blobServiceUri: 'http://127.0.0.1:10000/devstoreaccount1', credential: createFixedTokenCredential('test-token'), containerName: 'payloads' });

    expect(create).toThrow('Invalid blob service URI: expected an https URL such as https://<account>.blob.core.windows.net/.');
  });
});

function captureError(action: () => unknown): Error {
  try {
    action();
  } catch (error) {
    return error as Error;
  }
  throw new Error('Expected the action to throw, but it returned.');
}
