import type Database from 'better-sqlite3';
import type { HistoryEvent, RuntimeStatus } from './types';

export interface InstanceRow {
  instance_id: string;
  execution_id: string;
  name: string;
  runtime_status: RuntimeStatus;
  input: string | null;
  output: string | null;
  custom_status: string | null;
  created_at: number;
  last_updated_at: number;
  parent_instance_id: string | null;
  parent_execution_id: string | null;
  parent_task_id: number | null;
  engine_state: string;
}

export interface InboxRow {
  id: number;
  instance_id: string;
  execution_id: string | null;
  event: string;
  visible_at: number;
}

export interface ActivityRow {
  id: number;
  instance_id: string;
  execution_id: string;
  task_id: number;
  name: string;
  input: string | null;
}

export interface EntityRow {
  entity_id: string;
  name: string;
  key: string;
  state: string | null;
  entity_exists: number;
  last_modified_at: number;
}

export interface EntityRequestRow {
  id: number;
  entity_id: string;
  operation: string;
  input: string | null;
  is_signal: number;
  request_id: string;
  parent_instance_id: string | null;
  parent_execution_id: string | null;
}

/** Prepared statements of the durable engine, one place for its SQL. */
export class EngineStore {
  readonly db: Database.Database;
  readonly #statements;

  constructor(db: Database.Database) {
    this.db = db;
    this.#statements = {
      getInstance: db.prepare<[string], InstanceRow>('SELECT * FROM instances WHERE instance_id = ?'),
      insertInstance: db.prepare(
        `INSERT INTO instances (instance_id, execution_id, name, runtime_status, input, output, custom_status, created_at, last_updated_at,
           parent_instance_id, parent_execution_id, parent_task_id, engine_state)
         VALUES (@instance_id, @execution_id, @name, @runtime_status, @input, NULL, NULL, @created_at, @created_at,
           @parent_instance_id, @parent_execution_id, @parent_task_id, '{}')`,
      ),
      updateInstance: db.prepare(
        `UPDATE instances SET execution_id = @execution_id, runtime_status = @runtime_status, input = @input, output = @output,
           custom_status = @custom_status, last_updated_at = @last_updated_at, engine_state = @engine_state
         WHERE instance_id = @instance_id`,
      ),
      setStatus: db.prepare('UPDATE instances SET runtime_status = ?, output = ?, last_updated_at = ? WHERE instance_id = ?'),
      deleteInstance: db.prepare('DELETE FROM instances WHERE instance_id = ?'),
      getHistory: db.prepare<[string], { event: string }>('SELECT event FROM history WHERE instance_id = ? ORDER BY position'),
      countHistory: db.prepare<[string], { count: number }>('SELECT COUNT(*) AS count FROM history WHERE instance_id = ?'),
      insertHistory: db.prepare('INSERT INTO history (instance_id, position, event) VALUES (?, ?, ?)'),
      deleteHistory: db.prepare('DELETE FROM history WHERE instance_id = ?'),
      getVisibleInbox: db.prepare<[string, number], InboxRow>('SELECT * FROM inbox WHERE instance_id = ? AND visible_at <= ? ORDER BY id'),
      insertInbox: db.prepare('INSERT INTO inbox (instance_id, execution_id, event, visible_at) VALUES (?, ?, ?, ?)'),
      deleteInboxRow: db.prepare('DELETE FROM inbox WHERE id = ?'),
      deleteInbox: db.prepare('DELETE FROM inbox WHERE instance_id = ?'),
      instancesWithVisibleInbox: db.prepare<[number], { instance_id: string }>('SELECT DISTINCT instance_id FROM inbox WHERE visible_at <= ?'),
      nextInboxVisibleAt: db.prepare<[number], { at: number | null }>('SELECT MIN(visible_at) AS at FROM inbox WHERE visible_at > ?'),
      insertActivity: db.prepare('INSERT INTO activity_queue (instance_id, execution_id, task_id, name, input) VALUES (?, ?, ?, ?, ?)'),
      deleteActivity: db.prepare('DELETE FROM activity_queue WHERE id = ?'),
      deleteActivities: db.prepare('DELETE FROM activity_queue WHERE instance_id = ?'),
      allActivities: db.prepare<[], ActivityRow>('SELECT * FROM activity_queue ORDER BY id'),
      getEntity: db.prepare<[string], EntityRow>('SELECT * FROM entities WHERE entity_id = ?'),
      upsertEntity: db.prepare(
        `INSERT INTO entities (entity_id, name, key, state, entity_exists, last_modified_at) VALUES (@entity_id, @name, @key, @state, @entity_exists, @last_modified_at)
         ON CONFLICT (entity_id) DO UPDATE SET state = excluded.state, entity_exists = excluded.entity_exists, last_modified_at = excluded.last_modified_at`,
      ),
      insertEntityRequest: db.prepare(
        `INSERT INTO entity_queue (entity_id, operation, input, is_signal, request_id, parent_instance_id, parent_execution_id)
         VALUES (@entity_id, @operation, @input, @is_signal, @request_id, @parent_instance_id, @parent_execution_id)`,
      ),
      entityRequests: db.prepare<[string, number], EntityRequestRow>('SELECT * FROM entity_queue WHERE entity_id = ? ORDER BY id LIMIT ?'),
      deleteEntityRequestsUpTo: db.prepare('DELETE FROM entity_queue WHERE entity_id = ? AND id <= ?'),
      entitiesWithRequests: db.prepare<[], { entity_id: string }>('SELECT DISTINCT entity_id FROM entity_queue'),
    };
  }

  get statements() {
    return this.#statements;
  }

  getInstance(instanceId: string): InstanceRow | undefined {
    return this.#statements.getInstance.get(instanceId);
  }

  getHistory(instanceId: string): HistoryEvent[] {
    return this.#statements.getHistory.all(instanceId).map((row) => JSON.parse(row.event) as HistoryEvent);
  }

  appendHistory(instanceId: string, firstPosition: number, events: readonly HistoryEvent[]): void {
    let position = firstPosition;
    for (const event of events) {
      this.#statements.insertHistory.run(instanceId, position++, JSON.stringify({ ...event, IsPlayed: true }));
    }
  }

  insertInbox(instanceId: string, executionId: string | null, event: HistoryEvent, visibleAtInMilliseconds: number): void {
    this.#statements.insertInbox.run(instanceId, executionId, JSON.stringify(event), visibleAtInMilliseconds);
  }

  /** Removes an instance with its history, pending events and queued activities. */
  deleteInstanceData(instanceId: string): void {
    this.#statements.deleteHistory.run(instanceId);
    this.#statements.deleteInbox.run(instanceId);
    this.#statements.deleteActivities.run(instanceId);
    this.#statements.deleteInstance.run(instanceId);
  }
}
