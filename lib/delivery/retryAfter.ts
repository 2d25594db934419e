/**
 * Largest wait that `parseRetryAfter` returns. A larger value is still a valid header, but it
 * would not survive JSON as an exact number, so it is cut to this one.
 */
export const maxRetryAfterInMilliseconds = Number.MAX_SAFE_INTEGER;

const deltaSecondsPattern = /^\d+$/;

/**
 * Parses a `Retry-After` header (RFC 9110 section 10.2.3) into a wait in milliseconds from `now`.
 * The value is either delta-seconds or an HTTP-date. A date in the past gives 0. Returns undefined
 * for an absent, negative or malformed value, so that the retry schedule applies instead.
 */
export function parseRetryAfter(value: string | undefined, now: Date): number | undefined {
  if (value === undefined) {
    return undefined;
  }
  const text = value.trim();
  if (text === '') {
    return undefined;
  }

  if (deltaSecondsPattern.test(text)) {
    return Math.min(Number(text) * 1000, maxRetryAfterInMilliseconds);
  }

  // Date.parse alone would also take "-5" or "May 2024" as dates, so only the three HTTP-date
  // forms are passed on. The asctime form carries no zone, and HTTP-dates are always GMT.
  let dateText: string;
  if (/^[A-Za-z]{3,9}, .* GMT$/.test(text)) {
    dateText = text;
  } else if (/^[A-Za-z]{3} [A-Za-z]{3} [ \d]\d \d{2}:\d{2}:\d{2} \d{4}$/.test(text)) {
    dateText = `${text} GMT`;
  } else {
    return undefined;
  }
  const at = Date.parse(dateText);
  if (Number.isNaN(at)) {
    return undefined;
  }
  return Math.max(0, at - now.getTime());
}
