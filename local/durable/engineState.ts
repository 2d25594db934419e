import type { RetryOptions } from './actions';
import type { HistoryEvent } from './types';

/** Progress of one task scheduled with retry options, kept until it succeeds or runs out of attempts. */
export interface RetryProgress {
  kind: 'activity' | 'subOrchestration';
  name: string;
  /** JSON text of the input. */
  input: string | undefined;
  /** Sub-orchestration instance id given by the orchestrator, if any. */
  childInstanceId?: string;
  options: RetryOptions;
  attempt: number;
  /** Meaning of the pending task id: an attempt, or the wait before the next attempt. */
  waitingFor: 'attempt' | 'timer';
  lastFailure?: HistoryEvent;
}

/** Bookkeeping the engine keeps per instance beside its history. */
export interface EngineState {
  /** Sequence numbers the library gave retry timers and retried attempts, which no action carries. */
  reservedTaskIds: number[];
  /** Numbered actions that the orchestrator had returned at the end of the last episode. */
  numberedActionCount: number;
  /** Retried tasks by the sequence number they wait on. */
  retries: Record<string, RetryProgress>;
}

export function emptyEngineState(): EngineState {
  return { reservedTaskIds: [], numberedActionCount: 0, retries: {} };
}

export function parseEngineState(text: string): EngineState {
  return { ...emptyEngineState(), ...(JSON.parse(text) as Partial<EngineState>) };
}
