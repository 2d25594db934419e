import http from 'node:http';
import { epochMilliseconds } from './benchPayload';
import { announceReady, serveParentRequests } from './childProcesses';

/**
 * The loopback target that destinations deliver to, forked by the bench. It responds with 200 to
 * every POST and records, per bench message id (the `benchId` field of the transformed body),
 * how many deliveries arrived, on how many distinct paths, and the epoch milliseconds of the
 * first and last arrival. An arrival is the moment the whole body has been read.
 *
 * Requests: `summary` and `deliveries` with a run id return that run's counts or every
 * delivery record; `forget` drops a run's records.
 */

/** One bench message id's deliveries. */
interface DeliveryRecord {
  count: number;
  paths: Set<string>;
  firstAt: number;
  lastAt: number;
}

/** A delivery record as sent to the parent: `[benchId, count, distinct paths, firstAt, lastAt]`. */
export type DeliveryRow = [string, number, number, number, number];

export interface TargetSummary {
  distinctIds: number;
  deliveries: number;
}

const runs = new Map<string, Map<string, DeliveryRecord>>();
let unmatchedDeliveries = 0;

/** Bench ids have the form `<runId>-<index>`. */
function runIdOf(benchId: string): string {
  return benchId.slice(0, benchId.lastIndexOf('-'));
}

function recordDelivery(benchId: string, requestPath: string, arrivedAt: number): void {
  const runId = runIdOf(benchId);
  let run = runs.get(runId);
  if (!run) {
    run = new Map();
    runs.set(runId, run);
  }
  const record = run.get(benchId);
  if (!record) {
    run.set(benchId, { count: 1, paths: new Set([requestPath]), firstAt: arrivedAt, lastAt: arrivedAt });
    return;
  }
  record.count++;
  record.paths.add(requestPath);
  record.lastAt = arrivedAt;
}

function readBenchId(body: Buffer): string | undefined {
  try {
    const parsed = JSON.parse(body.toString('utf8')) as { benchId?: unknown };
    return typeof parsed.benchId === 'string' ? parsed.benchId : undefined;
  } catch {
    return undefined;
  }
}

const server = http.createServer((request, response) => {
  const chunks: Buffer[] = [];
  request.on('data', (chunk: Buffer) => chunks.push(chunk));
  request.on('end', () => {
    const arrivedAt = epochMilliseconds();
    const benchId = readBenchId(Buffer.concat(chunks));
    if (benchId === undefined) {
      unmatchedDeliveries++;
    } else {
      recordDelivery(benchId, request.url ?? '/', arrivedAt);
    }
    response.writeHead(200, { 'content-type': 'application/json' });
    response.end('{"received":true}');
  });
});

serveParentRequests((command, argument) => {
  const run = runs.get(String(argument)) ?? new Map<string, DeliveryRecord>();
  switch (command) {
    case 'summary': {
      let deliveries = 0;
      for (const record of run.values()) {
        deliveries += record.count;
      }
      return { distinctIds: run.size, deliveries } satisfies TargetSummary;
    }
    case 'deliveries':
      return [...run].map(([benchId, record]): DeliveryRow => [benchId, record.count, record.paths.size, record.firstAt, record.lastAt]);
    case 'forget':
      runs.delete(String(argument));
      return true;
    case 'unmatched':
      return unmatchedDeliveries;
    default:
      throw new Error(`Unknown target command ${command}; expected summary, deliveries, forget or unmatched.`);
  }
});

server.keepAliveTimeout = 60_000;
server.listen(0, '127.0.0.1', () => {
  const address = server.address() as { port: number };
  announceReady({ url: `http://127.0.0.1:${address.port}` });
});
