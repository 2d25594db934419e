/** Public shapes of the local durable engine, as the management API and the durable client see them. */

export type RuntimeStatus = 'Pending' | 'Running' | 'Completed' | 'ContinuedAsNew' | 'Failed' | 'Terminated' | 'Suspended';

export const terminalStatuses: readonly RuntimeStatus[] = ['Completed', 'Failed', 'Terminated'];

/** One history event in the PascalCase form that `durable-functions` reads. */
export interface HistoryEvent {
  EventType: number;
  EventId: number;
  IsPlayed: boolean;
  Timestamp: string;
  [property: string]: unknown;
}

export interface InstanceStatus {
  name: string;
  instanceId: string;
  runtimeStatus: RuntimeStatus;
  input: unknown;
  output: unknown;
  customStatus: unknown;
  createdTime: string;
  lastUpdatedTime: string;
  /** History in the documented management API form (camelCase), present when requested. */
  historyEvents?: Record<string, unknown>[];
}

export interface StatusOptions {
  showHistory?: boolean;
  showHistoryOutput?: boolean;
  showInput?: boolean;
}

export interface ListFilter {
  runtimeStatus?: RuntimeStatus[];
  createdTimeFrom?: Date;
  createdTimeTo?: Date;
  instanceIdPrefix?: string;
  /** Page size; all matching instances when absent. */
  top?: number;
  continuationToken?: string;
  showInput?: boolean;
}

export interface ListPage {
  instances: InstanceStatus[];
  /** Token for the next page, absent on the last page. */
  continuationToken?: string;
}

export interface EntityListFilter {
  /** Page size; all matching entities when absent. */
  top?: number;
  continuationToken?: string;
  lastOperationTimeFrom?: Date;
  lastOperationTimeTo?: Date;
  fetchState?: boolean;
}

export interface EntityListPage {
  entities: { entityId: { name: string; key: string }; lastOperationTime: string; state?: unknown }[];
  continuationToken?: string;
}

export type StartResult = { created: true; instanceId: string } | { created: false; instanceId: string; reason: string };

export interface EntityStateResult {
  exists: boolean;
  state: unknown;
}

/** Operations of the durable engine that the management API calls. */
export interface DurableEngineApi {
  readonly taskHubName: string;
  hasOrchestration(name: string): boolean;
  hasEntity(name: string): boolean;
  /**
   * Creates an instance atomically. An existing instance id in a non-terminal state is
   * not replaced (`created: false`); a terminal one is replaced, as Durable Functions does.
   */
  startOrchestration(name: string, instanceId: string | undefined, input: unknown): Promise<StartResult>;
  /** Resolves once every change committed so far is on disk. Await it before acknowledging a change. */
  durable(): Promise<void>;
  getStatus(instanceId: string, options?: StatusOptions): InstanceStatus | undefined;
  listInstances(filter: ListFilter): ListPage;
  /** Returns false when the instance does not exist or is in a terminal state. */
  raiseEvent(instanceId: string, eventName: string, data: unknown): 'raised' | 'notFound' | 'notRunning';
  terminate(instanceId: string, reason: string): 'terminated' | 'notFound' | 'notRunning';
  suspend(instanceId: string, reason: string): 'suspended' | 'notFound' | 'notRunning';
  resume(instanceId: string, reason: string): 'resumed' | 'notFound' | 'notSuspended';
  /**
   * Runs the task whose failure failed the instance again, recursively into a failed
   * sub-orchestration, and lets the instance continue. Throws `RewindNotPossibleError` when the
   * failure cannot be rewound.
   */
  rewind(instanceId: string, reason: string): 'rewound' | 'notFound' | 'notFailed';
  /** Deletes the instance and its history; returns the number of instances deleted (0 or 1). */
  purgeInstance(instanceId: string): number;
  purgeInstances(filter: { createdTimeFrom?: Date; createdTimeTo?: Date; runtimeStatus?: RuntimeStatus[] }): number;
  signalEntity(name: string, key: string, operation: string, input: unknown): void;
  readEntity(name: string, key: string): EntityStateResult;
  /** Lists the existing entities of one entity function, or of all when `name` is undefined, in id order, one page at a time. */
  listEntities(name: string | undefined, filter: EntityListFilter): EntityListPage;
  /** Resolves when the instance reaches a terminal status or the timeout passes. */
  waitForCompletion(instanceId: string, timeoutInMilliseconds: number): Promise<InstanceStatus | undefined>;
}

/** Raised when a failed instance cannot be rewound. The message states why and what to do instead. */
export class RewindNotPossibleError extends Error {
  override name = 'RewindNotPossibleError';
}
