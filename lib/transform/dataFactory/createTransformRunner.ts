import fs from 'node:fs';
import { DefaultAzureCredential, type AccessToken, type TokenCredential } from '@azure/identity';
import { ConfigurationError } from '../../errors';
import { DataFactoryTransformRunner } from './DataFactoryTransformRunner';
import { dataFactorySettingNames, type DataFactorySettings } from './dataFactorySettings';
import type { TransformRunner } from './TransformRunner';

/** Lifetime claimed for the fixed test token, so that the client never asks for a new one during a test. */
const testTokenLifetimeInMilliseconds = 24 * 60 * 60 * 1000;

/**
 * Builds the Data Factory runner from its settings. It authenticates with DefaultAzureCredential
 * (a managed identity in Azure), or with the fixed token of `DATA_FACTORY_TEST_TOKEN` when set.
 */
export function createTransformRunner(settings: DataFactorySettings): TransformRunner {
  const credential = settings.testToken === undefined ? new DefaultAzureCredential() : createFixedTokenCredential(settings.testToken);
  return new DataFactoryTransformRunner(settings, {
    credential,
    caCertificates: settings.caCertificateFile === undefined ? undefined : readCaCertificates(settings.caCertificateFile),
  });
}

/** Returns a credential whose `getToken` always returns `token`. */
export function createFixedTokenCredential(token: string): TokenCredential {
  return {
    getToken: async (): Promise<AccessToken> => ({ token, expiresOnTimestamp: Date.now() + testTokenLifetimeInMilliseconds }),
  };
}

function readCaCertificates(file: string): string {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch (error) {
    throw new ConfigurationError(
      `Setting ${dataFactorySettingNames.caCertificateFile} names ${file}, which could not be read (${(error as NodeJS.ErrnoException).code ?? 'unknown error'}). ` +
        'Set it to the path of a PEM file, or remove it.',
      { cause: error },
    );
  }
}
