import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { logCaughtError } from '../logger';
import { toServerOptions, type ConnectionLimits } from './connectionLimits';
import { handleFunctionRequest, type FunctionRequestOptions } from './functionRequest';
import { fromIncomingMessage, writeExchangeResponse, type HostExchangeRequest, type HostExchangeResponse } from './hostExchange';
import { problemType, sendProblem, toProblemResponse, type Problem } from './problem';
import type { RouteTable } from './routeTable';

/**
 * The local host's HTTP server on 127.0.0.1: HTTP-triggered functions under the route prefix,
 * the Durable Functions management API under `/runtime/webhooks/durabletask/`, the host's own
 * endpoints (such as the Event Grid topic and the admin API), and a health endpoint. It responds
 * with 503 while the host starts and, except for the management API, while it stops.
 */

export type HostState = 'starting' | 'ready' | 'stopping';

/**
 * Serves one management API request that arrived over HTTP or in process, and returns the whole
 * response. `pathSegments` are the decoded segments after `/runtime/webhooks/durabletask`.
 */
export type ManagementRequestHandler = (request: HostExchangeRequest, pathSegments: string[]) => Promise<HostExchangeResponse>;

/** Serves one request to a host endpoint. `pathSegments` are the decoded segments after the endpoint's path. */
export type HostEndpointHandler = (req: IncomingMessage, res: ServerResponse, url: URL, pathSegments: string[]) => Promise<void>;

export interface HostHttpServerOptions extends FunctionRequestOptions {
  routeTable: RouteTable;
  /** Route prefix without slashes, used for the health path `/<routePrefix>/health`. */
  routePrefix: string;
  /** Header size and read time limits; Node's defaults apply to those not set. */
  connectionLimits?: ConnectionLimits;
}

export const managementPathSegments = ['runtime', 'webhooks', 'durabletask'];
const listenHost = '127.0.0.1';
const retryAfterStartingSeconds = 1;
const retryAfterStoppingSeconds = 5;

class InvalidPathError extends Error {}

const hostErrorProblem: Problem = {
  status: 500,
  type: problemType('host-error'),
  title: 'Host error',
  detail: 'The local host failed to process the request. The host log contains the error.',
};

/** Splits a percent-encoded path into decoded segments, ignoring one trailing slash. */
function decodePathSegments(pathname: string): string[] {
  const segments = pathname.split('/').slice(1);
  if (segments.length > 0 && segments[segments.length - 1] === '') {
    segments.pop();
  }
  return segments.map((segment) => {
    try {
      return decodeURIComponent(segment);
    } catch {
      throw new InvalidPathError(`The path segment "${segment}" has an invalid percent-encoding.`);
    }
  });
}

/**
 * Parses the request URL with the origin the client used (the Host header), so that URLs handed
 * to functions and returned by the management API work for the caller. A missing or invalid Host
 * header falls back to 127.0.0.1 and the listening port.
 */
function parseRequestUrl(req: IncomingMessage): URL {
  const fallbackOrigin = `http://${listenHost}:${req.socket.localPort ?? ''}`;
  try {
    return new URL(req.url ?? '/', req.headers.host ? `http://${req.headers.host}` : fallbackOrigin);
  } catch {
    return new URL(req.url ?? '/', fallbackOrigin);
  }
}

function startsWithSegments(pathSegments: string[], prefix: string[]): boolean {
  return prefix.every((segment, index) => pathSegments[index]?.toLowerCase() === segment);
}

/**
 * Returns whether `pathname` (percent-encoded) starts with `/runtime/webhooks/durabletask`, the
 * management API's base path. Only those segments are decoded, so a path with an invalid encoding
 * further on still matches and gets the same 400 response as over HTTP.
 */
export function isManagementPath(pathname: string): boolean {
  const leadingSegments = pathname.split('/').slice(1, managementPathSegments.length + 1);
  try {
    return startsWithSegments(leadingSegments.map((segment) => decodeURIComponent(segment)), managementPathSegments);
  } catch {
    return false;
  }
}

function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const bytes = Buffer.from(JSON.stringify(body));
  res.writeHead(status, { ...headers, 'Content-Type': 'application/json', 'Content-Length': String(bytes.length) });
  res.end(bytes);
}

export class HostHttpServer {
  readonly #options: HostHttpServerOptions;
  readonly #server: http.Server;
  readonly #healthPathSegments: string[];
  #management: ManagementRequestHandler | undefined;
  readonly #hostEndpoints: { pathSegments: string[]; handler: HostEndpointHandler; servedWhileStopping: boolean }[] = [];
  #state: HostState = 'starting';
  #activeRequests = 0;
  #idleListeners = new Set<() => void>();

