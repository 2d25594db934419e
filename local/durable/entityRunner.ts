import { randomUUID } from 'node:crypto';
import type { EngineContext } from './engineContext';
import { formatEntityId, parseEntityId, type EntityBatchResult } from './entityBatch';
import { EventType, historyEvent, toFailureDetails } from './historyEvents';
import { KeyedWorkQueue } from './keyedWorkQueue';
import type { EntityRequestRow } from './store';

/** Largest number of queued operations one entity runs in one batch. */
const maxEntityBatchSize = 100;

/**
 * Runs entity operations in batches, one batch per entity at a time, in the order they were
 * queued. Each batch's new state, its responses to calling orchestrations and its signals
 * commit in one transaction.
 */
export class EntityRunner {
  readonly #context: EngineContext;
  readonly #queue: KeyedWorkQueue;

  constructor(context: EngineContext, maxConcurrent: number, onSettled: () => void) {
    this.#context = context;
    this.#queue = new KeyedWorkQueue(
      maxConcurrent,
      (entityId) =>
        this.#runBatch(entityId).catch((error: unknown) => context.logger.error({ entityId, err: error }, 'entity batch failed in the engine')),
      onSettled,
    );
  }

  get runningCount(): number {
    return this.#queue.runningCount;
  }

  kick(entityId: string): void {
    this.#queue.kick(entityId);
  }

  /** Runs the entity once the current transaction has committed. */
  kickSoon(entityId: string): void {
    setImmediate(() => this.#queue.kick(entityId));
  }

  stop(): void {
    this.#queue.stop();
  }

  async #runBatch(entityId: string): Promise<void> {
    const { store, logger } = this.#context;
    const requests = store.statements.entityRequests.all(entityId, maxEntityBatchSize);
    if (requests.length === 0) {
      return;
    }
    const { name, key } = parseEntityId(entityId);
    const fn = this.#context.findFunction(name, 'entityTrigger');
    const startedAt = performance.now();
    const batchResult = await this.#invokeBatch(entityId, requests);
    logger.info(
      { functionName: fn?.name ?? name, triggerType: 'entityTrigger', entityId, operations: requests.length, durationInMilliseconds: Math.round(performance.now() - startedAt) },
      'entity batch finished',
    );

    const now = this.#context.clock.nowInMilliseconds();
    store.db.transaction(() => {
      store.statements.upsertEntity.run({
        entity_id: entityId,
        name,
        key,
        state: batchResult.entityExists ? (batchResult.entityState ?? null) : null,
        entity_exists: batchResult.entityExists ? 1 : 0,
        last_modified_at: now,
      });
      store.statements.deleteEntityRequestsUpTo.run(entityId, requests[requests.length - 1].id);
      requests.forEach((request, index) => {
        if (request.is_signal === 1 || !request.parent_instance_id) {
          return;
        }
        const operationResult = batchResult.results[index] ?? { isError: true, result: JSON.stringify('The entity returned no result for this operation.') };
        const response = operationResult.isError
          ? { exceptionType: 'Error', result: entityErrorText(operationResult.result, request.operation, entityId) }
          : { result: operationResult.result };
        store.insertInbox(
          request.parent_instance_id,
          request.parent_execution_id,
          historyEvent(EventType.EventRaised, now, { Name: request.request_id, Input: JSON.stringify(response) }),
          now,
        );
        this.#context.kickInstanceSoon(request.parent_instance_id);
      });
      for (const signal of batchResult.signals) {
        const targetId = formatEntityId(signal.target.name, signal.target.key);
        store.statements.insertEntityRequest.run({
          entity_id: targetId,
          operation: signal.name,
          input: signal.input || null,
          is_signal: 1,
          request_id: randomUUID(),
          parent_instance_id: null,
          parent_execution_id: null,
        });
        this.kickSoon(targetId);
      }
    })();
    if (requests.length === maxEntityBatchSize) {
      this.#queue.kick(entityId);
    }
  }

  async #invokeBatch(entityId: string, requests: EntityRequestRow[]): Promise<EntityBatchResult> {
    const { name, key } = parseEntityId(entityId);
    const entity = this.#context.store.statements.getEntity.get(entityId);
    const fn = this.#context.findFunction(name, 'entityTrigger');
    if (!fn) {
      const message = `Entity function "${name}" is not registered by the app. Register it with df.app.entity("${name}", ...).`;
      return { results: requests.map(() => ({ isError: true, result: JSON.stringify(message) })), signals: [], entityExists: false };
    }
    const triggerInput = {
      self: { name, key },
      exists: entity ? entity.entity_exists === 1 : false,
      state: entity?.state ?? undefined,
      batch: requests.map((request) => ({ id: request.request_id, name: request.operation, input: request.input ?? undefined, isSignal: request.is_signal === 1 })),
    };
    try {
      const { result } = await this.#context.invoker.invoke(fn, { triggerData: { string: JSON.stringify(triggerInput) } });
      return result as EntityBatchResult;
    } catch (error) {
      const message = `Entity "${entityId}" failed: ${toFailureDetails(error).ErrorMessage}`;
      return {
        results: requests.map(() => ({ isError: true, result: JSON.stringify(message) })),
        signals: [],
        entityExists: triggerInput.exists,
        entityState: triggerInput.state,
      };
    }
  }
}

/**
 * Returns the JSON text of an operation's error message. `durable-functions` serializes a thrown
 * Error as "{}", which carries no message, so that case gets one naming the operation.
 */
function entityErrorText(result: string | undefined, operation: string, entityId: string): string {
  if (!result || result === '{}') {
    return JSON.stringify(`Operation "${operation}" on entity "${entityId}" failed.`);
  }
  return result;
}
