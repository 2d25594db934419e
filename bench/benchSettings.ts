import { maxFunctionWorkerCount } from '../local/settings';

/**
 * Environment settings of `npm run bench`. The defaults make a run of about 20 minutes, 10 of
 * them the soak; the knobs shorten trial runs.
 */
export interface BenchSettings {
  /** BENCH_DURATION_SECONDS: length of each saturation and fixed-rate load run (default 20). */
  durationInSeconds: number;
  /** BENCH_SOAK_SECONDS: length of the soak (default 600). */
  soakInSeconds: number;
  /** BENCH_CONNECTIONS: autocannon connections for saturation runs, and the most sockets of fixed-rate runs (default 32). */
  connections: number;
  /** BENCH_MAX_REQUESTS: count bound of every load run (default 200000). */
  maxRequests: number;
  /** BENCH_DELIVERY_TIMEOUT_SECONDS: the longest wait after a load run for the target to receive every accepted id (default 180). */
  deliveryTimeoutInSeconds: number;
  /** BENCH_FAN_OUT_ROUNDS: fan-out messages, sent one after another (default 5). */
  fanOutRounds: number;
  /** BENCH_PEER: `0` skips the Node-RED peer (default 1). */
  runPeer: boolean;
  /**
   * BENCH_FUNCTION_WORKERS: the connector host's FUNCTIONS_WORKER_PROCESS_COUNT, the number of
   * worker threads that run its functions (default 1). `0` runs them on the host's own thread.
   */
  functionWorkerCount: number;
  /** BENCH_CPU_PROFILE_DIR: when set, the host runs with `--cpu-prof` and writes its profile to this folder when it stops. */
  cpuProfileFolder: string | undefined;
}

/** Seconds a request may wait for its response before it counts as timed out. */
export const requestTimeoutInSeconds = 30;

function readPositiveInteger(environment: NodeJS.ProcessEnv, name: string, defaultValue: number): number {
  const text = environment[name];
  if (text === undefined || text === '') {
    return defaultValue;
  }
  const value = Number(text);
  if (!Number.isInteger(value) || value <= 0) {
    throw new Error(`${name} must be a positive integer, got "${text}".`);
  }
  return value;
}

function readWorkerCount(environment: NodeJS.ProcessEnv, name: string, defaultValue: number): number {
  const text = environment[name];
  if (text === undefined || text === '') {
    return defaultValue;
  }
  const value = Number(text);
  if (!Number.isInteger(value) || value < 0 || value > maxFunctionWorkerCount) {
    throw new Error(`${name} must be an integer from 0 to ${maxFunctionWorkerCount}, got "${text}". Use 0 to run the functions on the host's own thread.`);
  }
  return value;
}

function readSwitch(environment: NodeJS.ProcessEnv, name: string, defaultValue: boolean): boolean {
  const text = environment[name];
  if (text === undefined || text === '') {
    return defaultValue;
  }
  if (text !== '0' && text !== '1') {
    throw new Error(`${name} must be 0 or 1, got "${text}".`);
  }
  return text === '1';
}

/** Reads the bench settings from the environment. Throws an error that names the setting for an invalid value. */
export function readBenchSettings(environment: NodeJS.ProcessEnv = process.env): BenchSettings {
  return {
    durationInSeconds: readPositiveInteger(environment, 'BENCH_DURATION_SECONDS', 20),
    soakInSeconds: readPositiveInteger(environment, 'BENCH_SOAK_SECONDS', 600),
    connections: readPositiveInteger(environment, 'BENCH_CONNECTIONS', 32),
    maxRequests: readPositiveInteger(environment, 'BENCH_MAX_REQUESTS', 200_000),
    deliveryTimeoutInSeconds: readPositiveInteger(environment, 'BENCH_DELIVERY_TIMEOUT_SECONDS', 180),
    fanOutRounds: readPositiveInteger(environment, 'BENCH_FAN_OUT_ROUNDS', 5),
    runPeer: readSwitch(environment, 'BENCH_PEER', true),
    functionWorkerCount: readWorkerCount(environment, 'BENCH_FUNCTION_WORKERS', 1),
    cpuProfileFolder: environment.BENCH_CPU_PROFILE_DIR || undefined,
  };
}
