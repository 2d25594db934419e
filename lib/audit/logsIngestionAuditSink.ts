import { LogsIngestionClient, type LogsIngestionClientOptions } from '@azure/monitor-ingestion';
import type pino from 'pino';
import { errorMessageOf, RetryableError } from '../errors';
import type { AzureCredential } from '../secrets/azureCredential';
import type { AuditRecord, AuditSink } from './auditSink';
import type { AuditSinkSettings } from './auditSinkSettings';

export const defaultAuditFlushIntervalInMilliseconds = 5000;
export const defaultMaxAuditBatchEntries = 100;
export const defaultMaxAuditUploadAttempts = 3;
export const defaultAuditRetryDelayInMilliseconds = 1000;
export const defaultAuditUploadTimeoutInMilliseconds = 10_000;
/** Beyond this many queued entries new ones are dropped, so an outage cannot exhaust memory. */
export const defaultMaxQueuedAuditEntries = 10_000;

export interface LogsIngestionAuditSinkOptions {
  settings: AuditSinkSettings;
  credential: AzureCredential;
  logger: pino.Logger;
  /** Maximum time an entry waits in the queue before a flush starts. */
  flushIntervalInMilliseconds?: number;
  /** Entries per upload. A full batch is flushed at once. */
  maxBatchEntries?: number;
  /** Tries of one batch, the first included. */
  maxUploadAttempts?: number;
  /** Wait before the second try, doubled before each later one. */
  retryDelayInMilliseconds?: number;
  /** Maximum time of one try, token request included. */
  uploadTimeoutInMilliseconds?: number;
  maxQueuedEntries?: number;
  /** Added to the client's options, such as `tlsOptions` in tests. */
  clientOptions?: LogsIngestionClientOptions;
}

/**
 * Sends audit records to a Log Analytics table through the Logs Ingestion API. Records are
 * queued and uploaded in batches, and a failed batch is retried a bounded number of times and
 * then dropped with a warning, because the tracking store keeps every entry anyway. Each record
 * becomes a row with the columns `TimeGenerated`, `MessageId`, `Step`, `Key` and `Detail`.
 *
 * NOTE: entries still queued when the process exits without `close()` reach only the tracking store.
 */
export class LogsIngestionAuditSink implements AuditSink {
  readonly #client: LogsIngestionClient;
  readonly #settings: AuditSinkSettings;
  readonly #logger: pino.Logger;
  readonly #flushIntervalInMilliseconds: number;
  readonly #maxBatchEntries: number;
  readonly #maxUploadAttempts: number;
  readonly #retryDelayInMilliseconds: number;
  readonly #uploadTimeoutInMilliseconds: number;
  readonly #maxQueuedEntries: number;
  #queue: AuditRecord[] = [];
  #droppedEntries = 0;
  #timer: NodeJS.Timeout | undefined;
  #flushing: Promise<void> | undefined;
  #closed = false;

  constructor(options: LogsIngestionAuditSinkOptions) {
    this.#settings = options.settings;
    this.#logger = options.logger;
    this.#flushIntervalInMilliseconds = options.flushIntervalInMilliseconds ?? defaultAuditFlushIntervalInMilliseconds;
    this.#maxBatchEntries = options.maxBatchEntries ?? defaultMaxAuditBatchEntries;
    this.#maxUploadAttempts = options.maxUploadAttempts ?? defaultMaxAuditUploadAttempts;
    this.#retryDelayInMilliseconds = options.retryDelayInMilliseconds ?? defaultAuditRetryDelayInMilliseconds;
    this.#uploadTimeoutInMilliseconds = options.uploadTimeoutInMilliseconds ?? defaultAuditUploadTimeoutInMilliseconds;
    this.#maxQueuedEntries = options.maxQueuedEntries ?? defaultMaxQueuedAuditEntries;
    // The sink retries whole batches itself, so the pipeline does not retry as well.
    this.#client = new LogsIngestionClient(options.settings.endpoint, options.credential, { retryOptions: { maxRetries: 0 }, ...options.clientOptions });
  }

  add(record: AuditRecord): void {
    if (this.#queue.length >= this.#maxQueuedEntries) {
      this.#droppedEntries += 1;
      if (this.#droppedEntries === 1) {
        this.#logger.warn({ streamName: this.#settings.streamName, maxQueuedEntries: this.#maxQueuedEntries }, 'audit queue for Log Analytics is full, so new entries stay only in the tracking store');
      }
      return;
    }
    this.#queue.push(record);
    if (this.#queue.length >= this.#maxBatchEntries) {
      void this.flush();
    } else {
      this.#scheduleFlush();
    }
  }

