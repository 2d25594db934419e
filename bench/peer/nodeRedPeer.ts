import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { buildIngestFlow, ingestPath, toPayloadExpression } from './ingestFlow';
import { buildSettingsSource } from './nodeRedSettings';

/**
 * Installs and runs Node-RED as a peer for the benchmark: a separate process that receives the same
 * requests as the connector, transforms them with the same JSONata expression and delivers them to
 * the same target.
 *
 * Node-RED is installed from bench/peer/package-lock.json into bench/peer/node_modules, apart from
 * the dependencies of the connector, and runs as a child process. It logs only warnings and errors,
 * and each of its output lines is copied to this process's stderr with the prefix `[node-red]`.
 */

const installTimeoutInMilliseconds = 600_000;
const startTimeoutInMilliseconds = 60_000;
const readinessPollIntervalInMilliseconds = 100;
const readinessRequestTimeoutInMilliseconds = 2_000;
const stopTimeoutInMilliseconds = 10_000;

/**
 * Maximum number of starts. Another process can take the port between `findFreePort` and
 * Node-RED's listen, and then Node-RED exits with "port in use".
 */
const maxStartAttempts = 3;

/** Number of Node-RED output lines kept for error messages. */
const outputTailLineCount = 20;

const flowFileName = 'flows.json';
const settingsFileName = 'settings.js';

export interface NodeRedPeer {
  /** URL of the ingest endpoint, on 127.0.0.1. */
  ingestUrl: string;
  pid: number;
  /** Ends the Node-RED process and removes its user directory. Later calls return the same promise. */
  stop(): Promise<void>;
}

export interface NodeRedPeerOptions {
  /** URL that each transformed body is POSTed to. */
  targetUrl: string;
  /** JSONata expression, written against the request body. */
  jsonataExpression: string;
}

/** Finds the repository root by walking up from this file, which runs from dist/bench/peer or bench/peer. */
function findRepositoryRoot(): string {
  let folder = __dirname;
  for (;;) {
    if (fs.existsSync(path.join(folder, 'bench', 'peer', 'package.json'))) {
      return folder;
    }

    const parent = path.dirname(folder);
    if (parent === folder) {
      throw new Error(`bench/peer/package.json was not found in any parent folder of ${__dirname}. Run this file from a checkout of the repository.`);
    }
    folder = parent;
  }
}

function peerFolder(): string {
  return path.join(findRepositoryRoot(), 'bench', 'peer');
}

function nodeRedEntryPoint(): string {
  return path.join(peerFolder(), 'node_modules', 'node-red', 'red.js');
}

/**
 * Runs `npm ci --no-audit --no-fund` in bench/peer unless Node-RED is already installed there.
 * npm's output goes to stderr, so stdout stays free for benchmark results.
 */
export async function installNodeRedPeer(): Promise<void> {
  if (fs.existsSync(nodeRedEntryPoint())) {
    return;
  }

  const folder = peerFolder();
  console.error(`Installing Node-RED for the benchmark peer with npm ci in ${folder}`);

  await new Promise<void>((resolve, reject) => {
    const npm = spawn('npm', ['ci', '--no-audit', '--no-fund'], {
      cwd: folder,
      stdio: ['ignore', process.stderr, process.stderr],
      timeout: installTimeoutInMilliseconds,
    });

    npm.once('error', (error) => {
      reject(new Error(`npm ci could not be started in ${folder}: ${error.message}. Check that npm is on the PATH.`, { cause: error }));
    });
    npm.once('exit', (code, signal) => {
      if (code === 0) {
        resolve();
        return;
      }
      const outcome = signal === null ? `exited with code ${code}` : `was ended by ${signal} (the limit is ${installTimeoutInMilliseconds} ms)`;
      reject(new Error(`npm ci ${outcome} in ${folder}. Read npm's output above, fix the cause and run the benchmark again.`));
    });
  });

  if (!fs.existsSync(nodeRedEntryPoint())) {
    throw new Error(`npm ci succeeded but ${nodeRedEntryPoint()} is missing. Check that bench/peer/package.json depends on node-red.`);
  }
}

/**
 * Throws when the expression does not parse, because Node-RED would only log the error and leave
 * every request without a response. The parser is the JSONata that Node-RED itself loads, through
 * @node-red/util, which is version 2.0.6 in Node-RED 4.1.8 and older than the connector's.
 */
function validateExpression(jsonataExpression: string): void {
  const requireFromNodeRedUtil = createRequire(path.join(peerFolder(), 'node_modules', '@node-red', 'util', 'package.json'));
  const parseExpression = requireFromNodeRedUtil('jsonata') as (expression: string) => unknown;

  try {
    // The bare expression first, so that a syntax error points at what the caller wrote.
    parseExpression(jsonataExpression);
    parseExpression(toPayloadExpression(jsonataExpression));
  } catch (error) {
    // JSONata throws plain objects with a message and a position, not Error instances.
    const reason = (error as { message?: unknown }).message ?? String(error);
    throw new Error(`The JSONata expression for the Node-RED peer is invalid: ${reason}. Expression: ${jsonataExpression}`, { cause: error });
  }
}

/** Returns a TCP port that was free on 127.0.0.1 a moment ago. */
async function findFreePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/**
 * Copies the environment without proxy variables, because Node-RED's http request node would
 * otherwise send the delivery to 127.0.0.1 through the proxy.
 */
function buildChildEnvironment(): NodeJS.ProcessEnv {
  const environment: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(process.env)) {
    if (!/proxy$/i.test(name)) {
      environment[name] = value;
    }
  }
  environment.NODE_RED_DISABLE_TELEMETRY = 'true';
  return environment;
}

