import type { Expression } from 'jsonata';
import { PermanentError } from '../errors';

/**
 * Evaluates a compiled JSONata expression over a parsed payload. A runtime error of the
 * expression becomes a PermanentError, because the same payload fails the same way again.
 * `description` names the expression in the error, such as `transform of connector orders`.
 *
 * NOTE: JSONata has no time limit, so an expression that never ends blocks the activity.
 */
export async function evaluateExpression(expression: Expression, payload: unknown, description: string): Promise<unknown> {
  try {
    return await expression.evaluate(payload);
  } catch (error) {
    const { message, code, position } = error as { message?: string; code?: string; position?: number };
    const where = position === undefined ? '' : ` at position ${position}`;
    throw new PermanentError(
      `The ${description} failed with JSONata error ${code ?? 'unknown'}${where}: ${message ?? String(error)}. ` +
        'Correct the expression in the connectors file or the payload that the partner sends.',
      { cause: error },
    );
  }
}

/**
 * Converts a JSONata result into plain JSON data. JSONata marks sequences with extra
 * properties, which a JSON round trip removes.
 */
export function toJsonValue(result: unknown): unknown {
  if (result === undefined) {
    return undefined;
  }
  return JSON.parse(JSON.stringify(result)) as unknown;
}
