import { secretRefsOf, type CredentialSchemeConfig } from './authConfig';

export const standardWebhooksSecretPrefix = 'whsec_';

const base64Pattern = /^[A-Za-z0-9+/]+={0,2}$/;

/** The keys of a scheme's secrets, and the setting names that could not give one. */
export interface SchemeSecrets {
  /** Keys of the settings that are set and valid, in the order of `secretRef`. */
  keys: Buffer[];
  /** Names of settings that are not set. */
  missing: string[];
  /** Names of settings whose value is not a valid secret for the scheme, with the reason. */
  invalid: Array<{ secretRef: string; problem: string }>;
}

/**
 * Reads the secrets that a scheme's `secretRef` names and turns each into the key the
 * scheme compares or signs with. A Standard Webhooks secret is `whsec_` followed by the
 * base64 key, and the key is the decoded bytes. Every other secret is used as UTF-8 text.
 */
export function readSchemeSecrets(scheme: CredentialSchemeConfig, readSecret: (secretRef: string) => string | undefined): SchemeSecrets {
  const secrets: SchemeSecrets = { keys: [], missing: [], invalid: [] };

  for (const secretRef of secretRefsOf(scheme)) {
    const value = readSecret(secretRef);
    if (value === undefined) {
      secrets.missing.push(secretRef);
    } else if (scheme.type !== 'standard-webhooks') {
      secrets.keys.push(Buffer.from(value, 'utf8'));
    } else {
      const key = decodeStandardWebhooksSecret(value);
      if (key === undefined) {
        secrets.invalid.push({ secretRef, problem: `it must be "${standardWebhooksSecretPrefix}" followed by the base64 key` });
      } else {
        secrets.keys.push(key);
      }
    }
  }
  return secrets;
}

/**
 * Returns the key of a Standard Webhooks secret `whsec_<base64>`, or undefined when the
 * value after the prefix is not base64. The prefix may be left out, as some senders do.
 */
export function decodeStandardWebhooksSecret(secret: string): Buffer | undefined {
  const trimmed = secret.trim();
  const encoded = trimmed.startsWith(standardWebhooksSecretPrefix) ? trimmed.slice(standardWebhooksSecretPrefix.length) : trimmed;
  if (!base64Pattern.test(encoded)) {
    return undefined;
  }
  const key = Buffer.from(encoded, 'base64');
  return key.length === 0 ? undefined : key;
}