/** Keeps the last lines of Node-RED's output and copies each line to stderr. */
function captureOutput(child: ChildProcess): string[] {
  const tail: string[] = [];
  const onData = (chunk: Buffer): void => {
    for (const line of chunk.toString('utf8').split('\n')) {
      if (line.trim() === '') {
        continue;
      }
      process.stderr.write(`[node-red] ${line}\n`);
      tail.push(line);
      if (tail.length > outputTailLineCount) {
        tail.shift();
      }
    }
  };
  child.stdout?.on('data', onData);
  child.stderr?.on('data', onData);
  return tail;
}

function delay(milliseconds: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, milliseconds));
}

/**
 * Waits until the ingest route exists. It sends OPTIONS and not POST, so no message reaches the
 * target. Express, which serves Node-RED's HTTP nodes, responds with 200 and an Allow header once a
 * route exists for the path, and with 404 before.
 */
async function waitUntilReady(ingestUrl: string, child: ChildProcess, outputTail: string[]): Promise<void> {
  const deadline = Date.now() + startTimeoutInMilliseconds;

  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) {
      const outcome = child.signalCode ?? `code ${child.exitCode}`;
      throw new NodeRedExitedError(`Node-RED exited with ${outcome} before ${ingestUrl} was ready. Last output:\n${outputTail.join('\n')}`, outputTail);
    }

    try {
      const response = await fetch(ingestUrl, { method: 'OPTIONS', signal: AbortSignal.timeout(readinessRequestTimeoutInMilliseconds) });
      await response.arrayBuffer();
      if (response.ok) {
        return;
      }
    } catch {
      // Node-RED is not listening yet or the probe timed out, so try again after the interval.
    }
    await delay(readinessPollIntervalInMilliseconds);
  }

  throw new Error(`Node-RED did not serve ${ingestUrl} within ${startTimeoutInMilliseconds} ms. Last output:\n${outputTail.join('\n')}`);
}

class NodeRedExitedError extends Error {
  constructor(
    message: string,
    readonly outputTail: string[],
  ) {
    super(message);
    this.name = 'NodeRedExitedError';
  }
}

/** Sends SIGTERM to the process, then SIGKILL if it has not exited after the stop timeout. */
async function endProcess(child: ChildProcess, pid: number): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) {
    return;
  }

  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  process.kill(pid, 'SIGTERM');

  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), stopTimeoutInMilliseconds);
  });
  const exitedInTime = await Promise.race([exited.then(() => true), timedOut]);
  clearTimeout(timer);

  if (!exitedInTime) {
    console.error(`Node-RED (pid ${pid}) did not exit within ${stopTimeoutInMilliseconds} ms of SIGTERM, so it gets SIGKILL.`);
    process.kill(pid, 'SIGKILL');
    await exited;
  }
}

async function startOnce(options: NodeRedPeerOptions): Promise<NodeRedPeer> {
  const port = await findFreePort();
  const userDir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-node-red-'));
  const settingsFile = path.join(userDir, settingsFileName);

  fs.writeFileSync(path.join(userDir, flowFileName), JSON.stringify(buildIngestFlow(options.targetUrl, options.jsonataExpression)));
  const credentialSecret = randomBytes(32).toString('hex');
  fs.writeFileSync(settingsFile, buildSettingsSource({ port, userDir, flowFileName, credentialSecret, parentPid: process.pid }));

  const child = spawn(process.execPath, [nodeRedEntryPoint(), '--settings', settingsFile, '--userDir', userDir], {
    cwd: userDir,
    env: buildChildEnvironment(),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const outputTail = captureOutput(child);
  const ingestUrl = `http://127.0.0.1:${port}${ingestPath}`;

  const removeUserDir = (): void => fs.rmSync(userDir, { recursive: true, force: true });

  const pid = child.pid;
  if (pid === undefined) {
    const spawnError = await new Promise<Error>((resolve) => child.once('error', resolve));
    removeUserDir();
    throw new Error(`Node-RED could not be started with ${process.execPath}: ${spawnError.message}`, { cause: spawnError });
  }

  // Ends Node-RED when this process exits without calling stop(), for example after an uncaught error.
  const endOnExit = (): void => {
    child.kill('SIGTERM');
    removeUserDir();
  };
  process.once('exit', endOnExit);

  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    process.off('exit', endOnExit);
    stopping ??= endProcess(child, pid).finally(removeUserDir);
    return stopping;
  };

  try {
    await waitUntilReady(ingestUrl, child, outputTail);
  } catch (error) {
    await stop();
    throw error;
  }

  return { ingestUrl, pid, stop };
}

/**
 * Starts Node-RED with the ingest flow in a new temporary user directory and resolves once the
 * ingest endpoint responds. Node-RED listens on a free port of 127.0.0.1. Call
 * `installNodeRedPeer` first.
 */
export async function startNodeRedPeer(options: NodeRedPeerOptions): Promise<NodeRedPeer> {
  if (!fs.existsSync(nodeRedEntryPoint())) {
    throw new Error(`Node-RED is not installed: ${nodeRedEntryPoint()} is missing. Call installNodeRedPeer() before startNodeRedPeer().`);
  }
  validateExpression(options.jsonataExpression);

  for (let attempt = 1; ; attempt++) {
    try {
      return await startOnce(options);
    } catch (error) {
      const portTaken = error instanceof NodeRedExitedError && error.outputTail.some((line) => /port in use/i.test(line));
      if (!portTaken || attempt >= maxStartAttempts) {
        throw error;
      }
      console.error(`Node-RED found its port taken on start attempt ${attempt} of ${maxStartAttempts}, so it starts again on another port.`);
    }
  }
}
