import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { readBenchSettings, type BenchSettings } from './benchSettings';
import { cleanUpChildren, cleanUpOnExit, createTempFolder, forkChild, type ForkedChild } from './childProcesses';
import {
  benchConnectorId,
  fanOutConnectorId,
  fanOutDestinationCount,
  readCpuMilliseconds,
  readResidentMemoryBytes,
  repoRoot,
  startConnectorHost,
  startFunctionHost,
  writeBenchConnectorsFile,
  type ConnectorHost,
} from './connectorHost';
import { percentile } from './stats';
import { reportOf, runDeliveryLoad, runRequestLoad, type BenchContext, type RunReport } from './loadRuns';
import { describeMachine } from './machine';
import { runPeer, type PeerReport } from './peerRun';
import { buildResults, type ConnectorReports, type FanOutReport, type SoakReport } from './results';

/**
 * `npm run bench`: the floor, the connector's accept path and end-to-end delivery at saturation
 * and at half that rate, a fan-out to 100 destinations, a soak, and the same end-to-end load
 * against a Node-RED peer. Every server is a child process on 127.0.0.1, and so is the load.
 * The bench prints a table and one JSON line with every figure, and exits with 1 when a run's
 * ledger does not balance or the bench fails. See docs/benchmarks.md.
 */

const connectorAcceptedStatuses = [202];
const warmUpSeconds = 3;
const residentMemorySampleIntervalInMilliseconds = 5_000;
const functionFloorAppRoot = path.join(repoRoot, 'bench', 'fixtures', 'httpFunctionApp');

async function measureFloor(context: BenchContext): Promise<RunReport> {
  const floorFolder = createTempFolder('bench-floor-');
  const { child: floorServer, ready } = await forkChild<{ url: string }>(path.join(__dirname, 'floorServer.js'), [floorFolder]);
  try {
    const floor = await runRequestLoad(context, { url: ready.url, runId: 'floor', model: 'closed', acceptedStatuses: [202] });
    const rowCount = await floorServer.request<number>('rowCount');
    if (rowCount !== floor.ledger.accepted) {
      floor.ledger.problems.push(`the floor server stored ${rowCount} bodies for ${floor.ledger.accepted} accepted requests`);
      floor.ledger.balanced = false;
    }
    return floor;
  } finally {
    await floorServer.stop();
  }
}

/**
 * Runs the closed model against an HTTP function on the local host that reads the body and
 * responds 202 without storing it: what one HTTP invocation costs before any connector work.
 */
async function measureFunctionFloor(context: BenchContext, settings: BenchSettings): Promise<RunReport> {
  const dataFolder = createTempFolder('bench-function-floor-');
  const host = await startFunctionHost(functionFloorAppRoot, dataFolder, { functionWorkerCount: settings.functionWorkerCount });
  try {
    return await runRequestLoad(context, { url: `${host.baseUrl}/api/accept`, runId: 'functionFloor', model: 'closed', acceptedStatuses: [202] });
  } catch (error) {
    console.error(`The bench failed while the function floor host ran. Last host output:\n${host.recentOutput()}`);
    throw error;
  } finally {
    await host.stop();
  }
}

/** Sends one message at a time to the fan-out connector and times each from its 202 to the last of its 100 deliveries. */
async function measureFanOut(context: BenchContext, host: ConnectorHost): Promise<FanOutReport> {
  const rounds: FanOutReport['rounds'] = [];
  for (let round = 1; round <= context.settings.fanOutRounds; round++) {
    const run = await runDeliveryLoad(
      context,
      { url: host.ingestUrl(fanOutConnectorId), runId: `fanout${round}`, model: 'open', ratePerSecond: 1, durationInSeconds: 1, maxRequests: 1, acceptedStatuses: connectorAcceptedStatuses },
      fanOutDestinationCount,
    );
    const lastDeliveryAt = Math.max(...run.rows.map((row) => row[4]));
    const acceptToLastDeliveryInMilliseconds = run.ledger.balanced ? lastDeliveryAt - run.result.acceptedAt[0] : null;
    rounds.push({ ...reportOf(run), acceptToLastDeliveryInMilliseconds });
  }
  const times = rounds.map((round) => round.acceptToLastDeliveryInMilliseconds).filter((time): time is number => time !== null);
  const allValid = times.length === rounds.length;
  return {
    destinations: fanOutDestinationCount,
    rounds,
    p50InMilliseconds: allValid ? percentile(times, 0.5) : null,
    maxInMilliseconds: allValid ? percentile(times, 1) : null,
  };
}

