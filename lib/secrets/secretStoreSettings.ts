import { ConfigurationError } from '../errors';
import { readSetting, type Environment } from '../settings';

/** Settings that select and tune the secret store. */
export const secretStoreSettingNames = {
  keyVaultUrl: 'KEY_VAULT_URL',
  cacheTtlInSeconds: 'SECRET_CACHE_TTL_IN_SECONDS',
  timeoutInMilliseconds: 'SECRET_STORE_TIMEOUT_IN_MILLISECONDS',
  managedIdentityClientId: 'AZURE_CLIENT_ID',
} as const;

export const defaultSecretCacheTtlInSeconds = 300;
export const defaultSecretStoreTimeoutInMilliseconds = 10_000;

/** The Key Vault settings, present only when `KEY_VAULT_URL` is set. */
export interface KeyVaultSettings {
  vaultUrl: string;
  /** Time after which a loaded secret is read again, so that a rotated value is picked up. */
  cacheTtlInSeconds: number;
  /** Maximum time of one refresh, token request included. */
  timeoutInMilliseconds: number;
  /** Client id of a user-assigned managed identity, when `AZURE_CLIENT_ID` is set. */
  managedIdentityClientId?: string;
}

/**
 * Reads the Key Vault settings, or returns undefined when `KEY_VAULT_URL` is not set, which
 * selects the local secret store. Throws a ConfigurationError for an invalid value.
 */
export function readKeyVaultSettings(environment: Environment = process.env): KeyVaultSettings | undefined {
  const vaultUrl = readSetting(secretStoreSettingNames.keyVaultUrl, environment)?.trim();
  if (vaultUrl === undefined) {
    return undefined;
  }
  checkVaultUrl(vaultUrl);

  const settings: KeyVaultSettings = {
    vaultUrl,
    cacheTtlInSeconds: readPositiveNumber(environment, secretStoreSettingNames.cacheTtlInSeconds, defaultSecretCacheTtlInSeconds, 'seconds'),
    timeoutInMilliseconds: readPositiveNumber(environment, secretStoreSettingNames.timeoutInMilliseconds, defaultSecretStoreTimeoutInMilliseconds, 'milliseconds'),
  };
  const clientId = readSetting(secretStoreSettingNames.managedIdentityClientId, environment)?.trim();
  if (clientId !== undefined) {
    settings.managedIdentityClientId = clientId;
  }
  return settings;
}

function checkVaultUrl(vaultUrl: string): void {
  let url: URL | undefined;
  try {
    url = new URL(vaultUrl);
  } catch {
    url = undefined;
  }
  if (url?.protocol !== 'https:') {
    throw new ConfigurationError(
      `Setting ${secretStoreSettingNames.keyVaultUrl} is "${vaultUrl}", but it must be the https URL of a vault. ` +
        `Set it to the vault's URI, such as https://contoso.vault.azure.net/, or remove it to read secrets from settings.`,
    );
  }
}

function readPositiveNumber(environment: Environment, name: string, defaultValue: number, unit: string): number {
  const text = readSetting(name, environment)?.trim();
  if (text === undefined) {
    return defaultValue;
  }
  const value = Number(text);
  if (!Number.isFinite(value) || value <= 0) {
    throw new ConfigurationError(
      `Setting ${name} is "${text}", but it must be a positive number of ${unit}. ` +
        `Set it to a number such as ${defaultValue}, or remove it to use the default.`,
    );
  }
  return value;
}
