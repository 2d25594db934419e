import type { KeyVaultCredential } from '../../../lib/secrets/keyVaultSecretStore';

export const testAccessToken = 'test-access-token-for-loopback-servers';

/** Returns a credential whose `getToken` returns `testAccessToken`, valid for one hour, and records the scopes of each call. */
export function createFixedTokenCredential(): KeyVaultCredential & { tokenRequests: string[][] } {
  const tokenRequests: string[][] = [];
  return {
    tokenRequests,
    getToken: async (scopes) => {
      tokenRequests.push(Array.isArray(scopes) ? scopes : [scopes]);
      return { token: testAccessToken, expiresOnTimestamp: Date.now() + 3_600_000 };
    },
  };
}

/** Returns a credential whose `getToken` never settles, like one that waits for an unreachable identity endpoint. */
export function createNeverResolvingCredential(): KeyVaultCredential {
  return {
    getToken: () => new Promise(() => undefined),
  };
}