/** Runs the soak at `ratePerSecond` and samples the host's resident memory every 5 s. */
async function runSoak(context: BenchContext, host: ConnectorHost, ratePerSecond: number): Promise<SoakReport> {
  const samples: Array<{ atSeconds: number; residentMemoryBytes: number }> = [];
  const startedAt = Date.now();
  const sample = () => samples.push({ atSeconds: (Date.now() - startedAt) / 1_000, residentMemoryBytes: readResidentMemoryBytes(host.pid) });
  sample();
  const sampler = setInterval(sample, residentMemorySampleIntervalInMilliseconds);
  try {
    const run = await runDeliveryLoad(context, {
      url: host.ingestUrl(benchConnectorId),
      runId: 'soak',
      model: 'open',
      ratePerSecond,
      durationInSeconds: context.settings.soakInSeconds,
      acceptedStatuses: connectorAcceptedStatuses,
    });
    sample();
    const startBytes = samples[0].residentMemoryBytes;
    const endBytes = samples[samples.length - 1].residentMemoryBytes;
    // A tenth of the samples, at least 3, but never so many that the two windows overlap.
    const windowLength = Math.max(1, Math.min(Math.max(3, Math.floor(samples.length / 10)), Math.floor(samples.length / 2)));
    const startMedian = percentile(samples.slice(0, windowLength).map((entry) => entry.residentMemoryBytes), 0.5) ?? startBytes;
    const endMedian = percentile(samples.slice(-windowLength).map((entry) => entry.residentMemoryBytes), 0.5) ?? endBytes;
    return {
      ...reportOf(run),
      seconds: context.settings.soakInSeconds,
      ratePerSecond,
      residentMemoryStartBytes: startBytes,
      residentMemoryEndBytes: endBytes,
      residentMemoryMaxBytes: Math.max(...samples.map((entry) => entry.residentMemoryBytes)),
      residentMemoryGrowthPercent: ((endBytes - startBytes) / startBytes) * 100,
      residentMemoryMedianGrowthPercent: ((endMedian - startMedian) / startMedian) * 100,
      samples,
    };
  } finally {
    clearInterval(sampler);
  }
}

