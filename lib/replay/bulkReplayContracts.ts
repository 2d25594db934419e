import type { MessagePosition } from '../tracking/messageFilter';
import type { BulkReplayState } from '../tracking/replayStore';

/**
 * Inputs and outputs of the `bulkReplay` orchestration and its activities. They carry ids and
 * positions. The filter, reason and operator stay in the tracking store.
 */

export interface BulkReplayInput {
  replayId: string;
  /** Replays started per second, greater than 0. */
  requestsPerSecond: number;
}

export interface TakeReplayPageInput {
  replayId: string;
  /** Maximum number of messages in the page. */
  limit: number;
}

/** The next messages to replay, oldest first. Empty when the replay is no longer running or no message is left. */
export interface ReplayPage {
  state: BulkReplayState;
  positions: MessagePosition[];
}

export interface StartReplaysInput {
  replayId: string;
  positions: MessagePosition[];
}

export interface StartReplaysOutput {
  replayed: number;
  failed: number;
}

export interface FinishBulkReplayInput {
  replayId: string;
  state: 'completed' | 'failed';
  /** The failure that ended the replay, without secrets. */
  error?: string;
}
