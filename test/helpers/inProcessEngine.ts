import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DurableEngine, type EngineLogger } from '../../local/durable/engine';
import type { Clock } from '../../local/durable/clock';
import { FunctionInvoker } from '../../local/functionsCore/invoker';
import { loadApp } from '../../local/functionsCore/loadApp';
import { FunctionWorkerPool } from '../../local/workers/functionWorkerPool';

export interface InProcessEngine {
  engine: DurableEngine;
  dataDir: string;
  logLines: { message: string; fields: object }[];
  close(): Promise<void>;
}

/** Loads a fixture app in this process and runs the durable engine over a temporary data folder. */
export async function startInProcessEngine(appRoot: string, options: {
    dataDir?: string;
    clock?: Clock;
    maxConcurrentActivityFunctions?: number;
    functionTimeoutInMilliseconds?: number;
    /** Runs the functions on this many worker threads instead of this thread. */
    functionWorkerCount?: number;
  } = {}): Promise<InProcessEngine> {
  const dataDir = options.dataDir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'durable-engine-'));
  const logLines: { message: string; fields: object }[] = [];
  const logger: EngineLogger = {
    info: (fields, message) => logLines.push({ message, fields }),
    warn: (fields, message) => logLines.push({ message, fields }),
    error: (fields, message) => logLines.push({ message, fields }),
  };
  const registry = await loadApp(appRoot, () => undefined);
  const workerPool =
    options.functionWorkerCount === undefined
      ? undefined
      : new FunctionWorkerPool({
          appRoot,
          workerCount: options.functionWorkerCount,
          registry,
          logger,
          invocationLog: () => undefined,
          coreLog: () => undefined,
        });
  await workerPool?.start();
  const invoker = workerPool ?? new FunctionInvoker(registry, () => undefined);
  const engine = new DurableEngine({
    databasePath: path.join(dataDir, 'durable.db'),
    registry,
    invoker,
    taskHubName: 'TestHub',
    maxConcurrentActivityFunctions: options.maxConcurrentActivityFunctions ?? 16,
    maxConcurrentOrchestratorFunctions: 16,
    logger,
    clock: options.clock,
    functionTimeoutInMilliseconds: options.functionTimeoutInMilliseconds,
  });
  engine.start();
  const close = async (): Promise<void> => {
    await engine.stop(2_000);
    await workerPool?.stop(2_000);
  };
  return { engine, dataDir, logLines, close };
}