  /** Runs one flush at a time: a caller that arrives during a flush waits for that one. */
  flush(): Promise<void> {
    this.#flushing ??= this.#flushQueue().finally(() => {
      this.#flushing = undefined;
      if (this.#queue.length > 0) {
        this.#scheduleFlush();
      }
    });
    return this.#flushing;
  }

  async close(): Promise<void> {
    this.#closed = true;
    clearTimeout(this.#timer);
    this.#timer = undefined;
    // A flush that is already running uploads only what was queued when it started, so a second one takes the rest.
    await this.flush();
    if (this.#queue.length > 0) {
      await this.flush();
    }
  }

  #scheduleFlush(): void {
    if (this.#timer !== undefined || this.#closed) {
      return;
    }
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      void this.flush();
    }, this.#flushIntervalInMilliseconds);
    // A pending flush does not keep the process alive.
    this.#timer.unref();
  }

  /** Uploads the entries queued when it starts, one batch after another. Entries added meanwhile wait for the next flush. */
  async #flushQueue(): Promise<void> {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    if (this.#droppedEntries > 0) {
      this.#logger.warn({ streamName: this.#settings.streamName, droppedEntries: this.#droppedEntries }, 'audit entries dropped while the Log Analytics queue was full');
      this.#droppedEntries = 0;
    }

    const batchCount = Math.ceil(this.#queue.length / this.#maxBatchEntries);
    for (let batchIndex = 0; batchIndex < batchCount; batchIndex++) {
      const batch = this.#queue.splice(0, this.#maxBatchEntries);
      await this.#uploadWithRetries(batch);
    }
  }

  async #uploadWithRetries(batch: AuditRecord[]): Promise<void> {
    const logFields = { streamName: this.#settings.streamName, entries: batch.length, firstMessageId: batch[0]?.messageId };
    for (let attempt = 1; attempt <= this.#maxUploadAttempts; attempt++) {
      try {
        await this.#upload(batch);
        this.#logger.debug({ ...logFields, attempt }, 'audit entries uploaded to Log Analytics');
        return;
      } catch (error) {
        const lastAttempt = attempt === this.#maxUploadAttempts;
        this.#logger.warn(
          { ...logFields, attempt, maxAttempts: this.#maxUploadAttempts, error: describeUploadError(error) },
          lastAttempt ? 'audit upload to Log Analytics failed, so these entries stay only in the tracking store' : 'audit upload to Log Analytics failed, retrying',
        );
        if (!lastAttempt) {
          await delay(this.#retryDelayInMilliseconds * 2 ** (attempt - 1));
        }
      }
    }
  }

  /**
   * Uploads one batch, and rejects when that takes longer than the upload timeout. The race also
   * ends a credential that never returns a token, which the abort signal alone cannot stop.
   */
  async #upload(batch: AuditRecord[]): Promise<void> {
    const controller = new AbortController();
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_resolve, reject) => {
      timer = setTimeout(() => {
        const error = new RetryableError(`upload to ${this.#settings.endpoint} timed out after ${this.#uploadTimeoutInMilliseconds} ms`);
        controller.abort(error);
        reject(error);
      }, this.#uploadTimeoutInMilliseconds);
    });

    const rows = batch.map((record) => ({ TimeGenerated: record.time, MessageId: record.messageId, Step: record.step, Key: record.key, Detail: record.detail }));
    try {
      await Promise.race([this.#client.upload(this.#settings.ruleId, this.#settings.streamName, rows, { abortSignal: controller.signal }), timeout]);
    } finally {
      clearTimeout(timer);
    }
  }
}

/**
 * Returns the causes of a failed upload. `upload` throws an AggregateLogsUploadError whose own
 * message is empty and whose `errors` contain the cause of each failed chunk.
 */
function describeUploadError(error: unknown): string {
  const chunkErrors = (error as { errors?: Array<{ cause?: unknown }> }).errors;
  if (Array.isArray(chunkErrors) && chunkErrors.length > 0) {
    return chunkErrors.map((chunkError) => errorMessageOf(chunkError.cause)).join('; ');
  }
  return errorMessageOf(error);
}

function delay(milliseconds: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, milliseconds));
}
