/** Cause of an authentication failure, sent to the partner as the problem's `reason`. */
export type AuthFailureReason =
  | 'missing-header'
  | 'malformed-header'
  | 'invalid-signature'
  | 'invalid-credentials'
  | 'invalid-timestamp'
  | 'expired-timestamp'
  | 'future-timestamp'
  | 'address-not-allowed'
  | 'address-unknown';

/**
 * A failed credential or address check. `detail` names the offending header or address
 * and what to do, and never contains a secret or an expected signature.
 */
export interface AuthRejection {
  status: 401 | 403;
  reason: AuthFailureReason;
  title: string;
  detail: string;
  /** The header that is missing or invalid. */
  header?: string;
  /** Server time in Unix seconds, for timestamp failures. */
  serverTimestamp?: number;
  toleranceInSeconds?: number;
  /** The client address, for address failures. */
  clientAddress?: string;
}

/** The result of one credential check: valid, or the rejection to send. */
export type CredentialCheck = { valid: true } | { valid: false; rejection: AuthRejection };

export const validCredentials: CredentialCheck = { valid: true };

export function rejectWith(rejection: AuthRejection): CredentialCheck {
  return { valid: false, rejection };
}

/** Returns the rejection of a request that lacks `headers`, with what to send in them. */
export function missingHeaders(headers: readonly string[], instruction: string): CredentialCheck {
  const subject = headers.length === 1 ? `Header ${headers[0]} is missing.` : `Headers ${headers.join(', ')} are missing.`;
  return rejectWith({
    status: 401,
    reason: 'missing-header',
    title: 'Missing credentials',
    detail: `${subject} ${instruction}`,
    header: headers[0],
  });
}

/** Returns `value` quoted for a problem detail, shortened to 64 characters. */
export function quoteHeaderValue(value: string): string {
  const maxLength = 64;
  const shortened = value.length > maxLength ? `${value.slice(0, maxLength)}...` : value;
  return JSON.stringify(shortened);
}
