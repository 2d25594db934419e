import type { IncomingMessage, ServerResponse } from 'node:http';
import type { FunctionRegistry, RegisteredFunction } from '../functionsCore/registry';
import { isAuthorized, unauthorizedProblem } from '../http/authorization';
import { parseJsonBody, readBodyWithinLimit } from '../http/endpointBody';
import { problemType, sendProblem, type Problem } from '../http/problem';
import type { HostEndpointHandler } from '../http/server';
import { toEventGridInvocation } from '../eventGrid/eventDelivery';
import { runFunction, type FunctionRunOptions, type FunctionRunResult } from '../runFunction';
import type { TimerScheduler } from '../timer/timerScheduler';

/**
 * `POST /admin/functions/{name}` with the body `{ "input": "..." }` and the host key, which runs
 * a function that is not HTTP-triggered once, as the admin API of the Functions host does. A
 * timer function runs its handler with a timer object, and an Event Grid function receives the
 * input, which must be the event as JSON text, as its event.
 *
 * Unlike the Functions host, which responds with 202 at once, the local host responds when the
 * invocation has finished: 202 when it succeeded, 500 when it failed.
 */

export const adminFunctionsPathSegments = ['admin', 'functions'];

export interface AdminInvocationOptions extends FunctionRunOptions {
  registry: FunctionRegistry;
  /** Runs timer functions. Undefined when the app has none. */
  timerScheduler: TimerScheduler | undefined;
  hostKey: string;
  maxRequestBodyBytes: number;
}

/** Trigger types that the admin API does not run, each with the way to run such a function instead. */
const unsupportedTriggers: Record<string, string> = {
  httptrigger: 'Send a request to its route instead.',
  orchestrationtrigger: 'Start it with the Durable Functions management API (POST /runtime/webhooks/durabletask/orchestrators/{name}) instead.',
  activitytrigger: 'Activities run when an orchestration calls them.',
  entitytrigger: 'Signal the entity with the Durable Functions management API (POST /runtime/webhooks/durabletask/entities/{name}/{key}) instead.',
};

/** Result of reading the request body: the `input` text, or undefined after an error response was sent. */
type InputResult = { input: string | undefined } | undefined;

/** Logs a rejected request with the problem's status and detail, then sends the problem. */
function reject(res: ServerResponse, options: AdminInvocationOptions, problem: Problem, functionName: string): void {
  options.logger.info({ functionName, status: problem.status, detail: problem.detail }, 'admin request rejected');
  sendProblem(res, problem);
}

function invalidRequest(detail: string): Problem {
  return { status: 400, type: problemType('invalid-admin-request'), title: 'Invalid request', detail };
}

function describeJsonType(value: unknown): string {
  if (Array.isArray(value)) {
    return 'an array';
  }
  return value === null ? 'null' : `a ${typeof value}`;
}

/** Finds a function by its exact name, or else by a case-insensitive match. */
function findFunction(registry: FunctionRegistry, name: string): RegisteredFunction | undefined {
  const lowerName = name.toLowerCase();
  return registry.getFunction(name) ?? [...registry.functions.values()].find((fn) => fn.name.toLowerCase() === lowerName);
}

async function readInput(req: IncomingMessage, res: ServerResponse, fn: RegisteredFunction, options: AdminInvocationOptions): Promise<InputResult> {
  const bytes = await readBodyWithinLimit(req, res, options.maxRequestBodyBytes, options.logger);
  if (!bytes) {
    return undefined;
  }
  // An empty body means no input, as `{}` does.
  if (bytes.length === 0) {
    return { input: undefined };
  }
  const parsed = parseJsonBody(bytes);
  if (!parsed.ok) {
    reject(res, options, { status: 400, type: problemType('invalid-json'), title: 'Invalid JSON', detail: `${parsed.reason} Send a JSON object such as {"input": "..."}.` }, fn.name);
    return undefined;
  }
  const body = parsed.value;
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    reject(res, options, invalidRequest(`The body is ${describeJsonType(body)}, but it must be a JSON object such as {"input": "..."}.`), fn.name);
    return undefined;
  }
  const input = (body as Record<string, unknown>).input;
  if (input !== undefined && input !== null && typeof input !== 'string') {
    reject(res, options, invalidRequest(`"input" must be a string, but it is ${describeJsonType(input)}. Pass an event as JSON text, for example with JSON.stringify(event).`), fn.name);
    return undefined;
  }
  return { input: input ?? undefined };
}

