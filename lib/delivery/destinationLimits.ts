import type { DestinationConfig, RateLimitConfig } from '../config/types';
import { AttemptFailure } from './attemptFailure';

/**
 * A token bucket that hands out tokens ahead of time: each caller reserves the next token and
 * learns how long to wait for it, so that waiting callers are served in order at the configured
 * rate. `lib/limits/tokenBucket.ts` rejects instead, and reports whole seconds, which suits a
 * `Retry-After` header but not a wait.
 */
class ReservingTokenBucket {
  readonly #rate: RateLimitConfig;
  /** Tokens available at `#updatedAtInMilliseconds`. Negative while reservations wait. */
  #tokens: number;
  #updatedAtInMilliseconds: number;

  constructor(rate: RateLimitConfig, nowInMilliseconds: number) {
    this.#rate = rate;
    this.#tokens = rate.burst;
    this.#updatedAtInMilliseconds = nowInMilliseconds;
  }

  /**
   * Reserves a token and returns the wait in ms until it is due, or undefined without reserving
   * when that wait would exceed `maxWaitInMilliseconds`.
   */
  reserve(nowInMilliseconds: number, maxWaitInMilliseconds: number): number | undefined {
    const elapsedInMilliseconds = Math.max(0, nowInMilliseconds - this.#updatedAtInMilliseconds);
    this.#tokens = Math.min(this.#rate.burst, this.#tokens + (elapsedInMilliseconds / 1000) * this.#rate.requestsPerSecond);
    this.#updatedAtInMilliseconds = Math.max(this.#updatedAtInMilliseconds, nowInMilliseconds);

    const waitInMilliseconds = this.#tokens >= 1 ? 0 : Math.ceil(((1 - this.#tokens) / this.#rate.requestsPerSecond) * 1000);
    if (waitInMilliseconds > maxWaitInMilliseconds) {
      return undefined;
    }
    this.#tokens -= 1;
    return waitInMilliseconds;
  }
}

/**
 * Slots for attempts in flight. Unlike `lib/limits/concurrencyLimit.ts`, which rejects a request
 * when every slot is taken, an attempt here waits in line for a slot until its signal aborts.
 */
class WaitingSlots {
  readonly #maxInFlight: number;
  #inFlight = 0;
  readonly #waiting: Array<() => void> = [];

  constructor(maxInFlight: number) {
    this.#maxInFlight = maxInFlight;
  }

  /** Resolves with a function that frees the slot once, or rejects with the signal's reason. */
  acquire(signal: AbortSignal): Promise<() => void> {
    if (this.#inFlight < this.#maxInFlight && this.#waiting.length === 0) {
      this.#inFlight += 1;
      return Promise.resolve(this.#releaseOnce());
    }

    if (signal.aborted) {
      return Promise.reject(signal.reason);
    }
    return new Promise((resolve, reject) => {
      const grant = (): void => {
        signal.removeEventListener('abort', onAbort);
        resolve(this.#releaseOnce());
      };
      const onAbort = (): void => {
        const index = this.#waiting.indexOf(grant);
        if (index >= 0) {
          this.#waiting.splice(index, 1);
        }
        reject(signal.reason);
      };
      this.#waiting.push(grant);
      signal.addEventListener('abort', onAbort, { once: true });
    });
  }

  #releaseOnce(): () => void {
    let released = false;
    return () => {
      if (released) {
        return;
      }
      released = true;
      const next = this.#waiting.shift();
      if (next === undefined) {
        this.#inFlight -= 1;
      } else {
        // The slot passes straight to the next attempt in line, so no newcomer can take it first.
        next();
      }
    };
  }
}

interface Limits {
  slots: WaitingSlots;
  bucket?: ReservingTokenBucket;
}

/**
 * The `maxConcurrentRequests` and `rateLimit` of each destination on this host instance. The
 * limits are per instance, so several instances together send more.
 */
export class DestinationLimits {
  readonly #byDestination = new Map<string, Limits>();

  /**
   * Waits for a slot among the destination's attempts in flight, then for a rate limit token.
   * Returns the function that frees the slot. The slot wait ends when `signal` aborts. A token
   * that would come later than `deadlineInMilliseconds` (a `performance.now()` time) is not
   * awaited, and the attempt fails as retryable at once.
   */
  async acquire(key: string, destination: DestinationConfig, signal: AbortSignal, deadlineInMilliseconds: number): Promise<() => void> {
    const limits = this.#limitsOf(key, destination);
    const release = await limits.slots.acquire(signal);
    if (limits.bucket === undefined) {
      return release;
    }

    try {
      const remainingInMilliseconds = deadlineInMilliseconds - performance.now();
      const waitInMilliseconds = limits.bucket.reserve(performance.now(), remainingInMilliseconds);
      if (waitInMilliseconds === undefined) {
        const rate = destination.rateLimit as RateLimitConfig;
        throw new AttemptFailure(
          'retryable',
          `rate limit of destination ${destination.id} (${rate.requestsPerSecond} requests per second, burst ${rate.burst}) ` +
            `has no token within the ${Math.max(0, Math.round(remainingInMilliseconds))} ms left of timeoutInMilliseconds`,
        );
      }
      if (waitInMilliseconds > 0) {
        await delay(waitInMilliseconds, signal);
      }
      return release;
    } catch (error) {
      release();
      throw error;
    }
  }

  #limitsOf(key: string, destination: DestinationConfig): Limits {
    let limits = this.#byDestination.get(key);
    if (limits === undefined) {
      limits = { slots: new WaitingSlots(destination.maxConcurrentRequests) };
      if (destination.rateLimit !== undefined) {
        limits.bucket = new ReservingTokenBucket(destination.rateLimit, performance.now());
      }
      this.#byDestination.set(key, limits);
    }
    return limits;
  }
}

function delay(milliseconds: number, signal: AbortSignal): Promise<void> {
  if (signal.aborted) {
    return Promise.reject(signal.reason);
  }
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, milliseconds);
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(signal.reason);
    };
    signal.addEventListener('abort', onAbort, { once: true });
  });
}
