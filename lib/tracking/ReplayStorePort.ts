import type { MessagePosition } from './messageFilter';
import type { BulkReplayFilter, BulkReplayItem, BulkReplayRecord, NewBulkReplay } from './replayStore';

/**
 * Bulk replays and the messages each one handled, as function code uses them. `createBulkReplay`
 * and `recordItem` each run in one transaction, so the stored counts match the items.
 */
export interface ReplayStorePort {
  /** Counts the messages that match `filter` now, without storing anything. Returns the count and the oldest ids, up to `sampleSize`. */
  previewMatching(filter: BulkReplayFilter, sampleSize: number): Promise<{ total: number; messageIds: string[] }>;
  /** Stores a new running bulk replay with the set of messages that match its filter now. Returns the stored record. */
  createBulkReplay(replay: NewBulkReplay): Promise<BulkReplayRecord>;
  getBulkReplay(replayId: string): Promise<BulkReplayRecord | undefined>;
  /** Returns the positions of up to `limit` messages after the replay's position, oldest first. */
  takeNextPage(replayId: string, limit: number): Promise<MessagePosition[]>;
  /** Returns the item of a message that the replay already handled. */
  getItem(replayId: string, originalMessageId: string): Promise<BulkReplayItem | undefined>;
  /** Records how the replay handled one message and counts it. Returns true when the item was added. */
  recordItem(replayId: string, item: BulkReplayItem): Promise<boolean>;
  advancePosition(replayId: string, position: MessagePosition, at: string): Promise<void>;
  /** Returns the first `limit` items of a replay, replayed ones when `replayed` is true and failed ones otherwise. */
  listItems(replayId: string, replayed: boolean, limit: number): Promise<BulkReplayItem[]>;
  /** Ends a running replay. Returns false when it was no longer running. */
  finishBulkReplay(replayId: string, state: 'completed' | 'failed', at: string, error?: string): Promise<boolean>;
  /** Cancels a running replay. Returns false when it was no longer running. */
  cancelBulkReplay(replayId: string, reason: string, operator: string, at: string): Promise<boolean>;
}
