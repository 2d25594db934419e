export interface TokenBucketOptions {
  requestsPerSecond: number;
  burst: number;
}

export type TokenDecision = { admitted: true } | { admitted: false; retryAfterInSeconds: number };

/**
 * A token bucket that contains at most `burst` tokens and gains `requestsPerSecond` tokens per
 * second. Each admitted request takes one token. The caller passes the time, so tests can
 * drive the bucket with a fixed clock.
 */
export class TokenBucket {
  readonly #requestsPerSecond: number;
  readonly #burst: number;
  #tokens: number;
  #lastRefillInMilliseconds: number;

  constructor(options: TokenBucketOptions, nowInMilliseconds: number) {
    this.#requestsPerSecond = options.requestsPerSecond;
    this.#burst = options.burst;
    this.#tokens = options.burst;
    this.#lastRefillInMilliseconds = nowInMilliseconds;
  }

  /**
   * Takes one token when one is available. Otherwise returns the whole seconds until the next
   * token, at least 1, which is the value of a `Retry-After` header.
   */
  tryTake(nowInMilliseconds: number): TokenDecision {
    this.#refill(nowInMilliseconds);
    if (this.#tokens >= 1) {
      this.#tokens -= 1;
      return { admitted: true };
    }
    const missingTokens = 1 - this.#tokens;
    const waitInSeconds = missingTokens / this.#requestsPerSecond;
    return { admitted: false, retryAfterInSeconds: Math.max(1, Math.ceil(waitInSeconds)) };
  }

  #refill(nowInMilliseconds: number): void {
    // A clock that steps back adds no tokens, and the bucket waits until it passes the last refill.
    const elapsedInMilliseconds = nowInMilliseconds - this.#lastRefillInMilliseconds;
    if (elapsedInMilliseconds <= 0) {
      return;
    }
    this.#tokens = Math.min(this.#burst, this.#tokens + (elapsedInMilliseconds / 1000) * this.#requestsPerSecond);
    this.#lastRefillInMilliseconds = nowInMilliseconds;
  }
}
