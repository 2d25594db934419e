import Database from 'better-sqlite3';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DurableEngine, type EngineLogger } from '../local/durable/engine';
import { FunctionInvoker } from '../local/functionsCore/invoker';
import { loadApp } from '../local/functionsCore/loadApp';
import type { FunctionRegistry } from '../local/functionsCore/registry';

/**
 * Measures the durable engine against the rate of bare SQLite commits on the same disk.
 *
 * Each engine workload runs in-process on a fresh database in a temporary folder, with the real
 * clock, no-op activities and a logger that drops every line, so the figures measure the engine
 * and its commits. Before each workload the bench measures the floor again: one small INSERT per
 * transaction with better-sqlite3, WAL and `synchronous=FULL`: one fsync per commit, the durability
 * the engine gives each commit it acknowledges, though it now syncs off the main thread. The
 * ratio is the workload's rate divided by that floor.
 *
 * Run with `npm run bench:engine`, which builds first. The bench is bounded: every workload
 * stops at its time limit and reports how many instances or activities completed by then.
 */

const appRoot = path.resolve(__dirname, '..', '..', 'bench', 'fixtures', 'engineApp');

const floorMaxTransactions = 5_000;
const floorTimeLimitInMilliseconds = 2_000;
const floorRowBytes = 100;

const sequenceInstanceCount = 2_000;
const workloadTimeLimitInMilliseconds = 60_000;

/** A fan-out to measure. `noop` activities return at once, `yieldOnce` activities after one event-loop turn. */
interface FanOutWorkload {
  activityName: 'noop' | 'yieldOnce';
  activityCount: number;
}

const fanOutWorkloads: FanOutWorkload[] = [
  { activityName: 'noop', activityCount: 1_000 },
  { activityName: 'noop', activityCount: 10_000 },
  { activityName: 'yieldOnce', activityCount: 1_000 },
  { activityName: 'yieldOnce', activityCount: 10_000 },
];

// The values in this repository's host.json, so the engine runs as it does on the local host.
const maxConcurrentActivityFunctions = 16;
const maxConcurrentOrchestratorFunctions = 16;

interface Measurement {
  workload: string;
  /** Transactions, orchestrations or activities completed within the time limit. */
  completedCount: number;
  requestedCount: number;
  seconds: number;
  /** Completed count per second: transactions, orchestrations or activities. */
  ratePerSecond: number;
  unit: string;
  floorTransactionsPerSecond: number;
  /** `ratePerSecond` divided by `floorTransactionsPerSecond`. */
  ratioToFloor: number;
  timedOut: boolean;
}

const silentLogger: EngineLogger = {
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
};

