/** Entity ids as `durable-functions` writes them in actions: `@name@key`, the name lowercased. */
export function parseEntityId(entityId: string): { name: string; key: string } {
  const match = /^@([^@]*)@(.*)$/s.exec(entityId);
  if (!match) {
    throw new Error(`Entity id "${entityId}" is not in the form @name@key.`);
  }
  return { name: match[1], key: match[2] };
}

export function formatEntityId(name: string, key: string): string {
  return `@${name.toLowerCase()}@${key}`;
}

/** Result of one operation in an entity function's batch result. */
export interface OperationResult {
  isError: boolean;
  result?: string;
}

export interface EntityBatchResult {
  results: OperationResult[];
  signals: { target: { name: string; key: string }; name: string; input?: string }[];
  entityExists: boolean;
  entityState?: string;
}
