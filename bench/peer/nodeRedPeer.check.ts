import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { installNodeRedPeer, startNodeRedPeer, type NodeRedPeer } from './nodeRedPeer';

/**
 * Checks the Node-RED peer end to end on the loopback interface.
 *
 * The check installs Node-RED if needed and starts a target server and the peer. It then POSTs
 * orders one after another and checks that each caller got 202 and that the target received each
 * transformed body as JSON. A target that responds with 503 must give the caller 502.
 *
 * With `--load`, it then sends `loadRequestCount` requests from `loadConcurrency` concurrent
 * callers, stopping early at `loadTimeLimitInMilliseconds`, and prints the rate.
 *
 * Run with `npx tsc -p tsconfig.json && node dist/bench/peer/nodeRedPeer.check.js [--load]`.
 * The exit code is 1 when a check fails.
 */

const jsonataExpression = "{ 'id': orderId, 'state': status, 'benchId': benchId }";
const orderCount = 20;
const benchId = 'node-red-peer-check';

/** Order id for which the target responds with 503. */
const rejectedOrderId = 'order-rejected-by-target';

const requestTimeoutInMilliseconds = 10_000;

const loadRequestCount = 2_000;
const loadConcurrency = 20;
const loadTimeLimitInMilliseconds = 60_000;

interface Order {
  orderId: string;
  status: string;
  benchId: string;
  /** Not in the expression, so the transform must drop it. */
  note: string;
}

interface ReceivedRequest {
  contentType: string | undefined;
  body: string;
}

interface Target {
  url: string;
  received: ReceivedRequest[];
  close(): Promise<void>;
}

