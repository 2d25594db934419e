import type { IncomingMessage } from 'node:http';
import { keyMatches } from '../keys';
import { problemType, type Problem } from './problem';

/** Auth levels of HTTP triggers. The local host accepts its one key for `function` and `admin`. */
export type AuthLevel = 'anonymous' | 'function' | 'admin';

const authLevels: readonly AuthLevel[] = ['anonymous', 'function', 'admin'];

/** Reads the `authLevel` of an HTTP trigger binding, which `@azure/functions` defaults to anonymous. */
export function parseAuthLevel(value: unknown, functionName: string): AuthLevel {
  if (value === undefined) {
    return 'anonymous';
  }
  const level = typeof value === 'string' ? value.toLowerCase() : value;
  if (!authLevels.includes(level as AuthLevel)) {
    throw new Error(`Function "${functionName}" has authLevel ${JSON.stringify(value)}, but the local host supports ${authLevels.join(', ')}.`);
  }
  return level as AuthLevel;
}

/**
 * Returns the key that a request presents: the `x-functions-key` header when present, otherwise
 * the `code` query parameter, as in Azure Functions.
 */
export function readPresentedKey(req: Pick<IncomingMessage, 'headers'>, url: URL): string | undefined {
  const header = req.headers['x-functions-key'];
  if (typeof header === 'string') {
    return header;
  }
  return url.searchParams.get('code') ?? undefined;
}

/** Returns whether the request may call a function of `authLevel`. */
export function isAuthorized(authLevel: AuthLevel, req: IncomingMessage, url: URL, hostKey: string): boolean {
  return authLevel === 'anonymous' || keyMatches(readPresentedKey(req, url), hostKey);
}

/** Builds the 401 problem for a request to `protectedTarget`, such as a function, without the host key. */
export function unauthorizedProblem(protectedTarget: string): Problem {
  return {
    status: 401,
    type: problemType('unauthorized'),
    title: 'Missing or invalid key',
    detail: `${protectedTarget} requires a key. Send the host key in the x-functions-key header or the code query parameter. The key is LOCAL_FUNCTION_KEY, or the hostKey in the key file whose path the host prints at start.`,
  };
}