async function measureConnector(context: BenchContext, settings: BenchSettings): Promise<ConnectorReports> {
  const configFolder = createTempFolder('bench-config-');
  const dataFolder = createTempFolder('bench-host-data-');
  const connectorsFile = writeBenchConnectorsFile(configFolder, context.targetUrl);
  if (settings.cpuProfileFolder !== undefined) {
    fs.mkdirSync(settings.cpuProfileFolder, { recursive: true });
  }
  const host = await startConnectorHost(connectorsFile, dataFolder, context.secret, { functionWorkerCount: settings.functionWorkerCount, cpuProfileFolder: settings.cpuProfileFolder });
  const ingestUrl = host.ingestUrl(benchConnectorId);
  try {
    const idleTimeoutInMilliseconds = settings.deliveryTimeoutInSeconds * 1_000;
    const idleWaitSeconds: Record<string, number> = {};
    progress('parts 2 and 3: accept path and end to end, after a warm-up');
    const warmUp = await runDeliveryLoad(context, { url: ingestUrl, runId: 'warmup', model: 'closed', durationInSeconds: warmUpSeconds, acceptedStatuses: connectorAcceptedStatuses });
    idleWaitSeconds.warmup = await host.waitForIdle(idleTimeoutInMilliseconds);
    const cpuBeforeSaturation = readCpuMilliseconds(host.pid);
    const saturation = await runDeliveryLoad(context, { url: ingestUrl, runId: 'sat', model: 'closed', acceptedStatuses: connectorAcceptedStatuses });
    idleWaitSeconds.sat = await host.waitForIdle(idleTimeoutInMilliseconds);
    const saturationCpuMilliseconds = readCpuMilliseconds(host.pid) - cpuBeforeSaturation;
    const cpuPerMessageInMilliseconds = saturation.load.accepted > 0 ? saturationCpuMilliseconds / saturation.load.accepted : null;
    const halfRatePerSecond = saturation.endToEnd === null ? null : saturation.endToEnd.deliveredPerSecond / 2;
    const halfRate =
      halfRatePerSecond === null ? null : await runDeliveryLoad(context, { url: ingestUrl, runId: 'half', model: 'open', ratePerSecond: halfRatePerSecond, acceptedStatuses: connectorAcceptedStatuses });
    idleWaitSeconds.half = await host.waitForIdle(idleTimeoutInMilliseconds);
    progress('part 4 of 6: fan-out to 100 destinations');
    const fanOut = await measureFanOut(context, host);
    idleWaitSeconds.fanout = await host.waitForIdle(idleTimeoutInMilliseconds);
    progress(`part 5 of 6: soak for ${settings.soakInSeconds} s`);
    const soak = halfRatePerSecond === null ? null : await runSoak(context, host, halfRatePerSecond);
    const logCounts = host.logCounts();
    const exit = await host.stop();
    return { warmUp: reportOf(warmUp), saturation: reportOf(saturation), halfRate: halfRate && reportOf(halfRate), fanOut, soak, host: { exit, logCounts, idleWaitSeconds, cpuPerMessageInMilliseconds } };
  } catch (error) {
    console.error(`The bench failed while the host ran. Last host output:\n${host.recentOutput()}`);
    throw error;
  } finally {
    await host.stop();
  }
}

/** Writes a progress line to stderr, so that the table on stdout stays as it is. */
function progress(text: string): void {
  process.stderr.write(`bench: ${new Date().toISOString().slice(11, 19)} ${text}\n`);
}

async function main(): Promise<void> {
  cleanUpOnExit();
  const settings = readBenchSettings();
  const machine = describeMachine();
  const startedAt = new Date();
  const children: ForkedChild[] = [];
  try {
    const { child: load } = await forkChild(path.join(__dirname, 'load.js'));
    children.push(load);
    const { child: target, ready } = await forkChild<{ url: string }>(path.join(__dirname, 'target.js'));
    children.push(target);
    const context: BenchContext = { settings, load, target, targetUrl: ready.url, secret: crypto.randomBytes(32).toString('hex') };

    progress('part 1 of 6: floor');
    const floor = await measureFloor(context);
    progress('part 1b: an HTTP function that stores nothing, on the local host');
    const functionFloor = await measureFunctionFloor(context, settings);
    const connector = await measureConnector(context, settings);
    progress(settings.runPeer ? 'part 6 of 6: Node-RED peer, installed into bench/peer on first use' : 'part 6 of 6: skipped, BENCH_PEER=0');
    const peer: PeerReport = settings.runPeer ? await runPeer(context) : { skipped: 'BENCH_PEER=0' };
    const unmatchedDeliveries = await target.request<number>('unmatched');

    const { valid } = buildResults({ startedAt, settings, machine, floor, functionFloor, connector, peer, unmatchedDeliveries });
    process.exitCode = valid ? 0 : 1;
  } finally {
    for (const child of children) {
      await child.stop();
    }
    cleanUpChildren();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  cleanUpChildren();
  process.exitCode = 1;
});
