import { quoteHeaderValue, rejectWith, validCredentials, type CredentialCheck } from './authRejection';

/** A Unix time in whole seconds, at most 15 digits so it stays an exact number. */
const unixSecondsPattern = /^\d{1,15}$/;

/**
 * Checks a timestamp header that is part of a signed text. The timestamp passes when it
 * differs from `nowInSeconds` by at most `toleranceInSeconds`, earlier or later, which
 * limits how long a captured request can be sent again. Every failure states the server
 * time, so that the partner can tell a clock offset from a delayed send.
 */
export function checkTimestamp(headerName: string, value: string, nowInSeconds: number, toleranceInSeconds: number): CredentialCheck {
  const serverTime = `${nowInSeconds} (${new Date(nowInSeconds * 1000).toISOString()})`;
  const details = { status: 401 as const, title: 'Invalid timestamp', header: headerName, serverTimestamp: nowInSeconds, toleranceInSeconds };

  if (!unixSecondsPattern.test(value)) {
    return rejectWith({
      ...details,
      reason: 'invalid-timestamp',
      detail: `Header ${headerName} is ${quoteHeaderValue(value)}, but it must be the Unix time in whole seconds. The server time is ${serverTime}.`,
    });
  }

  const timestamp = Number(value);
  if (timestamp < nowInSeconds - toleranceInSeconds) {
    return rejectWith({
      ...details,
      reason: 'expired-timestamp',
      detail:
        `Header ${headerName} is ${timestamp}, ${nowInSeconds - timestamp} seconds before the server time ${serverTime}, ` +
        `and at most ${toleranceInSeconds} seconds are accepted. Sign the message again with the current time, and check the sender's clock.`,
    });
  }
  if (timestamp > nowInSeconds + toleranceInSeconds) {
    return rejectWith({
      ...details,
      reason: 'future-timestamp',
      detail:
        `Header ${headerName} is ${timestamp}, ${timestamp - nowInSeconds} seconds after the server time ${serverTime}, ` +
        `and at most ${toleranceInSeconds} seconds are accepted. Check the sender's clock.`,
    });
  }
  return validCredentials;
}