function createTempFolder(prefix: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

function secondsSince(startedAt: number): number {
  return (performance.now() - startedAt) / 1_000;
}

/** Commits one small INSERT per transaction until the count or the time limit is reached, and returns transactions per second. */
function measureFloor(folder: string): { transactions: number; seconds: number; transactionsPerSecond: number } {
  const db = new Database(path.join(folder, `floor-${Date.now()}.db`));
  try {
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = FULL');
    db.exec('CREATE TABLE rows (id INTEGER PRIMARY KEY, payload TEXT NOT NULL)');
    const insert = db.prepare('INSERT INTO rows (payload) VALUES (?)');
    const insertOne = db.transaction((payload: string) => insert.run(payload));
    const payload = 'x'.repeat(floorRowBytes);

    const startedAt = performance.now();
    const deadline = startedAt + floorTimeLimitInMilliseconds;
    let transactions = 0;
    while (transactions < floorMaxTransactions && performance.now() < deadline) {
      insertOne(payload);
      transactions++;
    }
    const seconds = secondsSince(startedAt);
    return { transactions, seconds, transactionsPerSecond: transactions / seconds };
  } finally {
    db.close();
  }
}

function startEngine(registry: FunctionRegistry, invoker: FunctionInvoker, folder: string, name: string): DurableEngine {
  const engine = new DurableEngine({
    databasePath: path.join(folder, `${name}.db`),
    registry,
    invoker,
    taskHubName: 'EngineBench',
    maxConcurrentActivityFunctions,
    maxConcurrentOrchestratorFunctions,
    logger: silentLogger,
  });
  engine.start();
  return engine;
}

/**
 * Waits for the instances one after another until each has completed or the deadline passes,
 * and returns how many completed. Waiting in start order keeps one waiter at a time, so the
 * bench adds few status reads of its own. Throws when an instance fails or returns an output
 * other than `expectedOutput(index)`, because then the figures would not measure the workload.
 */
async function waitForInstances(engine: DurableEngine, instanceIds: string[], expectedOutput: (index: number) => unknown, deadline: number): Promise<number> {
  let completedCount = 0;
  for (const [index, instanceId] of instanceIds.entries()) {
    const status = await engine.waitForCompletion(instanceId, Math.max(0, deadline - performance.now()));
    if (status?.runtimeStatus === 'Running' || status?.runtimeStatus === 'Pending') {
      break;
    }
    if (status?.runtimeStatus !== 'Completed' || status.output !== expectedOutput(index)) {
      throw new Error(`Bench instance ${instanceId} ended as ${status?.runtimeStatus} with output ${JSON.stringify(status?.output)}, expected Completed with ${JSON.stringify(expectedOutput(index))}.`);
    }
    completedCount++;
  }
  return completedCount;
}

/** An orchestration of the bench app that calls no-op activities one after another, and its name in the table. */
interface SequenceWorkload {
  orchestrationName: 'oneActivity' | 'fiveActivitySequence';
  workload: string;
}

const sequenceWorkloads: SequenceWorkload[] = [
  // The minimum work of one orchestration per message: a start, one activity and two episodes.
  { orchestrationName: 'oneActivity', workload: 'one-activity orchestration' },
  { orchestrationName: 'fiveActivitySequence', workload: 'five-activity sequence' },
];

/** Starts `sequenceInstanceCount` instances of the workload's orchestration at once and measures until all complete. */
async function measureSequences(registry: FunctionRegistry, invoker: FunctionInvoker, folder: string, { orchestrationName, workload }: SequenceWorkload, floor: number): Promise<Measurement> {
  const engine = startEngine(registry, invoker, folder, orchestrationName);
  try {
    const startedAt = performance.now();
    const deadline = startedAt + workloadTimeLimitInMilliseconds;
    const starts = Array.from({ length: sequenceInstanceCount }, (_unused, index) => engine.startOrchestration(orchestrationName, `${orchestrationName}-${index}`, index));
    const instanceIds = (await Promise.all(starts)).map((started) => started.instanceId);
    const completedCount = await waitForInstances(engine, instanceIds, (index) => index, deadline);
    const seconds = secondsSince(startedAt);
    const ratePerSecond = completedCount / seconds;
    return {
      workload,
      completedCount,
      requestedCount: sequenceInstanceCount,
      seconds,
      ratePerSecond,
      unit: 'orchestrations/s',
      floorTransactionsPerSecond: floor,
      ratioToFloor: ratePerSecond / floor,
      timedOut: completedCount < sequenceInstanceCount,
    };
  } finally {
    await engine.stop(2_000);
  }
}

function describeFanOut({ activityName, activityCount }: FanOutWorkload): string {
  const activities = activityName === 'noop' ? 'no-op activities' : 'activities that wait one event-loop turn';
  return `fan-out and fan-in of ${activityCount.toLocaleString('en-US')} ${activities}`;
}

/** Runs one orchestration that fans out to `activityCount` activities and fans in. */
async function measureFanOut(registry: FunctionRegistry, invoker: FunctionInvoker, folder: string, workload: FanOutWorkload, floor: number): Promise<Measurement> {
  const { activityName, activityCount } = workload;
  const engine = startEngine(registry, invoker, folder, `fan-out-${activityName}-${activityCount}`);
  try {
    const startedAt = performance.now();
    const { instanceId } = await engine.startOrchestration('fanOutFanIn', `fan-out-${activityName}-${activityCount}`, { activityName, count: activityCount });
    const completed = await waitForInstances(engine, [instanceId], () => activityCount, startedAt + workloadTimeLimitInMilliseconds);
    const seconds = secondsSince(startedAt);
    const completedCount = completed === 1 ? activityCount : 0;
    const ratePerSecond = completedCount / seconds;
    return {
      workload: describeFanOut(workload),
      completedCount,
      requestedCount: activityCount,
      seconds,
      ratePerSecond,
      unit: 'activities/s',
      floorTransactionsPerSecond: floor,
      ratioToFloor: ratePerSecond / floor,
      timedOut: completed === 0,
    };
  } finally {
    await engine.stop(2_000);
  }
}

function floorMeasurement(folder: string): Measurement {
  const floor = measureFloor(folder);
  return {
    workload: 'bare SQLite transaction (floor)',
    completedCount: floor.transactions,
    requestedCount: floorMaxTransactions,
    seconds: floor.seconds,
    ratePerSecond: floor.transactionsPerSecond,
    unit: 'transactions/s',
    floorTransactionsPerSecond: floor.transactionsPerSecond,
    ratioToFloor: 1,
    timedOut: floor.transactions < floorMaxTransactions,
  };
}

function printTable(measurements: Measurement[]): void {
  const rows = [
    ['workload', 'completed', 'seconds', 'rate', 'floor tx/s', 'ratio'],
    ...measurements.map((m) => [
      m.workload + (m.timedOut ? ' (time limit reached)' : ''),
      `${m.completedCount}/${m.requestedCount}`,
      m.seconds.toFixed(2),
      `${m.ratePerSecond.toFixed(0)} ${m.unit}`,
      m.floorTransactionsPerSecond.toFixed(0),
      m.ratioToFloor.toFixed(3),
    ]),
  ];
  const widths = rows[0].map((_, column) => Math.max(...rows.map((row) => row[column].length)));
  for (const row of rows) {
    console.log(row.map((cell, column) => (column === 0 ? cell.padEnd(widths[column]) : cell.padStart(widths[column]))).join('  '));
  }
}

function packageVersion(name: string): string {
  const packageJsonPath = path.resolve(__dirname, '..', '..', 'node_modules', name, 'package.json');
  return (JSON.parse(fs.readFileSync(packageJsonPath, 'utf8')) as { version: string }).version;
}

function describeEnvironment(): Record<string, unknown> {
  const memory = new Database(':memory:');
  const sqliteVersion = (memory.prepare('SELECT sqlite_version() AS version').get() as { version: string }).version;
  memory.close();
  return {
    node: process.version,
    cpuCount: os.availableParallelism(),
    cpuModel: os.cpus()[0]?.model,
    memoryInBytes: os.totalmem(),
    platform: `${os.platform()} ${os.release()}`,
    sqlite: sqliteVersion,
    betterSqlite3: packageVersion('better-sqlite3'),
    durableFunctions: packageVersion('durable-functions'),
    azureFunctions: packageVersion('@azure/functions'),
    maxConcurrentActivityFunctions,
    maxConcurrentOrchestratorFunctions,
  };
}

async function main(): Promise<void> {
  const folder = createTempFolder('engine-bench-');
  try {
    const registry = await loadApp(appRoot, () => undefined);
    const invoker = new FunctionInvoker(registry, () => undefined);
    const measurements: Measurement[] = [];

    measurements.push(floorMeasurement(folder));
    for (const workload of sequenceWorkloads) {
      measurements.push(await measureSequences(registry, invoker, folder, workload, floorMeasurement(folder).ratePerSecond));
    }
    for (const workload of fanOutWorkloads) {
      measurements.push(await measureFanOut(registry, invoker, folder, workload, floorMeasurement(folder).ratePerSecond));
    }

    printTable(measurements);
    console.log(JSON.stringify({ date: new Date().toISOString(), environment: describeEnvironment(), dataFolder: os.tmpdir(), measurements }));
  } finally {
    fs.rmSync(folder, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
