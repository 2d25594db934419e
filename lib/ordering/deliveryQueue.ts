import type { DeliveryQueueState, QueueItem, QueuePosition, QueueRelease } from '../contracts';
import { compareVersions } from '../transform/compareVersions';

/**
 * Decisions of the `deliveryQueue` entity, which lets deliveries of one entity key to one
 * destination happen one at a time. The head delivers; the others wait in entity version order,
 * so a lower version that arrives later still goes before a higher one that waits.
 */

export const emptyDeliveryQueue: DeliveryQueueState = { waiting: [] };

/**
 * Adds the item unless it is already queued, and returns its position. An empty queue makes it
 * the head at once. A waiting delivery enqueues again to learn whether it is the head.
 */
export function enqueueItem(state: DeliveryQueueState, item: QueueItem): { position: QueuePosition; state: DeliveryQueueState } {
  if (state.head === undefined || state.head.instanceId === item.instanceId) {
    const waiting = state.waiting.filter((queued) => queued.instanceId !== item.instanceId);
    const head = state.head ?? item;
    return { position: { isHead: true, position: 0, waitingCount: waiting.length }, state: { head, waiting } };
  }

  let waiting = state.waiting;
  if (!waiting.some((queued) => queued.instanceId === item.instanceId)) {
    waiting = insertByVersion(waiting, item);
  }
  const index = waiting.findIndex((queued) => queued.instanceId === item.instanceId);
  return {
    position: { isHead: false, headMessageId: state.head.messageId, position: index + 1, waitingCount: waiting.length },
    state: { head: state.head, waiting },
  };
}

/**
 * Removes the item, as head or waiting, and makes the first waiting item the head when the head
 * was released. Returns that new head, which the caller notifies.
 */
export function releaseItem(state: DeliveryQueueState, instanceId: string): { release: QueueRelease; state: DeliveryQueueState } {
  const waiting = state.waiting.filter((queued) => queued.instanceId !== instanceId);
  if (state.head?.instanceId !== instanceId) {
    return { release: {}, state: { head: state.head, waiting } };
  }

  const [nextHead, ...rest] = waiting;
  return { release: nextHead === undefined ? {} : { nextHead }, state: { head: nextHead, waiting: rest } };
}

/** Inserts after every item of an equal or lower version, so equal versions and items without one keep arrival order. */
function insertByVersion(waiting: QueueItem[], item: QueueItem): QueueItem[] {
  const version = item.version;
  if (version === undefined) {
    return [...waiting, item];
  }
  const index = waiting.findIndex((queued) => queued.version !== undefined && compareVersions(queued.version, version) > 0);
  if (index < 0) {
    return [...waiting, item];
  }
  return [...waiting.slice(0, index), item, ...waiting.slice(index)];
}
