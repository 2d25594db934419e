import { AttemptFailure } from './attemptFailure';

/** Redirect statuses that keep the method and body (RFC 9110 sections 15.4.8 and 15.4.9), the only ones followed. */
export function isFollowedRedirect(statusCode: number): boolean {
  return statusCode === 307 || statusCode === 308;
}

/**
 * Returns the URL that a 307 or 308 response points to. Throws a permanent AttemptFailure when
 * `redirectCount` redirects were already followed and `maxRedirects` allows no more, or when the
 * `Location` header is missing, invalid or not http(s).
 */
export function nextRedirectUrl(statusCode: number, location: string | undefined, currentUrl: URL, redirectCount: number, maxRedirects: number): URL {
  if (location === undefined || location.trim() === '') {
    throw new AttemptFailure('permanent', `HTTP ${statusCode} without a Location header from ${displayUrl(currentUrl)}`);
  }

  let next: URL;
  try {
    next = new URL(location.trim(), currentUrl);
  } catch {
    throw new AttemptFailure('permanent', `HTTP ${statusCode} with an invalid Location header from ${displayUrl(currentUrl)}`);
  }
  if (next.protocol !== 'http:' && next.protocol !== 'https:') {
    throw new AttemptFailure('permanent', `HTTP ${statusCode} redirects to a ${next.protocol} URL, and only http and https are followed`);
  }
  if (redirectCount >= maxRedirects) {
    throw new AttemptFailure(
      'permanent',
      `HTTP ${statusCode} to ${displayUrl(next)} exceeds maxRedirects ${maxRedirects} after ${countRedirects(redirectCount)}. ` +
        'Point the destination url at the final address or raise maxRedirects',
    );
  }
  return next;
}

/** Describes the `Location` of a redirect that is not followed, relative to `currentUrl`. */
export function describeLocation(location: string | undefined, currentUrl: URL): string {
  if (location === undefined || location.trim() === '') {
    return 'no Location header';
  }
  try {
    return `Location ${displayUrl(new URL(location.trim(), currentUrl))}`;
  } catch {
    return 'an invalid Location header';
  }
}

/** Returns `url` without user info and query, which may carry credentials, for errors and logs. */
export function displayUrl(url: URL): string {
  return `${url.origin}${url.pathname}`;
}

/** Returns "1 redirect" or "<n> redirects". */
export function countRedirects(redirectCount: number): string {
  return redirectCount === 1 ? '1 redirect' : `${redirectCount} redirects`;
}
