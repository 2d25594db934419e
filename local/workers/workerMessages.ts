import type { IncomingHttpHeaders } from 'node:http';

import type { InvocationRequest } from '../functionsCore/invoker';
import type { RpcInvocationResponse } from '../functionsCore/registry';

/**
 * The messages between the host and its function worker threads. Everything in them survives
 * the structured clone of `postMessage`: plain objects, strings, numbers and byte arrays.
 */

/** The `workerData` a function worker starts with. */
export interface FunctionWorkerData {
  appRoot: string;
  /** The worker's number, from 1, for log lines. */
  workerNumber: number;
}

/** An error as it crosses between threads: the fields that the host reads from an Error. */
export interface SerializedError {
  name: string;
  message: string;
  stack: string | undefined;
}

/** A management API request from a durable client in a worker, with its body already read. */
export interface WorkerManagementRequest {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  body: Uint8Array;
}

export interface WorkerManagementResponse {
  status: number;
  headers: Record<string, string>;
  body: Uint8Array;
}

export type HostToWorkerMessage =
  | {
      type: 'configure';
      /** Port the host listens on, which the worker's loopback settings name. */
      port: number;
      /** Origin of the management API that the worker's durable clients call, served through the host. */
      managementOrigin: string | undefined;
    }
  | { type: 'invoke'; callId: number; functionName: string; request: InvocationRequest }
  | { type: 'managementResponse'; exchangeId: number; response: WorkerManagementResponse }
  | { type: 'managementFailed'; exchangeId: number; error: SerializedError }
  | { type: 'stop' };

export type WorkerToHostMessage =
  | { type: 'ready' }
  | { type: 'startFailed'; error: SerializedError }
  | {
      type: 'invocationSucceeded';
      callId: number;
      invocationId: string;
      /** The RPC response. For the durable triggers it has no return value, because `resultJson` carries the result. */
      response: RpcInvocationResponse;
      /** The handler's return value as JSON, for the durable triggers whose result the engine reads. */
      resultJson: string | undefined;
    }
  | { type: 'invocationFailed'; callId: number; error: SerializedError }
  | { type: 'managementRequest'; exchangeId: number; request: WorkerManagementRequest }
  | { type: 'invocationLog'; functionName: string; invocationId: string; level: string; category: string; message: string }
  | { type: 'coreLog'; level: string; category: string; message: string }
  | { type: 'stopped'; error: SerializedError | undefined };

/** Copies the fields of `error` that cross threads. A thrown value that is not an Error becomes its text. */
export function toSerializedError(error: unknown): SerializedError {
  if (error instanceof Error) {
    return { name: error.name, message: error.message, stack: error.stack };
  }
  return { name: 'Error', message: typeof error === 'string' ? error : JSON.stringify(error), stack: undefined };
}

/** Rebuilds an Error with the name, message and stack of the thread where it was thrown. */
export function fromSerializedError(serialized: SerializedError): Error {
  const error = new Error(serialized.message);
  error.name = serialized.name;
  error.stack = serialized.stack;
  return error;
}
