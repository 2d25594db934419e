import fs from 'node:fs';
import path from 'node:path';
import { Worker } from 'node:worker_threads';

import type { CoreLogSink } from '../functionsCore/coreApi';
import { provideInputBindingData, type InputBindingProvider, type InvocationLogSink, type InvocationRequest, type InvocationResult, type Invoker } from '../functionsCore/invoker';
import type { FunctionRegistry, RegisteredFunction, RpcTypedData } from '../functionsCore/registry';
import { fromBufferedRequest } from '../http/hostExchange';
import type { ManagementRequestServer } from '../management/inProcessClientAdapter';
import { fromSerializedError, toSerializedError, type FunctionWorkerData, type HostToWorkerMessage, type WorkerToHostMessage } from './workerMessages';

/**
 * The compiled worker entry next to this file. A worker thread runs JavaScript only, so when
 * the host itself runs from its TypeScript sources, as under vitest, the entry comes from dist/.
 */
export const defaultWorkerScriptPath = __filename.endsWith('.ts')
  ? path.resolve(__dirname, '..', '..', 'dist', 'local', 'workers', 'functionWorker.js')
  : path.join(__dirname, 'functionWorker.js');

/** Triggers whose invocations the durable engine may run again: replays, entity batches and at-least-once activities. */
const retryableTriggerTypes = new Set(['orchestrationtrigger', 'entitytrigger', 'activitytrigger']);
/** How many workers may begin one retryable invocation before it fails. */
const maxStartsPerInvocation = 2;

/** The log calls the pool makes; the host's pino logger has them. */
export interface WorkerPoolLogger {
  warn(fields: object, message: string): void;
  error(fields: object, message: string): void;
}

export interface FunctionWorkerPoolOptions {
  appRoot: string;
  workerCount: number;
  /** The host's own load of the app, whose functions the workers register too. */
  registry: FunctionRegistry;
  logger: WorkerPoolLogger;
  invocationLog: InvocationLogSink;
  coreLog: CoreLogSink;
  workerScriptPath?: string;
}

interface PendingCall {
  callId: number;
  message: Extract<HostToWorkerMessage, { type: 'invoke' }>;
  /** Whether the call may run again on another worker when its worker stops. */
  retryable: boolean;
  /** Workers that began this call. */
  startCount: number;
  resolve: (result: InvocationResult) => void;
  reject: (error: Error) => void;
  slot: WorkerSlot | undefined;
}

interface WorkerSlot {
  workerNumber: number;
  worker: Worker;
  callIds: Set<number>;
  stopped: Promise<void>;
}

interface WorkerConfiguration {
  port: number;
  managementOrigin: string | undefined;
}

/**
 * Runs function invocations on worker threads, as the Functions host runs several language
 * worker processes when `FUNCTIONS_WORKER_PROCESS_COUNT` is set. Each worker loads the app; an
 * invocation goes to the worker with the fewest running invocations. The durable engine, the
 * HTTP server and the management API stay on the host's thread, so a worker's durable client
 * calls come back here.
 *
 * A worker that stops unexpectedly is replaced. The orchestrator episodes, entity batches and
 * activities it was running run once more on another worker, as the durable engine would run
 * them again after a crash. Its other invocations fail, as if their handler had thrown.
 */
export class FunctionWorkerPool implements Invoker {
  readonly #options: FunctionWorkerPoolOptions;
  readonly #scriptPath: string;
  readonly #slots: WorkerSlot[] = [];
  readonly #pendingCalls = new Map<number, PendingCall>();
  /** Calls that wait for a worker, while every worker is being replaced. */
  readonly #waitingCalls: PendingCall[] = [];
  readonly #inputProviders = new Map<string, InputBindingProvider>();
  #nextCallId = 1;
  #configuration: WorkerConfiguration | undefined;
  #managementServer: ManagementRequestServer | undefined;
  #stopping = false;

  constructor(options: FunctionWorkerPoolOptions) {
    this.#options = options;
    this.#scriptPath = options.workerScriptPath ?? defaultWorkerScriptPath;
  }

  get workerCount(): number {
    return this.#slots.length;
  }

