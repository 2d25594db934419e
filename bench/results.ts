import os from 'node:os';
import type { BenchSettings } from './benchSettings';
import type { RunReport } from './loadRuns';
import type { MachineDescription } from './machine';
import type { PeerReport } from './peerRun';
import { formatLedger, formatNumber, judge, printTable, type TableRow, type TargetResult } from './report';

/** The fan-out part: each round is one message to the connector with 100 destinations. */
export interface FanOutReport {
  destinations: number;
  rounds: Array<RunReport & { acceptToLastDeliveryInMilliseconds: number | null }>;
  /** Null when a round is invalid. */
  p50InMilliseconds: number | null;
  maxInMilliseconds: number | null;
}

export interface SoakReport extends RunReport {
  seconds: number;
  ratePerSecond: number;
  residentMemoryStartBytes: number;
  residentMemoryEndBytes: number;
  residentMemoryMaxBytes: number;
  /** (end − start) / start of the single samples before and after the load. */
  residentMemoryGrowthPercent: number;
  /**
   * The same growth between the medians of the first and the last tenth of the samples (at least
   * 3 each). The host's VmRSS rises and falls by tens of MiB between two samples 5 s apart, so
   * the target uses this figure.
   */
  residentMemoryMedianGrowthPercent: number;
  samples: Array<{ atSeconds: number; residentMemoryBytes: number }>;
}

export interface ConnectorReports {
  warmUp: RunReport;
  saturation: RunReport;
  /** Null when the saturation run is invalid, because its rate sets this run's rate. */
  halfRate: RunReport | null;
  fanOut: FanOutReport;
  soak: SoakReport | null;
  host: {
    exit: { code: number | null; signal: string | null };
    logCounts: { warn: number; error: number; fatal: number };
    /** Seconds from the last delivery of a run until no orchestration instance was running, by run id. */
    idleWaitSeconds: Record<string, number>;
    /**
     * CPU time of the host process, all threads, user and system, from the start of the
     * saturation run until the host was idle after it, divided by the messages it accepted.
     */
    cpuPerMessageInMilliseconds: number | null;
  };
}

export interface BenchResults {
  startedAt: Date;
  settings: BenchSettings;
  machine: MachineDescription;
  floor: RunReport;
  /** An HTTP function on the local host that reads the body and responds 202, storing nothing. */
  functionFloor: RunReport;
  connector: ConnectorReports;
  peer: PeerReport;
  /** Deliveries whose body had no bench id. */
  unmatchedDeliveries: number;
}

const mebibyte = 1_048_576;

function describeRequests(run: RunReport): string {
  return `${formatNumber(run.load.acceptedPerSecond)} accepted/s, p50 ${formatNumber(run.load.latencyP50InMilliseconds, 1)} ms, p99 ${formatNumber(run.load.latencyP99InMilliseconds, 1)} ms`;
}

function describeEndToEnd(run: RunReport): string {
  const figures = run.endToEnd;
  if (figures === null) {
    return 'INVALID';
  }
  return (
    `${formatNumber(figures.deliveredPerSecond)} delivered/s, accept to delivery p50 ${formatNumber(figures.acceptToDeliveryP50InMilliseconds, 1)} ms, ` +
    `p99 ${formatNumber(figures.acceptToDeliveryP99InMilliseconds, 1)} ms, send to delivery p99 ${formatNumber(figures.sendToDeliveryP99InMilliseconds, 1)} ms`
  );
}

function describeRate(run: RunReport): string {
  return `${formatNumber(run.load.ratePerSecond, 1)}/s for ${run.load.sent} requests, start delay max ${formatNumber(run.load.maxStartDelayInMilliseconds, 1)} ms`;
}

function runRows(label: string, run: RunReport | null, describe: (run: RunReport) => string): TableRow[] {
  if (run === null) {
    return [{ part: label, figure: 'not run: the saturation run is invalid', ledger: '' }];
  }
  return [{ part: label, figure: run.ledger.balanced ? describe(run) : 'INVALID', ledger: formatLedger(run.ledger) }];
}

