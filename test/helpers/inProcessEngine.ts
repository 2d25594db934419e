import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DurableEngine, type EngineLogger } from '../../local/durable/engine';
import type { Clock } from '../../local/durable/clock';
import { FunctionInvoker } from '../../local/functionsCore/invoker';
import { loadApp } from '../../local/functionsCore/loadApp';

export interface InProcessEngine {
  engine: DurableEngine;
  dataDir: string;
  logLines: { message: string; fields: object }[];
  close(): Promise<void>;
}

/** Loads a fixture app in this process and runs the durable engine over a temporary data folder. */
export async function startInProcessEngine(appRoot: string, options: { dataDir?: string; clock?: Clock; maxConcurrentActivityFunctions?: number; functionTimeoutInMilliseconds?: number } = {}): Promise<InProcessEngine> {
  const dataDir = options.dataDir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'durable-engine-'));
  const logLines: { message: string; fields: object }[] = [];
  const logger: EngineLogger = {
    info: (fields, message) => logLines.push({ message, fields }),
    warn: (fields, message) => logLines.push({ message, fields }),
    error: (fields, message) => logLines.push({ message, fields }),
  };
  const registry = await loadApp(appRoot, () => undefined);
  const invoker = new FunctionInvoker(registry, () => undefined);
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
  return { engine, dataDir, logLines, close: () => engine.stop(2_000) };
}
