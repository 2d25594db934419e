import { requestTimeoutInSeconds, type BenchSettings } from './benchSettings';
import type { ForkedChild } from './childProcesses';
import { deliveryLedger, endToEndFigures, requestLedger, type EndToEndFigures, type Ledger } from './ledger';
import type { LoadResult, LoadSpec } from './loadProtocol';
import type { DeliveryRow, TargetSummary } from './target';

/** The load process, the target and the settings that every load run uses. */
export interface BenchContext {
  settings: BenchSettings;
  load: ForkedChild;
  target: ForkedChild;
  targetUrl: string;
  /** The HMAC-SHA256 secret of the connector's inbound auth. */
  secret: string;
}

/** A load run's figures without the per-id arrays. */
export type LoadSummary = Omit<LoadResult, 'acceptedIds' | 'acceptedAt' | 'sentAt'>;

export interface RunReport {
  runId: string;
  ledger: Ledger;
  load: LoadSummary;
  /** Null for runs without deliveries, and for invalid runs. */
  endToEnd: EndToEndFigures | null;
}

export type LoadOptions = Pick<LoadSpec, 'url' | 'runId' | 'model' | 'acceptedStatuses'> & Partial<Pick<LoadSpec, 'ratePerSecond' | 'durationInSeconds' | 'maxRequests'>>;

const deliveryPollIntervalInMilliseconds = 250;
/** Wait after the last expected delivery, so that duplicates arriving just after it are counted. */
const duplicateSettleInMilliseconds = 1_000;

export function summarizeLoad(load: LoadResult): LoadSummary {
  const { acceptedIds: _acceptedIds, acceptedAt: _acceptedAt, sentAt: _sentAt, ...summary } = load;
  return summary;
}

/** Runs one load run in the load process. Bounded by the spec's request count and duration. */
export function runLoad(context: BenchContext, options: LoadOptions): Promise<LoadResult> {
  const spec: LoadSpec = {
    connections: context.settings.connections,
    maxRequests: context.settings.maxRequests,
    durationInSeconds: context.settings.durationInSeconds,
    requestTimeoutInSeconds,
    secret: context.secret,
    ...options,
  };
  const replyTimeoutInMilliseconds = (spec.durationInSeconds + spec.requestTimeoutInSeconds + 60) * 1_000;
  return context.load.request<LoadResult>('run', spec, replyTimeoutInMilliseconds);
}

function sleep(milliseconds: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, milliseconds));
}

/**
 * Waits until the target has received `expectedIds` ids of the run on `pathsPerId` paths each,
 * or until the delivery timeout, and returns the run's delivery records.
 */
export async function waitForDeliveries(context: BenchContext, runId: string, expectedIds: number, pathsPerId = 1): Promise<DeliveryRow[]> {
  const deadline = Date.now() + context.settings.deliveryTimeoutInSeconds * 1_000;
  for (;;) {
    const summary = await context.target.request<TargetSummary>('summary', runId);
    if (summary.distinctIds >= expectedIds && summary.deliveries >= expectedIds * pathsPerId) {
      break;
    }
    if (Date.now() > deadline) {
      console.error(`Run ${runId}: the target has ${summary.distinctIds} of ${expectedIds} accepted ids after ${context.settings.deliveryTimeoutInSeconds} s; the ledger will show the missing ones.`);
      break;
    }
    await sleep(deliveryPollIntervalInMilliseconds);
  }
  await sleep(duplicateSettleInMilliseconds);
  return context.target.request<DeliveryRow[]>('deliveries', runId);
}

/** Runs load that the destination delivers to the target, waits for the deliveries and computes the ledger and end-to-end figures. */
export async function runDeliveryLoad(context: BenchContext, options: LoadOptions, pathsPerId = 1): Promise<RunReport & { result: LoadResult; rows: DeliveryRow[] }> {
  const result = await runLoad(context, options);
  const rows = await waitForDeliveries(context, options.runId, result.accepted, pathsPerId);
  await context.target.request('forget', options.runId);
  const ledger = deliveryLedger(result, rows, pathsPerId);
  return {
    runId: options.runId,
    ledger,
    load: summarizeLoad(result),
    endToEnd: ledger.balanced ? endToEndFigures(result, rows) : null,
    result,
    rows,
  };
}

/** Returns the report without the per-id arrays, for printing. */
export function reportOf(run: RunReport): RunReport {
  return { runId: run.runId, ledger: run.ledger, load: run.load, endToEnd: run.endToEnd };
}

/** Runs load against a server without deliveries, such as the floor. */
export async function runRequestLoad(context: BenchContext, options: LoadOptions): Promise<RunReport> {
  const result = await runLoad(context, options);
  return { runId: options.runId, ledger: requestLedger(result), load: summarizeLoad(result), endToEnd: null };
}
