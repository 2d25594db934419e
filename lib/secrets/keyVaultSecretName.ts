import { ConfigurationError } from '../errors';

/** Key Vault secret names are 1 to 127 letters, digits and dashes. */
const maxKeyVaultSecretNameLength = 127;
const keyVaultSecretNamePattern = /^[A-Za-z0-9-]+$/;

/**
 * Converts a connector's `secretRef`, such as `ORDERS_HMAC_SECRET`, to the name of its Key Vault
 * secret, `ORDERS-HMAC-SECRET`: each underscore becomes a dash. Throws a ConfigurationError when
 * the result is empty, too long or contains a character other than a letter, digit or dash.
 */
export function toKeyVaultSecretName(secretRef: string): string {
  const name = secretRef.replaceAll('_', '-');
  if (!keyVaultSecretNamePattern.test(name)) {
    throw new ConfigurationError(
      `secretRef "${secretRef}" cannot be a Key Vault secret name, which may contain only letters, digits and dashes. ` +
        'Rename the secretRef to letters, digits and underscores, such as ORDERS_HMAC_SECRET.',
    );
  }
  if (name.length > maxKeyVaultSecretNameLength) {
    throw new ConfigurationError(
      `secretRef "${secretRef}" has ${name.length} characters, but a Key Vault secret name has at most ${maxKeyVaultSecretNameLength}. ` +
        'Use a shorter secretRef.',
    );
  }
  return name;
}
