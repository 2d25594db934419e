/** Time before a token's `expires_in` ends from which it is no longer used. */
export const tokenExpiryMarginInMilliseconds = 60_000;

/** An access token from a token endpoint. */
export interface IssuedToken {
  accessToken: string;
  /** The token's `expires_in`, absent when the endpoint gave none. */
  expiresInSeconds?: number;
}

interface CachedToken {
  accessToken: string;
  usableUntilInMilliseconds: number;
}

/**
 * OAuth 2.0 access tokens by token URL, client id and scope. A token is reused until 60 s before
 * its `expires_in` ends. A token without `expires_in`, or one that expires within that margin,
 * is used for the one request that fetched it. Concurrent requests for the same key share one
 * token request.
 */
export class OAuthTokenCache {
  readonly #tokens = new Map<string, CachedToken>();
  readonly #pending = new Map<string, Promise<string>>();

  /** Returns the cache key of a client. */
  static keyOf(tokenUrl: string, clientId: string, scope: string | undefined): string {
    return JSON.stringify([tokenUrl, clientId, scope ?? null]);
  }

  /**
   * Returns a cached token that is still usable at `now`, or else the token from `requestToken`,
   * which is cached when its lifetime allows.
   */
  async getToken(key: string, now: () => Date, requestToken: () => Promise<IssuedToken>): Promise<string> {
    const cached = this.#tokens.get(key);
    if (cached !== undefined && now().getTime() < cached.usableUntilInMilliseconds) {
      return cached.accessToken;
    }

    const pending = this.#pending.get(key);
    if (pending !== undefined) {
      return pending;
    }
    const request = this.#requestAndStore(key, now, requestToken).finally(() => this.#pending.delete(key));
    this.#pending.set(key, request);
    return request;
  }

  /** Drops the cached token of `key` if it is `accessToken`, after a target rejected it. */
  discard(key: string, accessToken: string): void {
    if (this.#tokens.get(key)?.accessToken === accessToken) {
      this.#tokens.delete(key);
    }
  }

  async #requestAndStore(key: string, now: () => Date, requestToken: () => Promise<IssuedToken>): Promise<string> {
    const issued = await requestToken();
    if (issued.expiresInSeconds !== undefined) {
      const usableUntilInMilliseconds = now().getTime() + issued.expiresInSeconds * 1000 - tokenExpiryMarginInMilliseconds;
      if (usableUntilInMilliseconds > now().getTime()) {
        this.#tokens.set(key, { accessToken: issued.accessToken, usableUntilInMilliseconds });
      }
    }
    return issued.accessToken;
  }
}