  /** Starts every worker and resolves once each has loaded the app and run its appStart hooks. */
  async start(): Promise<void> {
    if (!fs.existsSync(this.#scriptPath)) {
      throw new Error(`The function worker script ${this.#scriptPath} does not exist. Build the host first (npm run build).`);
    }
    const started = await Promise.allSettled(Array.from({ length: this.#options.workerCount }, (_, index) => this.#startWorker(index + 1)));
    const failure = started.find((outcome): outcome is PromiseRejectedResult => outcome.status === 'rejected');
    if (failure !== undefined) {
      // Stopping, so that the exits of the workers that did start are not taken for crashes.
      this.#stopping = true;
      await Promise.all(this.#slots.map((slot) => slot.worker.terminate()));
      throw failure.reason;
    }
  }

  /**
   * Sends the port that the host listens on, and the origin whose management API requests
   * `server` serves. Workers started later receive the same.
   */
  configure(port: number, management: { origin: string; server: ManagementRequestServer } | undefined): void {
    this.#configuration = { port, managementOrigin: management?.origin };
    this.#managementServer = management?.server;
    for (const slot of this.#slots) {
      this.#post(slot, { type: 'configure', ...this.#configuration });
    }
  }

  provideInput(bindingType: string, provider: InputBindingProvider): void {
    this.#inputProviders.set(bindingType.toLowerCase(), provider);
  }

  invoke(fn: RegisteredFunction, request: InvocationRequest): Promise<InvocationResult> {
    if (this.#stopping && this.#slots.length === 0) {
      return Promise.reject(new Error(`Function "${fn.name}" cannot run: the host's function workers have stopped.`));
    }
    let inputBindingData: Record<string, RpcTypedData>;
    try {
      inputBindingData = provideInputBindingData(fn, this.#inputProviders);
    } catch (error) {
      return Promise.reject(error);
    }
    const callId = this.#nextCallId++;
    return new Promise<InvocationResult>((resolve, reject) => {
      const call: PendingCall = {
        callId,
        message: { type: 'invoke', callId, functionName: fn.name, request: { ...request, inputBindingData } },
        retryable: retryableTriggerTypes.has(fn.trigger.type.toLowerCase()),
        startCount: 0,
        resolve,
        reject,
        slot: undefined,
      };
      this.#pendingCalls.set(callId, call);
      this.#dispatch(call);
    });
  }

  #dispatch(call: PendingCall): void {
    const slot = this.#leastBusySlot();
    if (slot === undefined) {
      this.#waitingCalls.push(call);
      return;
    }
    call.slot = slot;
    call.startCount += 1;
    slot.callIds.add(call.callId);
    this.#post(slot, call.message);
  }

  /** Runs the appTerminate hooks in every worker and ends the workers, waiting at most `timeoutInMilliseconds`. */
  async stop(timeoutInMilliseconds: number): Promise<void> {
    this.#stopping = true;
    const slots = [...this.#slots];
    if (timeoutInMilliseconds <= 0) {
      await Promise.all(slots.map((slot) => slot.worker.terminate()));
      return;
    }
    for (const slot of slots) {
      this.#post(slot, { type: 'stop' });
    }
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<'timedOut'>((resolve) => {
      timer = setTimeout(() => resolve('timedOut'), timeoutInMilliseconds);
    });
    const outcome = await Promise.race([Promise.all(slots.map((slot) => slot.stopped)), timedOut]);
    clearTimeout(timer);
    if (outcome === 'timedOut') {
      this.#options.logger.warn({ timeoutInMilliseconds }, 'function workers did not finish their appTerminate hooks in time; ending them');
    }
    await Promise.all(slots.map((slot) => slot.worker.terminate()));
  }

  #leastBusySlot(): WorkerSlot | undefined {
    let best: WorkerSlot | undefined;
    for (const slot of this.#slots) {
      if (best === undefined || slot.callIds.size < best.callIds.size) {
        best = slot;
      }
    }
    return best;
  }

  #post(slot: WorkerSlot, message: HostToWorkerMessage): void {
    slot.worker.postMessage(message);
  }

  #startWorker(workerNumber: number): Promise<void> {
    const workerData: FunctionWorkerData = { appRoot: this.#options.appRoot, workerNumber };
    const worker = new Worker(this.#scriptPath, { workerData });
    let markStopped!: () => void;
    const slot: WorkerSlot = { workerNumber, worker, callIds: new Set(), stopped: new Promise((resolve) => (markStopped = resolve)) };
    return new Promise<void>((resolveStart, rejectStart) => {
      let ready = false;
      worker.on('message', (message: WorkerToHostMessage) => {
        switch (message.type) {
          case 'ready':
            ready = true;
            if (this.#stopping) {
              // A replacement that finished loading after the stop began.
              void worker.terminate();
              resolveStart();
              break;
            }
            this.#slots.push(slot);
            if (this.#configuration !== undefined) {
              this.#post(slot, { type: 'configure', ...this.#configuration });
            }
            this.#waitingCalls.splice(0).forEach((call) => this.#dispatch(call));
            resolveStart();
            break;
          case 'startFailed':
            rejectStart(new Error(`Function worker ${workerNumber} could not load the app: ${message.error.message}`, { cause: fromSerializedError(message.error) }));
            void worker.terminate();
            break;
          case 'stopped':
            if (message.error !== undefined) {
              this.#options.logger.error({ workerNumber, err: fromSerializedError(message.error) }, 'appTerminate hook failed in a function worker');
            }
            markStopped();
            break;
          default:
            this.#onMessage(slot, message);
        }
      });
      worker.on('error', (error) => {
        this.#options.logger.error({ workerNumber, err: error }, 'function worker failed with an uncaught error');
      });
      worker.on('exit', (exitCode) => {
        markStopped();
        if (!ready) {
          rejectStart(new Error(`Function worker ${workerNumber} stopped with exit code ${exitCode} before it loaded the app. The host log has its error.`));
          return;
        }
        this.#onUnexpectedExit(slot, exitCode);
      });
    });
  }

  #onMessage(slot: WorkerSlot, message: WorkerToHostMessage): void {
    switch (message.type) {
      case 'invocationSucceeded': {
        const call = this.#takeCall(message.callId);
        call?.resolve({
          invocationId: message.invocationId,
          response: message.response,
          result: message.resultJson === undefined ? undefined : (JSON.parse(message.resultJson) as unknown),
        });
        break;
      }
      case 'invocationFailed':
        this.#takeCall(message.callId)?.reject(fromSerializedError(message.error));
        break;
      case 'managementRequest':
        void this.#serveManagementRequest(slot, message);
        break;
      case 'invocationLog': {
        const fn = this.#options.registry.getFunction(message.functionName);
        if (fn !== undefined) {
          this.#options.invocationLog(fn, message.invocationId, message.level, message.category, message.message);
        }
        break;
      }
      case 'coreLog':
        this.#options.coreLog(message.level, message.category, message.message);
        break;
    }
  }

  #takeCall(callId: number): PendingCall | undefined {
    const call = this.#pendingCalls.get(callId);
    if (call !== undefined) {
      this.#pendingCalls.delete(callId);
      call.slot?.callIds.delete(callId);
    }
    return call;
  }

  async #serveManagementRequest(slot: WorkerSlot, message: Extract<WorkerToHostMessage, { type: 'managementRequest' }>): Promise<void> {
    const { exchangeId, request } = message;
    try {
      if (this.#managementServer === undefined) {
        throw new Error('The host does not serve the management API to its function workers: the app registers no durable functions.');
      }
      const body = Buffer.from(request.body.buffer, request.body.byteOffset, request.body.byteLength);
      const response = await this.#managementServer(fromBufferedRequest(request.method, new URL(request.url), request.headers, body));
      this.#post(slot, { type: 'managementResponse', exchangeId, response });
    } catch (error) {
      // The path only: the query contains the host key.
      const requestPath = new URL(request.url).pathname;
      this.#options.logger.error({ workerNumber: slot.workerNumber, method: request.method, path: requestPath, err: error }, 'management API request from a function worker failed');
      this.#post(slot, { type: 'managementFailed', exchangeId, error: toSerializedError(error) });
    }
  }

  #onUnexpectedExit(slot: WorkerSlot, exitCode: number): void {
    const index = this.#slots.indexOf(slot);
    if (index >= 0) {
      this.#slots.splice(index, 1);
    }
    const interrupted = [...slot.callIds].map((callId) => this.#pendingCalls.get(callId)).filter((call): call is PendingCall => call !== undefined);
    slot.callIds.clear();
    for (const call of interrupted) {
      call.slot = undefined;
      if (!this.#stopping && call.retryable && call.startCount < maxStartsPerInvocation) {
        this.#options.logger.warn(
          { workerNumber: slot.workerNumber, functionName: call.message.functionName, invocationId: call.message.request.invocationId },
          'invocation runs again on another function worker',
        );
        this.#dispatch(call);
        continue;
      }
      this.#pendingCalls.delete(call.callId);
      call.reject(new Error(`Function "${call.message.functionName}" did not finish: function worker ${slot.workerNumber} stopped with exit code ${exitCode} while it ran.`));
    }
    if (this.#stopping) {
      this.#rejectWaitingCalls("the host's function workers have stopped.");
      return;
    }
    this.#options.logger.error({ workerNumber: slot.workerNumber, exitCode }, 'function worker stopped unexpectedly; starting a new one');
    this.#startWorker(slot.workerNumber).catch((error: unknown) => {
      this.#options.logger.error({ workerNumber: slot.workerNumber, err: error }, 'function worker could not be started again');
      if (this.#slots.length === 0) {
        this.#rejectWaitingCalls('no function worker is running, and a new one could not load the app.');
      }
    });
  }

  /** Fails every call that waits for a worker, with `reason` after "cannot run:". */
  #rejectWaitingCalls(reason: string): void {
    for (const call of this.#waitingCalls.splice(0)) {
      this.#pendingCalls.delete(call.callId);
      call.reject(new Error(`Function "${call.message.functionName}" cannot run: ${reason}`));
    }
  }
}
