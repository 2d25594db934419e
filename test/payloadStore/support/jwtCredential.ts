import type { AzureCredential } from '../../../lib/secrets/azureCredential';

/** A credential whose `getToken` returns one fixed token and records the scopes of each call. */
export interface FixedTokenCredential extends AzureCredential {
  token: string;
  tokenRequests: string[][];
}

/**
 * Returns an unsigned JWT with the claims that Azurite's `--oauth basic` checks: an Entra ID
 * issuer, the storage audience and a lifetime from one minute before `issuedAtInSeconds` to
 * `lifetimeInSeconds` after it. Azurite does not check the signature, so it is a placeholder.
 */
export function createTestJwt(issuedAtInSeconds: number, lifetimeInSeconds: number): string {
  const encode = (value: object): string => Buffer.from(JSON.stringify(value)).toString('base64url');
  const header = { alg: 'HS256', typ: 'JWT' };
  const claims = {
    aud: 'https://storage.azure.com',
    iss: 'https://sts.windows.net/00000000-0000-0000-0000-000000000000/',
    iat: issuedAtInSeconds,
    nbf: issuedAtInSeconds - 60,
    exp: issuedAtInSeconds + lifetimeInSeconds,
    oid: '11111111-2222-3333-4444-555555555555',
  };
  return `${encode(header)}.${encode(claims)}.${Buffer.from('test-signature').toString('base64url')}`;
}

/** Returns a credential whose `getToken` always returns `token`, reported as valid for one hour. */
export function createFixedTokenCredential(token: string): FixedTokenCredential {
  const tokenRequests: string[][] = [];
  return {
    token,
    tokenRequests,
    getToken: async (scopes) => {
      tokenRequests.push(Array.isArray(scopes) ? scopes : [scopes]);
      return { token, expiresOnTimestamp: Date.now() + 3_600_000 };
    },
  };
}