function tableRows(results: BenchResults): TableRow[] {
  const { floor, connector, peer } = results;
  const rows: TableRow[] = [
    ...runRows('1 floor: node:http + SQLite, closed', floor, describeRequests),
    ...runRows('1b HTTP function, stores nothing, closed', results.functionFloor, (run) => `${describeRequests(run)}, ${formatNumber(ratioToFloor(results, run), 2)} of floor`),
    ...runRows('  connector warm-up (not a figure)', connector.warmUp, () => 'warm-up'),
    ...runRows('2 accept path at saturation, closed', connector.saturation, (run) => `${describeRequests(run)}, ${formatNumber(ratioToFloor(results, run), 2)} of floor`),
    ...runRows('3a end to end at saturation, closed', connector.saturation, describeEndToEnd),
    ...runRows('3b end to end at half rate, open', connector.halfRate, (run) => `${describeEndToEnd(run)}; ${describeRate(run)}`),
  ];
  for (const round of connector.fanOut.rounds) {
    rows.push({ part: `4 fan-out to 100, ${round.runId}`, figure: round.ledger.balanced ? `${formatNumber(round.acceptToLastDeliveryInMilliseconds, 1)} ms accept to last delivery, on all 100 destinations` : 'INVALID', ledger: formatLedger(round.ledger) });
  }
  const soak = connector.soak;
  rows.push(
    ...runRows(`5 soak ${results.settings.soakInSeconds} s at half rate, open`, soak, (run) => {
      const soakRun = run as SoakReport;
      const startToEnd = `${formatNumber(soakRun.residentMemoryStartBytes / mebibyte, 1)} → ${formatNumber(soakRun.residentMemoryEndBytes / mebibyte, 1)} MiB`;
      const growth = `${formatNumber(soakRun.residentMemoryGrowthPercent, 1)} %, medians ${formatNumber(soakRun.residentMemoryMedianGrowthPercent, 1)} %`;
      return `VmRSS ${startToEnd} (${growth}, max ${formatNumber(soakRun.residentMemoryMaxBytes / mebibyte, 1)} MiB); ${describeEndToEnd(run)}`;
    }),
  );
  if ('skipped' in peer) {
    rows.push({ part: '6 Node-RED peer', figure: `skipped: ${peer.skipped}`, ledger: '' });
  } else if ('failed' in peer) {
    rows.push({ part: '6 Node-RED peer', figure: `FAILED: ${peer.failed}`, ledger: '' });
  } else {
    rows.push(...runRows('6 Node-RED at saturation, closed', peer.saturation, (run) => `${describeEndToEnd(run)}; responses ${describeRequests(run)}`));
    rows.push(...runRows('6 Node-RED at half rate, open', peer.halfRate, (run) => `${describeEndToEnd(run)}; ${describeRate(run)}`));
  }
  return rows;
}

/** Returns the requests per second that `run` accepted, divided by the floor's, or null when either ledger does not balance. */
function ratioToFloor({ floor }: BenchResults, run: RunReport): number | null {
  if (!floor.ledger.balanced || !run.ledger.balanced) {
    return null;
  }
  return run.load.acceptedPerSecond / floor.load.acceptedPerSecond;
}

function endToEndRatio({ floor, connector }: BenchResults): number | null {
  if (!floor.ledger.balanced || connector.saturation.endToEnd === null) {
    return null;
  }
  return connector.saturation.endToEnd.deliveredPerSecond / floor.load.acceptedPerSecond;
}

function peerRatio({ connector, peer }: BenchResults): number | null {
  if ('skipped' in peer || 'failed' in peer || connector.saturation.endToEnd === null || peer.saturation.endToEnd === null) {
    return null;
  }
  return connector.saturation.endToEnd.deliveredPerSecond / peer.saturation.endToEnd.deliveredPerSecond;
}

