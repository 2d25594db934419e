/** Default of `inbound.maxConcurrentRequests`, an estimate chosen high so that ordinary partner traffic is never rejected. */
export const defaultMaxConcurrentRequests = 64;

/**
 * Counts the requests in progress and admits a new one only while fewer than
 * `maxConcurrentRequests` run. Each admitted request must call `release` once when it ends.
 */
export class ConcurrencyLimit {
  readonly #maxConcurrentRequests: number;
  #inProgress = 0;

  constructor(maxConcurrentRequests: number) {
    this.#maxConcurrentRequests = maxConcurrentRequests;
  }

  get inProgress(): number {
    return this.#inProgress;
  }

  /** Returns a function that releases the slot, or undefined when every slot is taken. */
  tryAcquire(): (() => void) | undefined {
    if (this.#inProgress >= this.#maxConcurrentRequests) {
      return undefined;
    }
    this.#inProgress += 1;
    let released = false;
    return () => {
      if (!released) {
        released = true;
        this.#inProgress -= 1;
      }
    };
  }
}
