import { listCredentialSchemes, secretRefsOf } from '../auth/authConfig';
import { standardWebhooksSecretPrefix } from '../auth/schemeSecrets';
import type { Connectors } from '../config/types';

export const redactedText = '[redacted]';

/**
 * Replaces configured secret values in text. The secrets are set once the connectors file is
 * read, so a scrubber created earlier, such as the logger's, scrubs them from then on.
 */
export class SecretScrubber {
  /** Each secret as it is and as it reads inside a JSON string, longest first. */
  #patterns: string[] = [];

  setSecrets(secrets: Iterable<string>): void {
    const patterns = new Set<string>();
    for (const secret of secrets) {
      if (secret.length === 0) {
        continue;
      }
      patterns.add(secret);
      patterns.add(JSON.stringify(secret).slice(1, -1));
    }
    this.#patterns = [...patterns].sort((left, right) => right.length - left.length);
  }

  /**
   * Returns `text` with every occurrence of a secret replaced by `[redacted]`.
   * NOTE: only whole values are replaced, so a truncated secret, such as one cut off in a
   * JSON parse error, still shows its first characters.
   */
  scrub(text: string): string {
    let scrubbed = text;
    for (const pattern of this.#patterns) {
      if (scrubbed.includes(pattern)) {
        scrubbed = scrubbed.split(pattern).join(redactedText);
      }
    }
    return scrubbed;
  }
}

/**
 * Returns the value of every setting that a connector's `secretRef` names, and for a Standard
 * Webhooks secret also its base64 key without the `whsec_` prefix.
 */
export function listSecretValues(connectors: Connectors, readSecret: (secretRef: string) => string | undefined): string[] {
  const values: string[] = [];
  for (const connector of connectors.list) {
    for (const scheme of listCredentialSchemes(connector.inbound.auth)) {
      for (const secretRef of secretRefsOf(scheme)) {
        const value = readSecret(secretRef)?.trim();
        if (value === undefined || value === '') {
          continue;
        }
        values.push(value);
        if (value.startsWith(standardWebhooksSecretPrefix)) {
          values.push(value.slice(standardWebhooksSecretPrefix.length));
        }
      }
    }
  }
  return values;
}