function targetResults(results: BenchResults): TargetResult[] {
  const acceptToFloor = ratioToFloor(results, results.connector.saturation);
  const endToEndToFloor = endToEndRatio(results);
  const halfRateP99 = results.connector.halfRate?.endToEnd?.acceptToDeliveryP99InMilliseconds ?? null;
  const fanOutMax = results.connector.fanOut.maxInMilliseconds;
  const soak = results.connector.soak;
  const soakGrowth = soak !== null && soak.ledger.balanced ? soak.residentMemoryMedianGrowthPercent : null;
  const toPeer = peerRatio(results);
  return [
    { target: 'accept ≥ 50 % of floor', measured: formatNumber(acceptToFloor, 2), result: judge(acceptToFloor === null ? null : acceptToFloor >= 0.5) },
    { target: 'end to end ≥ 25 % of floor', measured: formatNumber(endToEndToFloor, 2), result: judge(endToEndToFloor === null ? null : endToEndToFloor >= 0.25) },
    { target: 'half rate p99 accept to delivery < 100 ms', measured: `${formatNumber(halfRateP99, 1)} ms`, result: judge(halfRateP99 === null ? null : halfRateP99 < 100) },
    { target: 'fan-out of 100 < 1 s (slowest round)', measured: `${formatNumber(fanOutMax, 1)} ms`, result: judge(fanOutMax === null ? null : fanOutMax < 1_000) },
    { target: 'soak memory growth < 10 % (medians), ledger balanced', measured: `${formatNumber(soakGrowth, 1)} %`, result: judge(soakGrowth === null ? null : soakGrowth < 10) },
    {
      target: 'connector delivered/s ahead of Node-RED at saturation',
      measured: `${formatNumber(toPeer, 2)} ×`,
      result: 'skipped' in results.peer ? 'skipped' : judge(toPeer === null ? null : toPeer > 1),
    },
  ];
}

function allRuns(results: BenchResults): RunReport[] {
  const { floor, connector, peer } = results;
  const runs = [floor, results.functionFloor, connector.warmUp, connector.saturation, ...connector.fanOut.rounds];
  for (const run of [connector.halfRate, connector.soak]) {
    if (run !== null) {
      runs.push(run);
    }
  }
  if ('saturation' in peer) {
    runs.push(peer.saturation, ...(peer.halfRate === null ? [] : [peer.halfRate]));
  }
  return runs;
}

/** Prints the table, the targets and one JSON line with every figure. Returns whether every run's ledger balanced and the peer ran. */
export function buildResults(results: BenchResults): { valid: boolean } {
  const invalidRuns = allRuns(results).filter((run) => !run.ledger.balanced).map((run) => run.runId);
  const peerFailed = 'failed' in results.peer;
  const targets = targetResults(results);
  printTable(tableRows(results), targets);
  const cpuPerMessage = results.connector.host.cpuPerMessageInMilliseconds;
  console.log(`host: function workers ${results.settings.functionWorkerCount}, CPU per message of the saturation run ${cpuPerMessage === null ? 'n/a' : `${cpuPerMessage.toFixed(2)} ms`}, exit ${JSON.stringify(results.connector.host.exit)}, seconds from last delivery to idle ${JSON.stringify(results.connector.host.idleWaitSeconds)}, log lines warn ${results.connector.host.logCounts.warn}, error ${results.connector.host.logCounts.error}, fatal ${results.connector.host.logCounts.fatal}; deliveries without a bench id: ${results.unmatchedDeliveries}`);
  if (invalidRuns.length > 0) {
    console.log(`INVALID runs: ${invalidRuns.join(', ')}`);
  }
  console.log(
    JSON.stringify({
      date: results.startedAt.toISOString(),
      command: 'npm run bench',
      machine: { ...results.machine, loadAverageAtEnd: os.loadavg()[0] },
      settings: results.settings,
      floor: results.floor,
      functionFloor: results.functionFloor,
      connector: results.connector,
      peer: results.peer,
      unmatchedDeliveries: results.unmatchedDeliveries,
      targets,
      invalidRuns,
    }),
  );
  return { valid: invalidRuns.length === 0 && !peerFailed };
}
