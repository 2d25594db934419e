import crypto from 'node:crypto';

/** Number of hex characters of a SHA-256 that go into an id (128 bits), as in message ids. */
const idHashLengthInHexCharacters = 32;

/** Matches bulk replay ids: `replay-` and 32 lowercase hex characters. */
export const bulkReplayIdPattern = /^replay-[0-9a-f]{32}$/;

/** Returns a new random bulk replay id, which is also the instance id of its `bulkReplay` orchestration. */
export function createBulkReplayId(): string {
  return `replay-${crypto.randomUUID().replace(/-/g, '')}`;
}

export function isBulkReplayId(value: string): boolean {
  return bulkReplayIdPattern.test(value);
}

/**
 * Returns the message id of the replay of `originalMessageId` within one bulk replay. The same
 * pair always gives the same id, so an activity that runs again does not replay a message twice.
 */
export function createBulkReplayMessageId(connectorId: string, bulkReplayId: string, originalMessageId: string): string {
  const hash = crypto.createHash('sha256').update(`${bulkReplayId}\n${originalMessageId}`, 'utf8').digest('hex');
  return `${connectorId}-${hash.slice(0, idHashLengthInHexCharacters)}`;
}
