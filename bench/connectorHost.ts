import { spawn } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { benchTransformExpression } from './benchPayload';
import { isProcessRunning, registerPid, unregisterPid } from './childProcesses';

/**
 * The connector on the local host, as the bench runs it: a connectors file with the bench
 * connectors, and `node dist/local/cli.js` as a child process on a fresh data folder with the
 * secrets in its environment. The payload store is the default local folder, as with `npm start`.
 */

/** The repository root, from dist/bench when compiled and from bench when the tests load the source. */
export const repoRoot = path.basename(path.dirname(__dirname)) === 'dist' ? path.resolve(__dirname, '..', '..') : path.resolve(__dirname, '..');
const cliPath = path.join(repoRoot, 'dist', 'local', 'cli.js');

export const benchConnectorId = 'bench';
export const fanOutConnectorId = 'fanout';
export const fanOutDestinationCount = 100;
const secretSettingName = 'BENCH_HMAC_SECRET';

const readyLinePattern = /Functions host ready at (http:\/\/127\.0\.0\.1:\d+)/;
const startTimeoutInMilliseconds = 60_000;
const stopTimeoutInMilliseconds = 30_000;
/** Host output kept for error messages, in characters. */
const keptOutputCharacters = 20_000;

/**
 * Settings that the bench removes from the host's environment: those it sets itself, and those
 * that would send the host to cloud services or another store.
 */
const removedSettings = ['FUNCTIONS_WORKER_PROCESS_COUNT', 'PAYLOAD_STORE', 'TRACKING_SQL_SERVER', 'TRACKING_SQL_DATABASE', 'KEY_VAULT_URL', 'EVENT_GRID_TOPIC_ENDPOINT', 'EVENT_GRID_TOPIC_KEY', 'AUDIT_LOGS_INGESTION_ENDPOINT', 'CONNECTORS_FILE', 'PORT'];

function destination(id: string, url: string): Record<string, unknown> {
  return { id, url, method: 'POST', allowedPrivateRanges: ['127.0.0.0/8'] };
}

/**
 * Writes the bench connectors file: `bench` with one destination at `<targetUrl>/bench`, and
 * `fanout` with 100 destinations at `<targetUrl>/fanout/d1` to `d100`. Both check an HMAC-SHA256
 * signature of the body in `X-Signature`, take the dedup key from `webhook-id` and transform with
 * the bench's JSONata expression. Retries, timeouts and limits keep their defaults.
 */
export function writeBenchConnectorsFile(folder: string, targetUrl: string): string {
  const inbound = { auth: { type: 'hmac-sha256', header: 'X-Signature', secretRef: secretSettingName } };
  const common = { inbound, dedupKey: { header: 'webhook-id' }, transform: { type: 'jsonata', expression: benchTransformExpression } };
  const fanOutDestinations = Array.from({ length: fanOutDestinationCount }, (_, index) => destination(`d${index + 1}`, `${targetUrl}/fanout/d${index + 1}`));
  const file = {
    connectors: [
      { id: benchConnectorId, ...common, destinations: [destination('target', `${targetUrl}/bench`)] },
      { id: fanOutConnectorId, ...common, destinations: fanOutDestinations },
    ],
  };
  const filePath = path.join(folder, 'connectors.json');
  fs.writeFileSync(filePath, JSON.stringify(file, null, 2));
  return filePath;
}

export interface ConnectorHost {
  baseUrl: string;
  pid: number;
  ingestUrl(connectorId: string): string;
  /**
   * Waits until no orchestration instance is Running or Pending, read from the Durable Functions
   * management API, and returns the seconds waited. Deliveries reach the target before their
   * orchestrations complete, so a load run that starts before then shares the host with that work.
   */
  waitForIdle(timeoutInMilliseconds: number): Promise<number>;
  /** Counts of warn, error and fatal log lines so far. */
  logCounts(): { warn: number; error: number; fatal: number };
  /** The last lines of output, for error messages. */
  recentOutput(): string;
  /** Sends SIGTERM and waits for the exit, with SIGKILL after 30 s. */
  stop(): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

function countOccurrences(text: string, needle: string): number {
  let count = 0;
  for (let index = text.indexOf(needle); index !== -1; index = text.indexOf(needle, index + needle.length)) {
    count++;
  }
  return count;
}

export interface ConnectorHostOptions {
  /** The host's FUNCTIONS_WORKER_PROCESS_COUNT; 0 runs the functions on the host's own thread. */
  functionWorkerCount: number;
  /** When set, node runs with `--cpu-prof` and writes the host's CPU profile here when it exits. */
  cpuProfileFolder?: string;
}

/** Starts the host on a free port, with `secret` as the bench connectors' HMAC secret. */
export async function startConnectorHost(connectorsFile: string, dataFolder: string, secret: string, options: ConnectorHostOptions): Promise<ConnectorHost> {
  return startLocalHost(repoRoot, dataFolder, { CONNECTORS_FILE: connectorsFile, [secretSettingName]: secret }, options);
}

/**
 * Starts the host on a free port with the Functions app in `appRoot`, such as a bench fixture.
 * The connector's settings stay out of its environment.
 */
export async function startFunctionHost(appRoot: string, dataFolder: string, options: ConnectorHostOptions): Promise<ConnectorHost> {
  return startLocalHost(appRoot, dataFolder, {}, options);
}

async function startLocalHost(appRoot: string, dataFolder: string, settings: NodeJS.ProcessEnv, options: ConnectorHostOptions): Promise<ConnectorHost> {
  const { cpuProfileFolder } = options;
  const functionKey = crypto.randomBytes(24).toString('hex');
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const name of removedSettings) {
    delete env[name];
  }
  Object.assign(env, settings, {
    DATA_DIR: dataFolder,
    LOCAL_FUNCTION_KEY: functionKey,
  });
  if (options.functionWorkerCount > 0) {
    env.FUNCTIONS_WORKER_PROCESS_COUNT = String(options.functionWorkerCount);
  }
  const nodeArguments = cpuProfileFolder === undefined ? [] : ['--cpu-prof', '--cpu-prof-dir', cpuProfileFolder];
  const child = spawn(process.execPath, [...nodeArguments, cliPath, '--port', '0', '--app-root', appRoot, '--data-dir', dataFolder], { cwd: repoRoot, env, stdio: ['ignore', 'pipe', 'pipe'] });
  const pid = child.pid as number;
  registerPid(pid);

