/** Types of the lifecycle events that the connector publishes, as CloudEvents 1.0 `type` values. */
export type LifecycleEventType = 'message.received' | 'message.delivered' | 'message.stale' | 'message.deadlettered' | 'message.replayed';

/** One lifecycle event of a message. It carries ids and reasons, never payloads or secrets. */
export interface LifecycleEvent {
  type: LifecycleEventType;
  messageId: string;
  connectorId: string;
  /** ISO 8601 UTC time of the step the event reports. */
  time: string;
  /**
   * Distinguishes repeated events of one type for one message, such as the replay's message id of
   * `message.replayed`. Absent when the type happens once per message or per destination.
   */
  key?: string;
  /** Event details, such as the destination id and the reason of a dead letter. */
  data: Record<string, unknown>;
}

/** Sends lifecycle events to a topic. An implementation logs a rejected event instead of throwing. */
export interface EventPublisher {
  publish(event: LifecycleEvent): Promise<void>;
}
