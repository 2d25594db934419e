import { fork, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/**
 * The bench's child processes and temp folders. Every child started here is registered by pid
 * and killed with SIGKILL when the bench ends, fails or gets SIGINT or SIGTERM, and every temp
 * folder is removed then.
 */

const runningPids = new Set<number>();
const tempFolders: string[] = [];
let cleanedUp = false;

/** Records a process that the bench started some other way, such as the Node-RED peer, so that cleanup kills it. */
export function registerPid(pid: number): void {
  runningPids.add(pid);
}

export function unregisterPid(pid: number): void {
  runningPids.delete(pid);
}

export function isProcessRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

export function createTempFolder(prefix: string): string {
  const folder = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  tempFolders.push(folder);
  return folder;
}

/** Kills every registered child by pid and removes the temp folders. Safe to call more than once. */
export function cleanUpChildren(): void {
  if (cleanedUp) {
    return;
  }
  cleanedUp = true;
  for (const pid of runningPids) {
    if (isProcessRunning(pid)) {
      process.kill(pid, 'SIGKILL');
    }
  }
  runningPids.clear();
  for (const folder of tempFolders.splice(0)) {
    fs.rmSync(folder, { recursive: true, force: true });
  }
}

/** Cleans up on exit and on SIGINT or SIGTERM, which end the bench with exit code 130 or 143. */
export function cleanUpOnExit(): void {
  process.once('exit', cleanUpChildren);
  for (const [signal, exitCode] of [['SIGINT', 130], ['SIGTERM', 143]] as const) {
    process.once(signal, () => {
      console.error(`${signal} received: killing the bench's child processes and removing its temp folders.`);
      cleanUpChildren();
      process.exit(exitCode);
    });
  }
}

/** Child side of the request and reply protocol: `{ requestId, command, argument }` in, `{ requestId, result | error }` out. */
export interface IpcRequest {
  requestId: number;
  command: string;
  argument?: unknown;
}

interface IpcReply {
  requestId: number;
  result?: unknown;
  error?: string;
}

/** Handles requests from the parent in a child process. The handler's result, or its error message, goes back to the parent. */
export function serveParentRequests(handler: (command: string, argument: unknown) => unknown): void {
  process.on('message', (message: IpcRequest) => {
    Promise.resolve()
      .then(() => handler(message.command, message.argument))
      .then(
        (result) => process.send?.({ requestId: message.requestId, result } satisfies IpcReply),
        (error: unknown) => process.send?.({ requestId: message.requestId, error: (error as Error).stack ?? String(error) } satisfies IpcReply),
      );
  });
  // The parent's exit closes the IPC channel, so a child that outlives it ends too.
  process.on('disconnect', () => process.exit(0));
}

/** A forked child that serves requests over IPC. */
export interface ForkedChild {
  pid: number;
  request<T>(command: string, argument?: unknown, timeoutInMilliseconds?: number): Promise<T>;
  /** Kills the child by pid with SIGKILL and waits for its exit. */
  stop(): Promise<void>;
}

const defaultRequestTimeoutInMilliseconds = 60_000;

/** Forks `modulePath` (a compiled file under dist/bench) and waits for its first message, `{ ready: true, ... }`, which is returned. */
export async function forkChild<Ready>(modulePath: string, args: string[] = [], startTimeoutInMilliseconds = 20_000): Promise<{ child: ForkedChild; ready: Ready }> {
  const child: ChildProcess = fork(modulePath, args, { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const pid = child.pid as number;
  registerPid(pid);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  exited.then(() => unregisterPid(pid), () => undefined);

  let nextRequestId = 1;
  const pending = new Map<number, { resolve: (value: unknown) => void; reject: (error: Error) => void; timer: NodeJS.Timeout }>();
  let readyResolve: (value: Ready) => void = () => undefined;
  const readyMessage = new Promise<Ready>((resolve) => (readyResolve = resolve));

  child.on('message', (message: IpcReply & { ready?: boolean }) => {
    if (message.ready) {
      readyResolve(message as unknown as Ready);
      return;
    }
    const waiter = pending.get(message.requestId);
    if (!waiter) {
      return;
    }
    pending.delete(message.requestId);
    clearTimeout(waiter.timer);
    if (message.error !== undefined) {
      waiter.reject(new Error(`Child ${path.basename(modulePath)} (pid ${pid}) failed: ${message.error}`));
    } else {
      waiter.resolve(message.result);
    }
  });
  child.once('exit', (code, signal) => {
    for (const waiter of pending.values()) {
      clearTimeout(waiter.timer);
      waiter.reject(new Error(`Child ${path.basename(modulePath)} (pid ${pid}) exited with code ${code} and signal ${signal} before it replied.`));
    }
    pending.clear();
  });

  const ready = await Promise.race([
    readyMessage,
    exited.then(() => {
      throw new Error(`Child ${path.basename(modulePath)} (pid ${pid}) exited before it was ready.`);
    }),
    new Promise<never>((_, reject) =>
      setTimeout(() => reject(new Error(`Child ${path.basename(modulePath)} (pid ${pid}) was not ready within ${startTimeoutInMilliseconds} ms.`)), startTimeoutInMilliseconds).unref(),
    ),
  ]);

  const forked: ForkedChild = {
    pid,
    request<T>(command: string, argument?: unknown, timeoutInMilliseconds = defaultRequestTimeoutInMilliseconds): Promise<T> {
      const requestId = nextRequestId++;
      return new Promise<T>((resolve, reject) => {
        const timer = setTimeout(() => {
          pending.delete(requestId);
          reject(new Error(`Child ${path.basename(modulePath)} (pid ${pid}) did not reply to ${command} within ${timeoutInMilliseconds} ms.`));
        }, timeoutInMilliseconds);
        pending.set(requestId, { resolve: resolve as (value: unknown) => void, reject, timer });
        child.send({ requestId, command, argument } satisfies IpcRequest);
      });
    },
    async stop() {
      if (isProcessRunning(pid)) {
        process.kill(pid, 'SIGKILL');
      }
      await exited;
    },
  };
  return { child: forked, ready };
}

/** Sends the ready message from a child to its parent. */
export function announceReady(details: Record<string, unknown>): void {
  process.send?.({ ready: true, ...details });
}
