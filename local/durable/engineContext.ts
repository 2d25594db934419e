import type { Invoker } from '../functionsCore/invoker';
import type { RegisteredFunction } from '../functionsCore/registry';
import type { Clock } from './clock';
import type { GroupCommitter } from '../../lib/sqlite/groupCommitter';
import type { EngineStore } from './store';

/** The subset of a pino logger the engine writes to. */
export interface EngineLogger {
  info(fields: object, message: string): void;
  warn(fields: object, message: string): void;
  error(fields: object, message: string): void;
}

/** Services the engine's runners share: storage, the invoker, logging, time and a way to wake instances. */
export interface EngineContext {
  store: EngineStore;
  invoker: Invoker;
  logger: EngineLogger;
  clock: Clock;
  /** Finds the app's function by name (case-insensitively, as Durable Functions does) and trigger type. */
  findFunction(name: string, triggerType: string): RegisteredFunction | undefined;
  /** Runs an episode of the instance once the current transaction has committed. */
  kickInstanceSoon(instanceId: string): void;
  /** Runs an episode for committed activity results, possibly after a short wait for more of them. */
  kickAfterActivityResults(instanceId: string, outstandingActivities: number): void;
  /** Shares transactions between episodes and results that are ready together. */
  committer: GroupCommitter;
}
