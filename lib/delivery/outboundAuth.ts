import type { DestinationConfig } from '../config/types';
import { requireDestinationSecret } from './destinationSecrets';
import { OAuthTokenCache } from './oauthTokenCache';
import { requestAccessToken, type TokenRequestContext } from './oauthTokenRequest';

export interface OutboundAuthContext {
  readSecret: (secretRef: string) => string | undefined;
  clock: () => Date;
  tokens: OAuthTokenCache;
  tokenRequest: TokenRequestContext;
  /** Receives each access token fetched, so that it can be scrubbed from logs. */
  onAccessToken?: (accessToken: string) => void;
}

/**
 * The credentials of one attempt to a destination: a bearer token, an API key header, HTTP Basic
 * or an OAuth 2.0 access token from the client credentials grant. An OAuth token that the target
 * rejects with 401 can be renewed once per attempt.
 */
export class OutboundAuthorization {
  readonly #destination: DestinationConfig;
  readonly #context: OutboundAuthContext;
  #accessToken: string | undefined;
  #renewed = false;

  constructor(destination: DestinationConfig, context: OutboundAuthContext) {
    this.#destination = destination;
    this.#context = context;
  }

  /** True when a 401 from the target is worth one more request with a new access token. */
  get canRenew(): boolean {
    return this.#destination.auth?.type === 'oauth2-client-credentials' && !this.#renewed;
  }

  /**
   * Returns the authentication header of the destination, none without `auth`. Throws a retryable
   * AttemptFailure when the secret setting is not set or the token request fails.
   */
  async headers(): Promise<Record<string, string>> {
    const auth = this.#destination.auth;
    if (auth === undefined) {
      return {};
    }
    const secret = requireDestinationSecret(this.#destination, auth.secretRef, 'auth.secretRef', this.#context.readSecret);

    switch (auth.type) {
      case 'bearer':
        return { authorization: `Bearer ${secret}` };
      case 'api-key':
        return { [auth.header.toLowerCase()]: secret };
      case 'basic':
        return { authorization: `Basic ${Buffer.from(`${auth.username}:${secret}`, 'utf8').toString('base64')}` };
      case 'oauth2-client-credentials': {
        const key = OAuthTokenCache.keyOf(auth.tokenUrl, auth.clientId, auth.scope);
        this.#accessToken = await this.#context.tokens.getToken(key, this.#context.clock, async () => {
          const issued = await requestAccessToken(
            { tokenUrl: auth.tokenUrl, clientId: auth.clientId, clientSecret: secret, scope: auth.scope },
            this.#context.tokenRequest,
          );
          this.#context.onAccessToken?.(issued.accessToken);
          return issued;
        });
        return { authorization: `Bearer ${this.#accessToken}` };
      }
    }
  }

  /** Drops the access token that the target rejected, so that the next `headers()` fetches a new one. */
  discardAccessToken(): void {
    const auth = this.#destination.auth;
    if (auth?.type !== 'oauth2-client-credentials' || this.#accessToken === undefined) {
      return;
    }
    this.#renewed = true;
    this.#context.tokens.discard(OAuthTokenCache.keyOf(auth.tokenUrl, auth.clientId, auth.scope), this.#accessToken);
  }
}
