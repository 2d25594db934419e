import { missingHeaders, rejectWith, validCredentials, type CredentialCheck } from './authRejection';
import type { RequestHeaders } from './clientAddress';
import { constantTimeEqual, constantTimeEqualsAny } from './constantTimeEqual';

export const authorizationHeader = 'Authorization';

const basicPrefixPattern = /^basic\s+/i;

/**
 * Verifies HTTP Basic credentials (RFC 7617): the `Authorization` header contains
 * `Basic <base64 of user-id:password>`, the user-id is `username` and the password is one
 * of the passwords. Both parts are compared in constant time, and the message of a wrong
 * credential does not say which part is wrong.
 */
export function verifyBasicCredentials(headers: RequestHeaders, username: string, passwords: readonly Buffer[]): CredentialCheck {
  const value = headers.get(authorizationHeader)?.trim() ?? '';
  if (value === '') {
    return missingHeaders([authorizationHeader], 'Send "Authorization: Basic <base64 of user-id:password>".');
  }

  const credentials = decodeBasicCredentials(value);
  if (credentials === undefined) {
    return rejectWith({
      status: 401,
      reason: 'malformed-header',
      title: 'Invalid credentials',
      header: authorizationHeader,
      detail: `Header ${authorizationHeader} is not "Basic" followed by the base64 of user-id:password. Send Basic credentials.`,
    });
  }

  const usernameMatches = constantTimeEqual(Buffer.from(credentials.username, 'utf8'), Buffer.from(username, 'utf8'));
  const passwordMatches = constantTimeEqualsAny(Buffer.from(credentials.password, 'utf8'), passwords);
  if (!usernameMatches || !passwordMatches) {
    return rejectWith({
      status: 401,
      reason: 'invalid-credentials',
      title: 'Invalid credentials',
      header: authorizationHeader,
      detail: `The user-id or password in header ${authorizationHeader} is wrong. Send the credentials agreed for this connector.`,
    });
  }
  return validCredentials;
}

/** Returns the user-id and password of a `Basic` Authorization value, or undefined when it is not one. */
function decodeBasicCredentials(value: string): { username: string; password: string } | undefined {
  if (!basicPrefixPattern.test(value)) {
    return undefined;
  }

  const encoded = value.replace(basicPrefixPattern, '');
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(encoded)) {
    return undefined;
  }
  const decoded = Buffer.from(encoded, 'base64').toString('utf8');
  const separator = decoded.indexOf(':');
  if (separator < 0) {
    return undefined;
  }
  return { username: decoded.slice(0, separator), password: decoded.slice(separator + 1) };
}