  let output = '';
  const counts = { warn: 0, error: 0, fatal: 0 };
  const onOutput = (chunk: string) => {
    counts.warn += countOccurrences(chunk, '"level":"warn"');
    counts.error += countOccurrences(chunk, '"level":"error"');
    counts.fatal += countOccurrences(chunk, '"level":"fatal"');
    output = (output + chunk).slice(-keptOutputCharacters);
  };
  child.stdout.setEncoding('utf8').on('data', onOutput);
  child.stderr.setEncoding('utf8').on('data', onOutput);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('close', (code, signal) => {
      unregisterPid(pid);
      resolve({ code, signal });
    }),
  );

  const baseUrl = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`The host (pid ${pid}) did not print its base URL within ${startTimeoutInMilliseconds} ms. Output:\n${output}`)), startTimeoutInMilliseconds);
    const onData = () => {
      const match = readyLinePattern.exec(output);
      if (match) {
        clearTimeout(timer);
        child.stdout.off('data', onData);
        resolve(match[1]);
      }
    };
    child.stdout.on('data', onData);
    exited.then(({ code }) => {
      clearTimeout(timer);
      reject(new Error(`The host exited with code ${code} before it was ready. Output:\n${output}`));
    }, reject);
  });

  return {
    baseUrl,
    pid,
    ingestUrl: (connectorId) => `${baseUrl}/api/connectors/${connectorId}/messages`,
    waitForIdle: (timeoutInMilliseconds) => waitForNoRunningInstances(baseUrl, functionKey, timeoutInMilliseconds),
    logCounts: () => ({ ...counts }),
    recentOutput: () => output,
    async stop() {
      if (isProcessRunning(pid)) {
        process.kill(pid, 'SIGTERM');
      }
      const timer = setTimeout(() => isProcessRunning(pid) && process.kill(pid, 'SIGKILL'), stopTimeoutInMilliseconds);
      const result = await exited;
      clearTimeout(timer);
      return result;
    },
  };
}

const idlePollIntervalInMilliseconds = 250;

async function waitForNoRunningInstances(baseUrl: string, functionKey: string, timeoutInMilliseconds: number): Promise<number> {
  const startedAt = Date.now();
  const url = `${baseUrl}/runtime/webhooks/durabletask/instances?runtimeStatus=Running,Pending&top=1&showInput=false`;
  for (;;) {
    const response = await fetch(url, { headers: { 'x-functions-key': functionKey } });
    const text = await response.text();
    if (response.status !== 200) {
      throw new Error(`Listing running instances responded with ${response.status}: ${text}`);
    }
    if ((JSON.parse(text) as unknown[]).length === 0) {
      return (Date.now() - startedAt) / 1_000;
    }
    if (Date.now() - startedAt > timeoutInMilliseconds) {
      throw new Error(`Orchestration instances were still running ${timeoutInMilliseconds} ms after the last delivery, for example ${text}.`);
    }
    await new Promise((resolve) => setTimeout(resolve, idlePollIntervalInMilliseconds));
  }
}

/** Clock ticks per second of the times in /proc/<pid>/stat: USER_HZ, which `getconf CLK_TCK` prints and which is 100 on this machine. */
const clockTicksPerSecond = 100;

/** Returns the CPU time of `pid` so far, user and system, in milliseconds, read from /proc. */
export function readCpuMilliseconds(pid: number): number {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  // The command name in parentheses may contain spaces, so the fields are counted after it.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // utime and stime are fields 14 and 15 of the line, the 12th and 13th after the command name.
  const ticks = Number(fields[11]) + Number(fields[12]);
  if (!Number.isFinite(ticks)) {
    throw new Error(`/proc/${pid}/stat has no CPU times: ${stat}`);
  }
  return (ticks * 1_000) / clockTicksPerSecond;
}

/** Returns the resident memory (VmRSS) of `pid` in bytes, read from /proc. */
export function readResidentMemoryBytes(pid: number): number {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  const match = /^VmRSS:\s+(\d+)\s+kB$/m.exec(status);
  if (!match) {
    throw new Error(`/proc/${pid}/status has no VmRSS line; is pid ${pid} still running?`);
  }
  return Number(match[1]) * 1_024;
}
