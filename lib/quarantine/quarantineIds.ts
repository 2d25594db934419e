import crypto from 'node:crypto';

/** Matches quarantine ids: 32 lowercase hex characters. */
const quarantineIdPattern = /^[0-9a-f]{32}$/;

/**
 * Returns the id of a quarantined payload. A payload with a dedup key gets an id derived from
 * the connector, the key and the SHA-256 of its bytes, so that a partner who sends the same
 * rejected payload again does not fill the quarantine with copies. Without a dedup key the id
 * is random.
 */
export function createQuarantineId(connectorId: string, dedupKey: string | undefined, sha256: string): string {
  if (dedupKey === undefined) {
    return crypto.randomUUID().replace(/-/g, '');
  }
  return crypto.createHash('sha256').update(`${connectorId}\n${dedupKey}\n${sha256}`, 'utf8').digest('hex').slice(0, 32);
}

export function isQuarantineId(value: string): boolean {
  return quarantineIdPattern.test(value);
}

/** Returns the payload store name of a quarantined payload's bytes. */
export function quarantineBlobNameOf(connectorId: string, quarantineId: string): string {
  return `quarantine/${connectorId}/${quarantineId}`;
}
