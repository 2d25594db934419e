/**
 * Runs work for keys (instance ids, entity ids) with bounded concurrency and never two runs of
 * one key at a time. A key kicked while it runs is run once more after the current run ends, so
 * no kick is lost.
 */
export class KeyedWorkQueue {
  readonly #ready = new Set<string>();
  readonly #running = new Set<string>();
  readonly #rerun = new Set<string>();
  readonly #maxConcurrent: number;
  readonly #run: (key: string) => Promise<void>;
  readonly #onSettled: () => void;
  #stopped = false;

  constructor(maxConcurrent: number, run: (key: string) => Promise<void>, onSettled: () => void) {
    this.#maxConcurrent = Math.max(1, maxConcurrent);
    this.#run = run;
    this.#onSettled = onSettled;
  }

  get runningCount(): number {
    return this.#running.size;
  }

  kick(key: string): void {
    if (this.#running.has(key)) {
      this.#rerun.add(key);
      return;
    }
    this.#ready.add(key);
    this.#pump();
  }

  /** Stops starting new runs; runs in progress finish. */
  stop(): void {
    this.#stopped = true;
  }

  #pump(): void {
    while (!this.#stopped && this.#running.size < this.#maxConcurrent && this.#ready.size > 0) {
      const key = this.#ready.values().next().value as string;
      this.#ready.delete(key);
      this.#running.add(key);
      void this.#run(key).finally(() => {
        this.#running.delete(key);
        if (this.#rerun.delete(key)) {
          this.#ready.add(key);
        }
        this.#onSettled();
        this.#pump();
      });
    }
  }
}
