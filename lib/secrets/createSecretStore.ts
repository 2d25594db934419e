import type { SecretClientOptions } from '@azure/keyvault-secrets';
import type pino from 'pino';
import type { Environment } from '../settings';
import { createAzureCredential } from './azureCredential';
import { KeyVaultSecretStore, type KeyVaultCredential } from './keyVaultSecretStore';
import { createLocalSecretStore } from './localSecretStore';
import { readKeyVaultSettings, type KeyVaultSettings } from './secretStoreSettings';
import type { SecretStore } from './secretStore';

export interface SecretStoreOptions {
  /** Every `secretRef` that a Key Vault store loads on each refresh. */
  secretRefs: string[];
  logger: pino.Logger;
  /** Called after each Key Vault refresh that succeeded. */
  onRefresh?: () => void;
  environment?: Environment;
  /** Returns the credential for Key Vault. Tests pass their own, and the default is `createAzureCredential`. */
  createCredential?: (settings: KeyVaultSettings) => KeyVaultCredential;
  /** Added to the Key Vault client's options, such as `tlsOptions` in tests. */
  clientOptions?: SecretClientOptions;
}

/**
 * Returns the Key Vault secret store when `KEY_VAULT_URL` is set, and otherwise the store that
 * reads secrets from settings. Throws a ConfigurationError for an invalid setting or a `secretRef`
 * that cannot be a Key Vault secret name.
 */
export function createSecretStore(options: SecretStoreOptions): SecretStore {
  const environment = options.environment ?? process.env;
  const settings = readKeyVaultSettings(environment);
  if (settings === undefined) {
    return createLocalSecretStore(environment);
  }

  options.logger.info({ vaultUrl: settings.vaultUrl, managedIdentityClientId: settings.managedIdentityClientId }, 'secrets come from Key Vault');
  return new KeyVaultSecretStore({
    settings,
    credential: options.createCredential?.(settings) ?? createAzureCredential(settings.managedIdentityClientId),
    secretRefs: options.secretRefs,
    logger: options.logger,
    onRefresh: options.onRefresh,
    clientOptions: options.clientOptions,
  });
}