/** Starts a target on 127.0.0.1 that stores each request and responds 204, or 503 for the rejected order. */
async function startTarget(): Promise<Target> {
  const received: ReceivedRequest[] = [];

  const server = http.createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      received.push({ contentType: request.headers['content-type'], body });
      response.statusCode = body.includes(rejectedOrderId) ? 503 : 204;
      response.end();
    });
  });

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}/orders`,
    received,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((error) => (error ? reject(error) : resolve()));
      }),
  };
}

function buildOrder(index: number): Order {
  return { orderId: `order-${index}`, status: index % 2 === 0 ? 'shipped' : 'paid', benchId, note: 'dropped by the transform' };
}

async function postJson(url: string, body: unknown): Promise<{ status: number; text: string }> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(requestTimeoutInMilliseconds),
  });
  return { status: response.status, text: await response.text() };
}

/** Prints each check as it runs and collects the descriptions of the failed ones. */
class CheckReport {
  readonly failures: string[] = [];

  expect(condition: boolean, description: string): void {
    console.log(`${condition ? 'ok    ' : 'FAILED'} ${description}`);
    if (!condition) {
      this.failures.push(description);
    }
  }
}

/** Returns whether `body` is JSON equal to `expected`, with its keys in the same order. */
function parsesTo(body: string, expected: unknown): boolean {
  try {
    return JSON.stringify(JSON.parse(body)) === JSON.stringify(expected);
  } catch {
    return false;
  }
}

async function checkSequentialDelivery(ingestUrl: string, target: Target, report: CheckReport): Promise<void> {
  const statuses: number[] = [];
  for (let index = 0; index < orderCount; index++) {
    const { status } = await postJson(ingestUrl, buildOrder(index));
    statuses.push(status);
  }

  const accepted = statuses.filter((status) => status === 202).length;
  report.expect(accepted === orderCount, `caller got 202 for ${accepted} of ${orderCount} orders (statuses: ${[...new Set(statuses)].join(', ')})`);
  report.expect(target.received.length === orderCount, `target received ${target.received.length} of ${orderCount} requests`);

  const jsonRequests = target.received.filter((request) => request.contentType === 'application/json').length;
  report.expect(jsonRequests === target.received.length, `${jsonRequests} of ${target.received.length} requests had Content-Type application/json`);

  let matchingBodies = 0;
  for (let index = 0; index < orderCount; index++) {
    const order = buildOrder(index);
    const expected = { id: order.orderId, state: order.status, benchId: order.benchId };
    const body = target.received[index]?.body;
    if (body !== undefined && parsesTo(body, expected)) {
      matchingBodies++;
    } else {
      console.log(`       order ${index}: expected ${JSON.stringify(expected)}, target received ${body}`);
    }
  }
  report.expect(matchingBodies === orderCount, `${matchingBodies} of ${orderCount} bodies were transformed as expected, in order`);
}

async function checkTargetRejection(ingestUrl: string, report: CheckReport): Promise<void> {
  const { status, text } = await postJson(ingestUrl, { ...buildOrder(0), orderId: rejectedOrderId });
  report.expect(status === 502, `caller got ${status} when the target responded 503 (expected 502, body: ${text})`);
}

function percentile(sortedValues: number[], fraction: number): number {
  if (sortedValues.length === 0) {
    return Number.NaN;
  }
  const index = Math.min(sortedValues.length - 1, Math.ceil(fraction * sortedValues.length) - 1);
  return sortedValues[Math.max(0, index)];
}

/** Sends up to `loadRequestCount` requests from `loadConcurrency` callers and prints the rate, bounded by the time limit. */
async function measureLoad(ingestUrl: string, target: Target): Promise<void> {
  const receivedBefore = target.received.length;
  const deadline = performance.now() + loadTimeLimitInMilliseconds;
  const latenciesInMilliseconds: number[] = [];
  const statusCounts = new Map<string, number>();
  let started = 0;

  const runCaller = async (): Promise<void> => {
    while (started < loadRequestCount && performance.now() < deadline) {
      const index = started++;
      const sentAt = performance.now();
      let outcome: string;
      try {
        outcome = String((await postJson(ingestUrl, buildOrder(index))).status);
      } catch (error) {
        outcome = error instanceof Error ? error.name : 'error';
      }
      latenciesInMilliseconds.push(performance.now() - sentAt);
      statusCounts.set(outcome, (statusCounts.get(outcome) ?? 0) + 1);
    }
  };

  const startedAt = performance.now();
  await Promise.all(Array.from({ length: loadConcurrency }, runCaller));
  const seconds = (performance.now() - startedAt) / 1_000;

  latenciesInMilliseconds.sort((a, b) => a - b);
  const completed = latenciesInMilliseconds.length;
  console.log(
    JSON.stringify({
      load: {
        requested: loadRequestCount,
        concurrency: loadConcurrency,
        completed,
        statusCounts: Object.fromEntries(statusCounts),
        targetReceived: target.received.length - receivedBefore,
        seconds: Number(seconds.toFixed(2)),
        requestsPerSecond: Number((completed / seconds).toFixed(1)),
        p50InMilliseconds: Number(percentile(latenciesInMilliseconds, 0.5).toFixed(1)),
        p99InMilliseconds: Number(percentile(latenciesInMilliseconds, 0.99).toFixed(1)),
        timedOut: completed < loadRequestCount,
      },
    }),
  );
}

function isProcessRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function main(): Promise<void> {
  const runLoad = process.argv.includes('--load');

  const installStartedAt = performance.now();
  await installNodeRedPeer();
  console.log(`install step took ${((performance.now() - installStartedAt) / 1_000).toFixed(1)} s`);

  const target = await startTarget();
  const report = new CheckReport();
  let peer: NodeRedPeer | undefined;
  try {
    const startStartedAt = performance.now();
    peer = await startNodeRedPeer({ targetUrl: target.url, jsonataExpression });
    console.log(`Node-RED (pid ${peer.pid}) served ${peer.ingestUrl} after ${((performance.now() - startStartedAt) / 1_000).toFixed(1)} s`);

    await checkSequentialDelivery(peer.ingestUrl, target, report);
    await checkTargetRejection(peer.ingestUrl, report);
    if (runLoad) {
      await measureLoad(peer.ingestUrl, target);
    }
  } finally {
    await peer?.stop();
    await target.close();
  }

  if (peer !== undefined) {
    report.expect(!isProcessRunning(peer.pid), `Node-RED (pid ${peer.pid}) has exited after stop()`);
  }

  console.log(report.failures.length === 0 ? 'all checks passed' : `failed checks: ${report.failures.length}`);
  process.exitCode = report.failures.length === 0 ? 0 : 1;
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
