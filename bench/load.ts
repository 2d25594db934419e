import http from 'node:http';
import { announceReady, serveParentRequests } from './childProcesses';
import { buildPayload, dedupKeyHeader, epochMilliseconds, signatureHeader, signPayload } from './benchPayload';
import type { LoadResult, LoadSpec } from './loadProtocol';
import { percentile } from './stats';

/**
 * The load process, forked by `bench/run.ts`. Each `run` request sends one load run to a URL on
 * 127.0.0.1 and returns its ledger, latencies and the accept time of every accepted bench id.
 * Every body is a 1 KB JSON payload with a unique bench id, signed with HMAC-SHA256 over its
 * exact bytes, with the bench id as the `webhook-id` dedup key.
 *
 * The closed model runs autocannon 8.0.0. The open model runs its own scheduler, because
 * autocannon's `overallRate` gives each connection a budget per second that it spends as fast
 * as responses arrive. That sends bursts at the start of each second and waits for responses.
 */

/** The subset of autocannon 8.0.0's programmatic API that the bench uses. The package ships no types. */
interface AutocannonRequest {
  method: string;
  path: string;
  headers: Record<string, string>;
  body: Buffer;
}
interface AutocannonContext {
  benchId?: string;
  startedAt?: number;
}
interface AutocannonClient {
  reqsMade: number;
  responseMax: number;
}
interface AutocannonOptions {
  url: string;
  method: 'POST';
  connections: number;
  pipelining: 1;
  amount: number;
  timeout: number;
  setupClient: (client: AutocannonClient) => void;
  requests: Array<{
    setupRequest: (request: AutocannonRequest, context: AutocannonContext) => AutocannonRequest;
    onResponse: (status: number, body: string, context: AutocannonContext) => void;
  }>;
}
interface AutocannonResult {
  errors: number;
  timeouts: number;
}
interface AutocannonInstance {
  stop(): void;
}
type Autocannon = (options: AutocannonOptions, callback: (error: Error | null, result: AutocannonResult) => void) => AutocannonInstance;

const autocannon = require('autocannon') as Autocannon;

/** Extra time after the duration for the responses to requests in flight, before the run is stopped hard. */
const hardLimitMarginInSeconds = 5;
/** Interval of the open-model scheduler's timer. Requests that came due meanwhile start together. */
const schedulerTickInMilliseconds = 1;

/** Counts and times that both load models collect. */
class RunRecorder {
  sent = 0;
  accepted = 0;
  rejected = 0;
  timeouts = 0;
  readonly statusCounts: Record<string, number> = {};
  readonly acceptedIds: string[] = [];
  readonly acceptedAt: number[] = [];
  readonly sentAt: number[] = [];
  readonly latencies: number[] = [];
  firstSendAt = 0;
  lastResponseAt = 0;

  constructor(private readonly acceptedStatuses: number[]) {}

  recordSend(): void {
    if (this.sent === 0) {
      this.firstSendAt = epochMilliseconds();
    }
    this.sent++;
  }

  recordResponse(benchId: string, status: number, startedAt: number): void {
    const respondedAt = epochMilliseconds();
    this.lastResponseAt = respondedAt;
    this.statusCounts[status] = (this.statusCounts[status] ?? 0) + 1;
    if (!this.acceptedStatuses.includes(status)) {
      this.rejected++;
      return;
    }
    this.accepted++;
    this.acceptedIds.push(benchId);
    this.acceptedAt.push(respondedAt);
    this.sentAt.push(startedAt);
    this.latencies.push(respondedAt - startedAt);
  }

  toResult(spec: LoadSpec, errors: number, hardLimitReached: boolean, maxStartDelayInMilliseconds: number | null): LoadResult {
    const seconds = this.sent === 0 ? 0 : (Math.max(this.lastResponseAt, this.firstSendAt) - this.firstSendAt) / 1_000;
    return {
      runId: spec.runId,
      model: spec.model,
      connections: spec.connections,
      ratePerSecond: spec.ratePerSecond ?? null,
      sent: this.sent,
      accepted: this.accepted,
      rejected: this.rejected,
      statusCounts: this.statusCounts,
      errors,
      timeouts: this.timeouts,
      unanswered: Math.max(0, this.sent - this.accepted - this.rejected - this.timeouts),
      firstSendAt: this.firstSendAt,
      lastResponseAt: this.lastResponseAt,
      seconds,
      acceptedPerSecond: seconds > 0 ? this.accepted / seconds : 0,
      latencyP50InMilliseconds: percentile(this.latencies, 0.5),
      latencyP99InMilliseconds: percentile(this.latencies, 0.99),
      maxStartDelayInMilliseconds,
      hardLimitReached,
      acceptedIds: this.acceptedIds,
      acceptedAt: this.acceptedAt,
      sentAt: this.sentAt,
    };
  }
}

function signedRequest(spec: LoadSpec, index: number): { benchId: string; body: Buffer; headers: Record<string, string> } {
  const benchId = `${spec.runId}-${index}`;
  const body = buildPayload(benchId);
  return {
    benchId,
    body,
    headers: { 'content-type': 'application/json', [signatureHeader]: signPayload(body, spec.secret), [dedupKeyHeader]: benchId },
  };
}

/**
 * Runs autocannon until `maxRequests` are sent or `durationInSeconds` has passed. At the deadline
 * each connection's request limit is set to what it has sent, so autocannon waits for the
 * responses in flight and then ends. NOTE: that sets `responseMax` on autocannon's client
 * objects, a field of autocannon 8.0.0 that its documentation does not describe.
 */
