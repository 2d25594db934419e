import { ConfigurationError } from '../errors';

const exampleBlobServiceUri = 'https://<account>.blob.core.windows.net/';

// Matches the keys of a connection string. Such a value is never echoed, because it may contain an account key.
const connectionStringPattern = /(?:^|;)\s*(?:DefaultEndpointsProtocol|AccountName|AccountKey|SharedAccessSignature|BlobEndpoint|UseDevelopmentStorage)=/i;

/**
 * Throws a ConfigurationError unless `value` is an https URL with no user info, query or fragment,
 * and returns it unchanged otherwise. `settingName` and `connectionStringSettingName` name the
 * settings in the messages.
 *
 * http is rejected on every host, loopback included, because @azure/core-rest-pipeline 1.24.0
 * refuses to send a bearer token to a URL that is not https. Messages show the URL without user
 * info, query and fragment, which may contain a SAS token or a password, and never show a value
 * that is not a URL.
 */
export function validateBlobServiceUri(value: string, settingName: string, connectionStringSettingName: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    if (connectionStringPattern.test(value)) {
      throw new ConfigurationError(
        `Invalid ${settingName}: the value looks like a connection string. Move it to ${connectionStringSettingName}, ` +
          `or set ${settingName} to the storage account's blob endpoint, such as ${exampleBlobServiceUri}.`,
      );
    }
    throw new ConfigurationError(
      `Invalid ${settingName}: the value is not a URL. Set it to the storage account's blob endpoint, such as ${exampleBlobServiceUri}.`,
    );
  }

  const shownUri = `${url.protocol}//${url.host}${url.pathname}`;
  if (url.protocol !== 'https:') {
    throw new ConfigurationError(
      `Invalid ${settingName} ${shownUri}: expected an https URL, because the Azure SDK sends tokens only over https. ` +
        `Set it to the storage account's blob endpoint, such as ${exampleBlobServiceUri}, ` +
        `or for Azurite over http set ${connectionStringSettingName} instead.`,
    );
  }
  if (url.username !== '' || url.password !== '') {
    throw new ConfigurationError(
      `Invalid ${settingName} ${shownUri}: expected no user name or password in the URL. ` +
        'Remove them, because the app signs in with its managed identity.',
    );
  }
  if (url.search !== '' || url.hash !== '' || value.includes('?') || value.includes('#')) {
    throw new ConfigurationError(
      `Invalid ${settingName} ${shownUri}: expected no query or fragment, such as a SAS token. ` +
        'Remove everything from "?" or "#", because the app signs in with its managed identity.',
    );
  }
  return value;
}
