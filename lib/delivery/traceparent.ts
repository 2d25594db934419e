import crypto from 'node:crypto';

/** W3C Trace Context version 00: version, 32 hex trace id, 16 hex parent id and flags. */
const traceparentPattern = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;

const sampledFlags = '01';

/**
 * Returns the `traceparent` header of an attempt. Every attempt of a message shares the message's
 * trace: the trace id and flags of a valid `messageTraceparent`, which the partner sent with the
 * message, or else a trace id derived from the message id. The parent id is derived from the
 * message, destination and attempt number, so that each attempt is its own span.
 */
export function traceparentOf(messageTraceparent: string | undefined, messageId: string, destinationId: string, attemptNumber: number): string {
  const messageTrace = messageTraceparent !== undefined && isValidTraceparent(messageTraceparent) ? traceparentPattern.exec(messageTraceparent) : null;
  const traceId = messageTrace?.[1] ?? sha256Hex(`trace:${messageId}`).slice(0, 32);
  const flags = messageTrace?.[3] ?? sampledFlags;
  const parentId = sha256Hex(`span:${messageId}:${destinationId}:${attemptNumber}`).slice(0, 16);
  return `00-${traceId}-${parentId}-${flags}`;
}

/** Returns true for a version 00 `traceparent` whose trace id and parent id are not all zeros. */
export function isValidTraceparent(value: string): boolean {
  const match = traceparentPattern.exec(value);
  if (match === null) {
    return false;
  }
  return !/^0+$/.test(match[1]) && !/^0+$/.test(match[2]);
}

function sha256Hex(text: string): string {
  return crypto.createHash('sha256').update(text, 'utf8').digest('hex');
}
