import type { AxiosStatic } from 'axios';
import type { DurableClientAxiosLookup } from '../../local/management/inProcessClientAdapter';

/** Returns the axios module that a lookup found, and fails the test when it found none. */
export function requireFoundAxios(lookup: DurableClientAxiosLookup): AxiosStatic {
  if (!lookup.found) {
    throw new Error(`The axios of durable-functions was not found: ${lookup.reason}.`);
  }
  return lookup.axios as unknown as AxiosStatic;
}