function runClosedModel(spec: LoadSpec): Promise<LoadResult> {
  const recorder = new RunRecorder(spec.acceptedStatuses);
  const clients: AutocannonClient[] = [];
  const target = new URL(spec.url);
  let nextIndex = 0;

  return new Promise((resolve, reject) => {
    let hardLimitReached = false;
    const instance = autocannon(
      {
        url: target.origin,
        method: 'POST',
        connections: spec.connections,
        pipelining: 1,
        amount: spec.maxRequests,
        timeout: spec.requestTimeoutInSeconds,
        setupClient: (client) => clients.push(client),
        requests: [
          {
            setupRequest: (request, context) => {
              const { benchId, body, headers } = signedRequest(spec, nextIndex++);
              context.benchId = benchId;
              context.startedAt = epochMilliseconds();
              recorder.recordSend();
              return { ...request, method: 'POST', path: target.pathname, headers, body };
            },
            onResponse: (status, _body, context) => {
              recorder.recordResponse(context.benchId ?? '', status, context.startedAt ?? 0);
            },
          },
        ],
      },
      (error, result) => {
        clearTimeout(softDeadline);
        clearTimeout(hardDeadline);
        if (error) {
          reject(error);
          return;
        }
        recorder.timeouts = result.timeouts;
        resolve(recorder.toResult(spec, result.errors - result.timeouts, hardLimitReached, null));
      },
    );
    const softDeadline = setTimeout(() => {
      for (const client of clients) {
        client.responseMax = Math.max(1, client.reqsMade);
      }
    }, spec.durationInSeconds * 1_000);
    const hardDeadline = setTimeout(() => {
      hardLimitReached = true;
      instance.stop();
    }, (spec.durationInSeconds + spec.requestTimeoutInSeconds + hardLimitMarginInSeconds) * 1_000);
  });
}

/**
 * Starts request i at `i / ratePerSecond` seconds after the first, whether or not earlier ones
 * have had a response, until `maxRequests` or `durationInSeconds × ratePerSecond` requests have
 * started. Waits for every response, up to the request timeout.
 */
function runOpenModel(spec: LoadSpec): Promise<LoadResult> {
  const ratePerSecond = spec.ratePerSecond ?? 0;
  if (!(ratePerSecond > 0)) {
    throw new Error(`The open model needs a positive ratePerSecond, got ${spec.ratePerSecond}.`);
  }
  const recorder = new RunRecorder(spec.acceptedStatuses);
  const total = Math.min(spec.maxRequests, Math.floor(ratePerSecond * spec.durationInSeconds));
  const agent = new http.Agent({ keepAlive: true, maxSockets: spec.connections });
  const target = new URL(spec.url);
  let errors = 0;
  let outstanding = 0;
  let maxStartDelayInMilliseconds = 0;
  let hardLimitReached = false;

  return new Promise((resolve) => {
    const startedAt = performance.now();
    let nextIndex = 0;
    let finished = false;

    const finish = () => {
      if (finished) {
        return;
      }
      finished = true;
      clearTimeout(hardDeadline);
      agent.destroy();
      resolve(recorder.toResult(spec, errors, hardLimitReached, maxStartDelayInMilliseconds));
    };
    const finishWhenDone = () => {
      if (nextIndex >= total && outstanding === 0) {
        finish();
      }
    };

    const send = (index: number, scheduledAt: number) => {
      const { benchId, body, headers } = signedRequest(spec, index);
      const scheduledEpoch = performance.timeOrigin + scheduledAt;
      recorder.recordSend();
      outstanding++;
      const request = http.request(
        { host: target.hostname, port: target.port, path: target.pathname, method: 'POST', agent, headers: { ...headers, 'content-length': body.length }, timeout: spec.requestTimeoutInSeconds * 1_000 },
        (response) => {
          response.resume();
          response.on('end', () => {
            recorder.recordResponse(benchId, response.statusCode ?? 0, scheduledEpoch);
            outstanding--;
            finishWhenDone();
          });
        },
      );
      request.on('timeout', () => {
        recorder.timeouts++;
        request.destroy(new Error('timed out'));
      });
      request.on('error', (error) => {
        if (error.message !== 'timed out') {
          errors++;
        }
        outstanding--;
        finishWhenDone();
      });
      request.end(body);
    };

    const tick = () => {
      if (finished) {
        return;
      }
      const now = performance.now();
      while (nextIndex < total && startedAt + (nextIndex * 1_000) / ratePerSecond <= now) {
        const scheduledAt = startedAt + (nextIndex * 1_000) / ratePerSecond;
        maxStartDelayInMilliseconds = Math.max(maxStartDelayInMilliseconds, now - scheduledAt);
        send(nextIndex++, scheduledAt);
      }
      if (nextIndex < total) {
        setTimeout(tick, schedulerTickInMilliseconds);
      } else {
        finishWhenDone();
      }
    };

    const hardDeadline = setTimeout(() => {
      hardLimitReached = true;
      nextIndex = total;
      finish();
    }, (spec.durationInSeconds + spec.requestTimeoutInSeconds + hardLimitMarginInSeconds) * 1_000);
    tick();
  });
}

function checkLoopback(url: string): void {
  const hostname = new URL(url).hostname;
  if (hostname !== '127.0.0.1') {
    throw new Error(`The load process sends only to 127.0.0.1, got ${url}.`);
  }
}

serveParentRequests((command, argument) => {
  if (command !== 'run') {
    throw new Error(`Unknown load command ${command}; expected run.`);
  }
  const spec = argument as LoadSpec;
  checkLoopback(spec.url);
  return spec.model === 'closed' ? runClosedModel(spec) : runOpenModel(spec);
});
announceReady({ pid: process.pid });