  constructor(options: HostHttpServerOptions) {
    this.#options = options;
    this.#healthPathSegments = [...(options.routePrefix === '' ? [] : options.routePrefix.split('/')), 'health'].map((segment) => segment.toLowerCase());
    const serverOptions = options.connectionLimits === undefined ? {} : toServerOptions(options.connectionLimits);
    this.#server = http.createServer(serverOptions, (req, res) => this.#track(req, res));
  }

  get state(): HostState {
    return this.#state;
  }

  get activeRequestCount(): number {
    return this.#activeRequests;
  }

  /** Sets the handler of the management API. Without one, its paths respond with 404. */
  setManagementHandler(handler: ManagementRequestHandler): void {
    this.#management = handler;
  }

  /**
   * Serves the paths that start with `pathSegments` (compared case-insensitively) with `handler`
   * while the host is ready. They take precedence over function routes, so that an app with an
   * empty route prefix cannot hide them.
   */
  addHostEndpoint(pathSegments: string[], handler: HostEndpointHandler, options: { servedWhileStopping?: boolean } = {}): void {
    this.#hostEndpoints.push({ pathSegments: pathSegments.map((segment) => segment.toLowerCase()), handler, servedWhileStopping: options.servedWhileStopping ?? false });
  }

  /**
   * Starts listening on 127.0.0.1 and returns the port, which the system picks when `port` is 0.
   * `onListening` runs synchronously in the listening callback, before the event loop can
   * accept a connection, so whatever it starts is running when the first request arrives.
   */
  listen(port: number, onListening: (boundPort: number) => void = () => undefined): Promise<number> {
    return new Promise((resolve, reject) => {
      const onError = (error: Error) => reject(error);
      this.#server.once('error', onError);
      this.#server.listen(port, listenHost, () => {
        this.#server.off('error', onError);
        const boundPort = (this.#server.address() as AddressInfo).port;
        try {
          onListening(boundPort);
        } catch (error) {
          reject(error);
          return;
        }
        resolve(boundPort);
      });
    });
  }

  markReady(): void {
    this.#state = 'ready';
  }

  /**
   * Responds to new requests with 503 from now on, except for the management API and the host
   * endpoints served while stopping, and closes idle connections.
   */
  beginStopping(): void {
    this.#state = 'stopping';
    this.#server.closeIdleConnections();
  }

  /** Resolves true once no request is running, or false when `timeoutInMilliseconds` passes first. */
  waitForIdle(timeoutInMilliseconds: number): Promise<boolean> {
    if (this.#activeRequests === 0) {
      return Promise.resolve(true);
    }
    return new Promise((resolve) => {
      const onIdle = () => {
        clearTimeout(timer);
        this.#idleListeners.delete(onIdle);
        resolve(true);
      };
      const timer = setTimeout(() => {
        this.#idleListeners.delete(onIdle);
        resolve(false);
      }, timeoutInMilliseconds);
      this.#idleListeners.add(onIdle);
    });
  }

  /** Stops listening and closes every connection, including those of requests still running. */
  close(): Promise<void> {
    return new Promise((resolve) => {
      this.#server.close(() => resolve());
      this.#server.closeAllConnections();
    });
  }

  /**
   * Serves a management API request that did not arrive over HTTP, such as one that the durable
   * client of a function sends in process. Returns the response that the same request gets over
   * HTTP, including the 503 while the host starts. The request counts as running, so a stopping
   * host waits for it as for an HTTP request.
   */
  async serveManagementRequest(request: HostExchangeRequest): Promise<HostExchangeResponse> {
    this.#requestStarted();
    try {
      let pathSegments: string[];
      try {
        pathSegments = decodePathSegments(request.url.pathname);
      } catch (error) {
        if (!(error instanceof InvalidPathError)) {
          throw error;
        }
        return toProblemResponse({ status: 400, type: problemType('invalid-path'), title: 'Invalid path', detail: error.message });
      }
      if (!startsWithSegments(pathSegments, managementPathSegments)) {
        throw new Error(`Internal error: ${request.url.pathname} is not a management API path, so it cannot be served as one.`);
      }
      if (this.#state === 'starting') {
        return toProblemResponse(this.#unavailableProblem());
      }
      return await this.#dispatchManagement(request, pathSegments.slice(managementPathSegments.length));
    } finally {
      this.#requestFinished();
    }
  }

  #requestStarted(): void {
    this.#activeRequests += 1;
  }

  #requestFinished(): void {
    this.#activeRequests -= 1;
    if (this.#activeRequests === 0) {
      [...this.#idleListeners].forEach((listener) => listener());
    }
  }

  #track(req: IncomingMessage, res: ServerResponse): void {
    this.#requestStarted();
    res.once('close', () => this.#requestFinished());
    this.#handle(req, res).catch((error: unknown) => {
      logCaughtError(this.#options.logger, 'request failed in the host', error, { method: req.method, path: req.url?.split('?')[0] });
      sendProblem(res, hostErrorProblem);
    });
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    let url: URL;
    let pathSegments: string[];
    try {
      url = parseRequestUrl(req);
      pathSegments = decodePathSegments(url.pathname);
    } catch (error) {
      // new URL raises TypeError for a request target it cannot parse.
      if (!(error instanceof InvalidPathError || error instanceof TypeError)) {
        throw error;
      }
      const detail = error instanceof InvalidPathError ? error.message : 'The request target is not a valid URL path.';
      sendProblem(res, { status: 400, type: problemType('invalid-path'), title: 'Invalid path', detail });
      return;
    }

    if (this.#state !== 'starting' && startsWithSegments(pathSegments, managementPathSegments)) {
      await this.#handleManagement(req, res, url, pathSegments.slice(managementPathSegments.length));
      return;
    }

    const hostEndpoint = this.#hostEndpoints.find((endpoint) => startsWithSegments(pathSegments, endpoint.pathSegments));
    if (hostEndpoint) {
      if (this.#state === 'starting' || (this.#state === 'stopping' && !hostEndpoint.servedWhileStopping)) {
        this.#sendUnavailable(res, false);
        return;
      }
      await hostEndpoint.handler(req, res, url, pathSegments.slice(hostEndpoint.pathSegments.length));
      return;
    }

    const match = this.#options.routeTable.match(req.method ?? 'GET', pathSegments);
    const isHealthRequest = match.kind === 'notFound' && pathSegments.length === this.#healthPathSegments.length && startsWithSegments(pathSegments, this.#healthPathSegments);
    if (this.#state !== 'ready') {
      this.#sendUnavailable(res, isHealthRequest);
      return;
    }

    switch (match.kind) {
      case 'matched':
        await handleFunctionRequest(this.#options, req, res, url, match.route, match.params);
        return;
      case 'methodNotAllowed':
        sendProblem(res, {
          status: 405,
          type: problemType('method-not-allowed'),
          title: 'Method not allowed',
          detail: `${req.method} is not allowed for ${url.pathname}. Allowed methods: ${match.allowedMethods.join(', ')}.`,
          headers: { Allow: match.allowedMethods.join(', ') },
        });
        return;
      case 'notFound':
        if (isHealthRequest && (req.method === 'GET' || req.method === 'HEAD')) {
          sendJson(res, 200, { status: 'ready' });
          return;
        }
        sendProblem(res, {
          status: 404,
          type: problemType('route-not-found'),
          title: 'Route not found',
          detail: `No function serves ${req.method} ${url.pathname}. Check the path and the route prefix "${this.#options.routePrefix}".`,
        });
    }
  }

  async #handleManagement(req: IncomingMessage, res: ServerResponse, url: URL, pathSegments: string[]): Promise<void> {
    writeExchangeResponse(res, await this.#dispatchManagement(fromIncomingMessage(req, url), pathSegments));
  }

  /** Runs the management handler. An error that it raises is logged and becomes the host's 500 response, on both paths. */
  async #dispatchManagement(request: HostExchangeRequest, pathSegments: string[]): Promise<HostExchangeResponse> {
    if (!this.#management) {
      return toProblemResponse({
        status: 404,
        type: problemType('durable-engine-disabled'),
        title: 'Durable Functions management API not available',
        detail: 'The app registers no durable functions, so the local host runs no durable engine and serves no management API.',
      });
    }
    try {
      return await this.#management(request, pathSegments);
    } catch (error) {
      logCaughtError(this.#options.logger, 'request failed in the host', error, { method: request.method, path: request.url.pathname });
      return toProblemResponse(hostErrorProblem);
    }
  }

  #sendUnavailable(res: ServerResponse, isHealthRequest: boolean): void {
    if (isHealthRequest) {
      const { headers } = this.#unavailableProblem();
      sendJson(res, 503, { status: this.#state }, headers);
      return;
    }
    sendProblem(res, this.#unavailableProblem());
  }

  #unavailableProblem(): Problem & { headers: Record<string, string> } {
    const retryAfterSeconds = this.#state === 'starting' ? retryAfterStartingSeconds : retryAfterStoppingSeconds;
    const headers: Record<string, string> = { 'Retry-After': String(retryAfterSeconds) };
    if (this.#state === 'stopping') {
      headers.Connection = 'close';
    }
    return {
      status: 503,
      type: problemType('host-unavailable'),
      title: this.#state === 'starting' ? 'Host is starting' : 'Host is stopping',
      detail: `The local host is ${this.#state} and accepts no new requests. Retry after ${retryAfterSeconds} seconds.`,
      headers,
    };
  }
}