function sendFinished(res: ServerResponse, fn: RegisteredFunction, result: FunctionRunResult): void {
  if (result.outcome === 'failed') {
    sendProblem(res, {
      status: 500,
      type: problemType('function-failed'),
      title: 'Function failed',
      detail: `Function "${fn.name}" failed in invocation ${result.invocationId}. The host log contains the error under this invocation id.`,
    });
    return;
  }
  res.writeHead(202, { 'Content-Length': '0' });
  res.end();
}

async function runTimerFunction(res: ServerResponse, fn: RegisteredFunction, options: AdminInvocationOptions): Promise<void> {
  const start = options.timerScheduler?.runNow(fn.name, 'admin');
  if (!start) {
    throw new Error(`Internal error: timer function "${fn.name}" is not known to the timer scheduler.`);
  }
  if (start.status === 'busy') {
    const detail = `Function "${fn.name}" is running in invocation ${start.runningInvocationId}, and a timer function runs once at a time. Send the request again when it has finished.`;
    reject(res, options, { status: 409, type: problemType('function-running'), title: 'Function is running', detail }, fn.name);
    return;
  }
  if (start.status === 'stopped') {
    const detail = 'The local host is stopping and starts no new invocations.';
    reject(res, options, { status: 503, type: problemType('host-unavailable'), title: 'Host is stopping', detail }, fn.name);
    return;
  }
  sendFinished(res, fn, await start.result);
}

async function runEventGridFunction(res: ServerResponse, fn: RegisteredFunction, input: string | undefined, options: AdminInvocationOptions): Promise<void> {
  let event: unknown;
  try {
    event = JSON.parse(input ?? '');
  } catch {
    event = undefined;
  }
  if (typeof event !== 'object' || event === null || Array.isArray(event)) {
    reject(res, options, invalidRequest(`Function "${fn.name}" has an Event Grid trigger, so "input" must be one event as JSON object text, such as the result of JSON.stringify(event).`), fn.name);
    return;
  }
  const body = event as Record<string, unknown>;
  const result = await runFunction(options, fn, toEventGridInvocation(body), { reason: 'admin', eventId: body.id });
  sendFinished(res, fn, result);
}

async function invokeFunction(req: IncomingMessage, res: ServerResponse, url: URL, functionName: string, options: AdminInvocationOptions): Promise<void> {
  if (!isAuthorized('admin', req, url, options.hostKey)) {
    options.logger.info({ functionName, path: url.pathname }, 'request rejected: missing or invalid key');
    sendProblem(res, unauthorizedProblem('The admin API'));
    return;
  }
  const fn = findFunction(options.registry, functionName);
  if (!fn) {
    const detail = `The app registers no function named "${functionName}". Check the name against the functions of the app.`;
    reject(res, options, { status: 404, type: problemType('function-not-found'), title: 'Function not found', detail }, functionName);
    return;
  }

  const input = await readInput(req, res, fn, options);
  if (!input) {
    return;
  }
  const triggerType = fn.trigger.type.toLowerCase();
  if (triggerType === 'timertrigger') {
    await runTimerFunction(res, fn, options);
  } else if (triggerType === 'eventgridtrigger') {
    await runEventGridFunction(res, fn, input.input, options);
  } else {
    const alternative = unsupportedTriggers[triggerType] ?? 'The local host runs no functions with this trigger type.';
    reject(res, options, invalidRequest(`Function "${fn.name}" has the trigger type ${fn.trigger.type}, which the admin API does not run. ${alternative}`), fn.name);
  }
}

/** Creates the handler of `/admin/functions/{name}`, for `HostHttpServer.addHostEndpoint`. */
export function createAdminInvocationHandler(options: AdminInvocationOptions): HostEndpointHandler {
  return async (req, res, url, pathSegments) => {
    if (pathSegments.length !== 1 || pathSegments[0] === '') {
      sendProblem(res, {
        status: 404,
        type: problemType('route-not-found'),
        title: 'Route not found',
        detail: `No endpoint serves ${url.pathname}. To run a function, send POST /admin/functions/{name}.`,
      });
      return;
    }
    if (req.method !== 'POST') {
      sendProblem(res, {
        status: 405,
        type: problemType('method-not-allowed'),
        title: 'Method not allowed',
        detail: `${req.method} is not allowed for ${url.pathname}. Allowed methods: POST.`,
        headers: { Allow: 'POST' },
      });
      return;
    }
    await invokeFunction(req, res, url, pathSegments[0], options);
  };
}
