import { parentPort, workerData } from 'node:worker_threads';

import { FunctionInvoker } from '../functionsCore/invoker';
import { loadApp, resolveAppMainPath, runAppHooks } from '../functionsCore/loadApp';
import type { FunctionRegistry } from '../functionsCore/registry';
import type { HostExchangeRequest, HostExchangeResponse } from '../http/hostExchange';
import { configureLoopbackEnvironment } from '../management/clientBinding';
import { loadDurableClientAxios, serveManagementInProcess } from '../management/inProcessClientAdapter';
import {
  toSerializedError,
  type FunctionWorkerData,
  type HostToWorkerMessage,
  type WorkerManagementResponse,
  type WorkerToHostMessage,
} from './workerMessages';

/**
 * A function worker thread: it loads the app, as each language worker process does in Azure,
 * runs the invocations that the host sends, and sends back their responses. Log lines of the
 * invocations go to the host's logger. A durable client in this thread reaches the management
 * API through the host, without a loopback HTTP request.
 */

// Triggers whose handler result the durable engine reads, rather than the RPC response.
const resultTriggerTypes = new Set(['orchestrationtrigger', 'activitytrigger', 'entitytrigger']);

const port = parentPort;
if (port === null) {
  throw new Error('functionWorker runs only as a worker thread that the local host starts.');
}
const { appRoot } = workerData as FunctionWorkerData;

function send(message: WorkerToHostMessage): void {
  port!.postMessage(message);
}

interface PendingExchange {
  resolve: (response: HostExchangeResponse) => void;
  reject: (error: Error) => void;
}

const pendingExchanges = new Map<number, PendingExchange>();
let nextExchangeId = 1;

/** Sends a management API request to the host and resolves with its response. */
async function exchangeThroughHost(request: HostExchangeRequest): Promise<HostExchangeResponse> {
  const body = await request.readBody(Number.MAX_SAFE_INTEGER);
  const exchangeId = nextExchangeId++;
  return new Promise((resolve, reject) => {
    pendingExchanges.set(exchangeId, { resolve, reject });
    send({ type: 'managementRequest', exchangeId, request: { method: request.method, url: request.url.href, headers: request.headers, body } });
  });
}

function toExchangeResponse(response: WorkerManagementResponse): HostExchangeResponse {
  return { status: response.status, headers: response.headers, body: Buffer.from(response.body.buffer, response.body.byteOffset, response.body.byteLength) };
}

async function invoke(registry: FunctionRegistry, invoker: FunctionInvoker, message: Extract<HostToWorkerMessage, { type: 'invoke' }>): Promise<void> {
  const fn = registry.getFunction(message.functionName);
  try {
    if (fn === undefined) {
      throw new Error(`Function "${message.functionName}" is not registered in the worker thread. The app registered different functions in the host and in the worker; register every function when the app loads.`);
    }
    const { invocationId, response, result } = await invoker.invoke(fn, message.request);
    if (!resultTriggerTypes.has(fn.trigger.type.toLowerCase())) {
      send({ type: 'invocationSucceeded', callId: message.callId, invocationId, response, resultJson: undefined });
      return;
    }
    // The engine reads the result, so the response's copy of it would cross the threads twice.
    send({
      type: 'invocationSucceeded',
      callId: message.callId,
      invocationId,
      response: { invocationId: response.invocationId, outputData: response.outputData },
      resultJson: result === undefined ? undefined : JSON.stringify(result),
    });
  } catch (error) {
    send({ type: 'invocationFailed', callId: message.callId, error: toSerializedError(error) });
  }
}

function configure(message: Extract<HostToWorkerMessage, { type: 'configure' }>): void {
  // The worker's environment is a copy made when it started, before the host knew its port.
  configureLoopbackEnvironment(message.port);
  if (message.managementOrigin === undefined) {
    return;
  }
  const lookup = loadDurableClientAxios(resolveAppMainPath(appRoot));
  if (!lookup.found) {
    send({ type: 'coreLog', level: 'information', category: 'Host.FunctionWorker', message: `Durable client calls in this function worker go over HTTP: ${lookup.reason}` });
    return;
  }
  serveManagementInProcess(lookup.axios, message.managementOrigin, exchangeThroughHost);
}

function settleExchange(message: Extract<HostToWorkerMessage, { type: 'managementResponse' | 'managementFailed' }>): void {
  const pending = pendingExchanges.get(message.exchangeId);
  if (pending === undefined) {
    return;
  }
  pendingExchanges.delete(message.exchangeId);
  if (message.type === 'managementResponse') {
    pending.resolve(toExchangeResponse(message.response));
  } else {
    pending.reject(new Error(message.error.message));
  }
}

async function start(): Promise<void> {
  let registry: FunctionRegistry;
  try {
    registry = await loadApp(appRoot, (level, category, message) => send({ type: 'coreLog', level, category, message }));
    await runAppHooks(registry, 'appStart', appRoot);
  } catch (error) {
    send({ type: 'startFailed', error: toSerializedError(error) });
    return;
  }
  const invoker = new FunctionInvoker(registry, (fn, invocationId, level, category, message) =>
    send({ type: 'invocationLog', functionName: fn.name, invocationId, level, category, message }),
  );
  port!.on('message', (message: HostToWorkerMessage) => {
    switch (message.type) {
      case 'configure':
        configure(message);
        break;
      case 'invoke':
        void invoke(registry, invoker, message);
        break;
      case 'managementResponse':
      case 'managementFailed':
        settleExchange(message);
        break;
      case 'stop':
        runAppHooks(registry, 'appTerminate', appRoot).then(
          () => send({ type: 'stopped', error: undefined }),
          (error: unknown) => send({ type: 'stopped', error: toSerializedError(error) }),
        );
        break;
    }
  });
  send({ type: 'ready' });
}

void start();
