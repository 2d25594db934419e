import { DestinationAgents } from './destinationAgents';
import { DestinationLimits } from './destinationLimits';
import { OAuthTokenCache } from './oauthTokenCache';

/**
 * The state that delivery attempts share on one host instance: the connection pools of the
 * destinations, their OAuth access tokens and their concurrency and rate limits.
 */
export class OutboundClient {
  readonly agents = new DestinationAgents();
  readonly tokens = new OAuthTokenCache();
  readonly limits = new DestinationLimits();
  /** Receives each access token fetched, so that logs and errors can scrub it. */
  readonly onAccessToken?: (accessToken: string) => void;

  constructor(options: { onAccessToken?: (accessToken: string) => void } = {}) {
    this.onAccessToken = options.onAccessToken;
  }

  /** Closes every connection pool. */
  close(): Promise<void> {
    return this.agents.close();
  }
}
