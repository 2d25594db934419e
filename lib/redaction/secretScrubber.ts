import { listCredentialSchemes, secretRefsOf } from '../auth/authConfig';
import { standardWebhooksSecretPrefix } from '../auth/schemeSecrets';
import type { Connectors } from '../config/types';
import { listDestinationSecretRefs } from '../delivery/destinationSecrets';

export const redactedText = '[redacted]';

/** Maximum number of values that `addSecrets` keeps, such as OAuth access tokens; the oldest go first. */
const maxAddedSecrets = 1000;

/**
 * Replaces configured secret values in text. The secrets are set once the connectors file is
 * read, so a scrubber created earlier, such as the logger's, scrubs them from then on.
 */
export class SecretScrubber {
  /** Each secret as it is and as it reads inside a JSON string, longest first. */
  #patterns: string[] = [];
  #configuredSecrets: string[] = [];
  /** Secrets learnt at run time, in the order they were added. */
  #addedSecrets: string[] = [];

  /** Replaces the configured secrets. Secrets added with `addSecrets` stay. */
  setSecrets(secrets: Iterable<string>): void {
    this.#configuredSecrets = [...secrets];
    this.#buildPatterns();
  }

  /** Adds secrets learnt at run time, such as fetched access tokens. Only the latest 1000 are kept. */
  addSecrets(secrets: Iterable<string>): void {
    this.#addedSecrets.push(...secrets);
    if (this.#addedSecrets.length > maxAddedSecrets) {
      this.#addedSecrets = this.#addedSecrets.slice(-maxAddedSecrets);
    }
    this.#buildPatterns();
  }

  #buildPatterns(): void {
    const patterns = new Set<string>();
    for (const secret of [...this.#configuredSecrets, ...this.#addedSecrets]) {
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
 * Returns the value of every setting that a connector's `secretRef` or a destination's secret
 * fields name, and for a Standard Webhooks secret also its base64 key without the `whsec_` prefix.
 */
export function listSecretValues(connectors: Connectors, readSecret: (secretRef: string) => string | undefined): string[] {
  const secretRefs: string[] = [];
  for (const connector of connectors.list) {
    for (const scheme of listCredentialSchemes(connector.inbound.auth)) {
      secretRefs.push(...secretRefsOf(scheme));
    }
    for (const destination of connector.destinations) {
      secretRefs.push(...listDestinationSecretRefs(destination).map((ref) => ref.secretRef));
    }
  }

  const values: string[] = [];
  for (const secretRef of secretRefs) {
    const value = readSecret(secretRef)?.trim();
    if (value === undefined || value === '') {
      continue;
    }
    values.push(value);
    if (value.startsWith(standardWebhooksSecretPrefix)) {
      values.push(value.slice(standardWebhooksSecretPrefix.length));
    }
  }
  return values;
}
