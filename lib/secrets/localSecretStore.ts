import { readSecret, type Environment } from '../settings';
import type { SecretStore } from './secretStore';

/**
 * Reads each secret from the setting of the same name: local.settings.json `Values` or the
 * environment on one machine, app settings in Azure (where App Service Key Vault references also
 * land). It reads the environment on every call, so it has nothing to refresh.
 */
export function createLocalSecretStore(environment: Environment = process.env): SecretStore {
  return {
    read: (secretRef) => readSecret(secretRef, environment),
    refresh: async () => undefined,
    ready: async () => undefined,
    describeSource: (secretRef) => `setting ${secretRef} in local.settings.json Values or the environment`,
  };
}
