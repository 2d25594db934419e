import type { IncomingHttpHeaders } from 'node:http';
import type { DurableEngineApi, InstanceStatus } from '../durable/types';
import type { HostLogger } from '../logger';
import type { HostExchangeRequest, HostExchangeResponse } from '../http/hostExchange';
import { problemType, toProblemResponse, type Problem } from '../http/problem';
import { createManagementUrls, type ManagementEndpoint } from './clientBinding';
import { InvalidRequestError, readBooleanParameter } from './queryParameters';
import { toStatusPayload } from './statusPayload';

export interface ManagementApiOptions {
  engine: DurableEngineApi;
  hostKey: string;
  logger: HostLogger;
  maxRequestBodyBytes: number;
}

/** Seconds that a client should wait before polling an instance that is still running, as the extension sends. */
const statusRetryAfterSeconds = 5;
/** Seconds in the `Retry-After` of the 202 response to a start request, as the extension sends. */
const startRetryAfterSeconds = 10;

/**
 * One request to the management API, with the response helpers that its routes share. A route
 * sends exactly one response, which the handler then returns as `response`.
 */
export class ManagementRequest {
  readonly engine: DurableEngineApi;
  readonly logger: HostLogger;
  readonly method: string;
  readonly url: URL;
  readonly headers: IncomingHttpHeaders;
  #response: HostExchangeResponse | undefined;

  constructor(
    readonly options: ManagementApiOptions,
    readonly exchange: HostExchangeRequest,
  ) {
    this.engine = options.engine;
    this.logger = options.logger;
    this.method = exchange.method;
    this.url = exchange.url;
    this.headers = exchange.headers;
  }

  /** The response that a route sent, or undefined while none has been sent. */
  get response(): HostExchangeResponse | undefined {
    return this.#response;
  }

  /** The endpoint as the caller reached it, so that returned URLs use the same origin. */
  get endpoint(): ManagementEndpoint {
    return { origin: this.url.origin, taskHubName: this.engine.taskHubName, hostKey: this.options.hostKey };
  }

  sendJson(status: number, body: unknown, headers: Record<string, string> = {}): void {
    const bytes = Buffer.from(JSON.stringify(body ?? null));
    this.#send({ status, headers: { ...headers, 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': String(bytes.length) }, body: bytes });
  }

  sendEmpty(status: number): void {
    this.#send({ status, headers: { 'Content-Length': '0' }, body: Buffer.alloc(0) });
  }

  sendProblem(status: number, typeName: string, title: string, detail: string): void {
    this.sendProblemResponse({ status, type: problemType(typeName), title, detail });
  }

  sendProblemResponse(problem: Problem): void {
    this.#send(toProblemResponse(problem));
  }

  sendInstanceNotFound(instanceId: string): void {
    this.sendProblem(404, 'instance-not-found', 'Instance not found', `No orchestration instance with id "${instanceId}" exists in task hub ${this.engine.taskHubName}.`);
  }

  /** Reads the body up to the host limit, and raises `RequestBodyTooLargeError` beyond it. */
  readBody(): Promise<Buffer> {
    return this.exchange.readBody(this.options.maxRequestBodyBytes);
  }

  /** Parses a JSON body. Returns undefined when the body is empty or white space. */
  async readJsonBody(): Promise<unknown> {
    const text = (await this.readBody()).toString('utf8');
    if (text.trim() === '') {
      return undefined;
    }
    try {
      return JSON.parse(text);
    } catch (error) {
      throw new InvalidRequestError(`The request body is not valid JSON: ${(error as Error).message}. Send a JSON value, or no body.`);
    }
  }

  /** Returns whether the body is declared as JSON (`application/json`, parameters allowed). */
  hasJsonContentType(): boolean {
    const mediaType = this.headers['content-type']?.split(';')[0].trim().toLowerCase();
    return mediaType === 'application/json';
  }

  /**
   * Sends the status of an instance with the status code the documentation of the management API
   * gives: 202 while it runs (with `Location` and `Retry-After`), 200 when completed, 400 when
   * failed or terminated, and 500 instead of 400 for a failed instance when the request has
   * `returnInternalServerErrorOnFailure=true`.
   */
  sendInstanceStatus(status: InstanceStatus): void {
    const payload = toStatusPayload(status);
    switch (status.runtimeStatus) {
      case 'Completed':
        this.sendJson(200, payload);
        return;
      case 'Failed':
        this.sendJson(readBooleanParameter(this.url, 'returnInternalServerErrorOnFailure', false) ? 500 : 400, payload);
        return;
      case 'Terminated':
        this.sendJson(400, payload);
        return;
      default:
        this.sendJson(202, payload, { Location: this.url.href, 'Retry-After': String(statusRetryAfterSeconds) });
    }
  }

  /** Sends 202 with the management payload of the instance, as `createCheckStatusResponse` does. */
  sendCheckStatusResponse(instanceId: string): void {
    const urls = createManagementUrls(this.endpoint, instanceId);
    const payload = {
      id: urls.id,
      statusQueryGetUri: urls.statusQueryGetUri,
      sendEventPostUri: urls.sendEventPostUri,
      terminatePostUri: urls.terminatePostUri,
      purgeHistoryDeleteUri: urls.purgeHistoryDeleteUri,
      restartPostUri: urls.restartPostUri,
      suspendPostUri: urls.suspendPostUri,
      resumePostUri: urls.resumePostUri,
    };
    this.sendJson(202, payload, { Location: urls.statusQueryGetUri, 'Retry-After': String(startRetryAfterSeconds) });
  }

  #send(response: HostExchangeResponse): void {
    if (this.#response !== undefined) {
      throw new Error(`Internal error: a management route sent a second response (${response.status} after ${this.#response.status}) for ${this.method} ${this.url.pathname}.`);
    }
    this.#response = response;
  }
}
