import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

/**
 * Runs the local host as a child process (`node dist/local/cli.js`), as a user starts it, and
 * waits for the line that prints its base URL. Build first with `npm run build`, which `npm test` runs.
 */

export const repoRoot = path.resolve(__dirname, '../..');
export const cliPath = path.join(repoRoot, 'dist', 'local', 'cli.js');

const readyLinePattern = /Functions host ready at (http:\/\/127\.0\.0\.1:\d+)/;
const defaultStartTimeoutInMilliseconds = 20_000;
const defaultStopTimeoutInMilliseconds = 15_000;

export interface HostProcessOptions {
  appRoot: string;
  dataDir: string;
  /** Variables to add to the inherited environment. An undefined value removes the variable. */
  env?: Record<string, string | undefined>;
  /** Command-line arguments, by default `--port 0`. */
  args?: string[];
  startTimeoutInMilliseconds?: number;
}

export interface ExitResult {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface HostProcess {
  baseUrl: string;
  pid: number;
  child: ChildProcess;
  /** Resolves when the process has exited. */
  exited: Promise<ExitResult>;
  stdout(): string;
  stderr(): string;
  /** The JSON log lines printed so far. */
  logEntries(): Record<string, unknown>[];
  /** Sends `signal` and waits for the exit. Sends SIGKILL if the process still runs after `timeoutInMilliseconds`. */
  stop(signal?: NodeJS.Signals, timeoutInMilliseconds?: number): Promise<ExitResult>;
  /** Kills the process by pid with SIGKILL if it is still running. */
  kill(): void;
}

const runningChildren = new Set<ChildProcess>();

function isRunning(child: ChildProcess): boolean {
  return child.exitCode === null && child.signalCode === null;
}

function killByPid(child: ChildProcess): void {
  if (child.pid !== undefined && isRunning(child)) {
    process.kill(child.pid, 'SIGKILL');
  }
}

// A test file that fails before its afterAll must not leave hosts behind.
process.once('exit', () => runningChildren.forEach(killByPid));

function childEnvironment(options: HostProcessOptions): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, DATA_DIR: options.dataDir };
  for (const [name, value] of Object.entries(options.env ?? {})) {
    if (value === undefined) {
      delete env[name];
    } else {
      env[name] = value;
    }
  }
  return env;
}

function parseLogEntries(output: string): Record<string, unknown>[] {
  return output
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

function spawnHost(options: HostProcessOptions): { child: ChildProcess; output: { stdout: string; stderr: string }; exited: Promise<ExitResult> } {
  if (!fs.existsSync(cliPath)) {
    throw new Error(`${cliPath} does not exist. Run npm run build before these tests.`);
  }
  const child = spawn(process.execPath, [cliPath, ...(options.args ?? ['--port', '0'])], {
    cwd: options.appRoot,
    env: childEnvironment(options),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  runningChildren.add(child);
  const output = { stdout: '', stderr: '' };
  child.stdout?.setEncoding('utf8').on('data', (chunk: string) => (output.stdout += chunk));
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => (output.stderr += chunk));
  const exited = new Promise<ExitResult>((resolve) => {
    // 'close' comes after the output streams end, so the output is complete when this resolves.
    child.once('close', (code, signal) => {
      runningChildren.delete(child);
      resolve({ code, signal });
    });
  });
  return { child, output, exited };
}

/** Starts the host and resolves once it printed its base URL. Rejects with its output if it exits or times out first. */
export async function startHostProcess(options: HostProcessOptions): Promise<HostProcess> {
  const { child, output, exited } = spawnHost(options);
  const timeoutInMilliseconds = options.startTimeoutInMilliseconds ?? defaultStartTimeoutInMilliseconds;

  const baseUrl = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => {
      cleanUp();
      killByPid(child);
      reject(new Error(`The host did not print its base URL within ${timeoutInMilliseconds} ms.\nstdout:\n${output.stdout}\nstderr:\n${output.stderr}`));
    }, timeoutInMilliseconds);
    const onData = () => {
      const match = readyLinePattern.exec(output.stdout);
      if (match) {
        cleanUp();
        resolve(match[1]);
      }
    };
    const onExit = (code: number | null) => {
      cleanUp();
      reject(new Error(`The host exited with code ${code} before it was ready.\nstdout:\n${output.stdout}\nstderr:\n${output.stderr}`));
    };
    const cleanUp = () => {
      clearTimeout(timer);
      child.stdout?.off('data', onData);
      child.off('close', onExit);
    };
    child.stdout?.on('data', onData);
    child.once('close', onExit);
  });

  return {
    baseUrl,
    pid: child.pid as number,
    child,
    exited,
    stdout: () => output.stdout,
    stderr: () => output.stderr,
    logEntries: () => parseLogEntries(output.stdout),
    async stop(signal: NodeJS.Signals = 'SIGTERM', stopTimeoutInMilliseconds = defaultStopTimeoutInMilliseconds) {
      if (isRunning(child) && child.pid !== undefined) {
        process.kill(child.pid, signal);
      }
      const timer = setTimeout(() => killByPid(child), stopTimeoutInMilliseconds);
      const result = await exited;
      clearTimeout(timer);
      return result;
    },
    kill: () => killByPid(child),
  };
}

/**
 * Runs the host until it exits by itself, such as after a failed start, and returns its exit
 * code and output. Kills it with SIGKILL after `timeoutInMilliseconds` (default 20 s).
 */
export async function runHostUntilExit(options: HostProcessOptions & { timeoutInMilliseconds?: number }): Promise<ExitResult & { stdout: string; stderr: string }> {
  const { child, output, exited } = spawnHost(options);
  const timer = setTimeout(() => killByPid(child), options.timeoutInMilliseconds ?? defaultStartTimeoutInMilliseconds);
  const result = await exited;
  clearTimeout(timer);
  return { ...result, ...output };
}
