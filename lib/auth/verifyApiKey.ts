import { missingHeaders, rejectWith, validCredentials, type CredentialCheck } from './authRejection';
import type { RequestHeaders } from './clientAddress';
import { constantTimeEqualsAny } from './constantTimeEqual';

/**
 * Verifies that `header` contains one of the keys, compared in constant time. The message
 * of a wrong key does not say how it differs.
 */
export function verifyApiKey(headers: RequestHeaders, header: string, keys: readonly Buffer[]): CredentialCheck {
  const received = headers.get(header)?.trim() ?? '';
  if (received === '') {
    return missingHeaders([header], `Send the API key agreed for this connector in header ${header}.`);
  }

  if (!constantTimeEqualsAny(Buffer.from(received, 'utf8'), keys)) {
    return rejectWith({
      status: 401,
      reason: 'invalid-credentials',
      title: 'Invalid credentials',
      header,
      detail: `Header ${header} does not contain a valid API key. Send the key agreed for this connector.`,
    });
  }
  return validCredentials;
}
