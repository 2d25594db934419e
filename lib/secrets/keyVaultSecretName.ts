import { ConfigurationError } from '../errors';

/** Maximum length of a Key Vault secret name. */
export const maxKeyVaultSecretNameLength = 127;

const secretRefPattern = /^[A-Za-z0-9_-]+$/;

/**
 * Returns the name of the Key Vault secret that contains the value of a connector's `secretRef`.
 *
 * Key Vault secret names allow only letters, digits and dashes, so each underscore becomes a
 * dash and nothing else changes: `ORDERS_HMAC_SECRET` is kept in `ORDERS-HMAC-SECRET`. Key
 * Vault compares names without regard to letter case, so `orders_hmac_secret`, `ORDERS-HMAC-SECRET`
 * and `ORDERS_HMAC_SECRET` all name the same secret.
 * Throws a ConfigurationError for a secretRef with any other character or over 127 characters.
 */
export function keyVaultSecretNameOf(secretRef: string): string {
  if (!secretRefPattern.test(secretRef)) {
    throw new ConfigurationError(
      `secretRef ${JSON.stringify(secretRef)} cannot name a Key Vault secret, because it may contain only letters, digits, "_" and "-". ` +
        'Rename the secretRef in the connectors file.',
    );
  }
  if (secretRef.length > maxKeyVaultSecretNameLength) {
    throw new ConfigurationError(
      `secretRef ${JSON.stringify(secretRef)} has ${secretRef.length} characters, but a Key Vault secret name has at most ${maxKeyVaultSecretNameLength}. ` +
        'Shorten the secretRef in the connectors file.',
    );
  }
  return secretRef.replaceAll('_', '-');
}
