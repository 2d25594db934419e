import net from 'node:net';
import type tls from 'node:tls';
import { Agent } from 'undici';

/** Time an idle kept-alive connection to a destination stays open. */
const keepAliveTimeoutInMilliseconds = 4_000;

export interface DestinationAgentOptions {
  connectTimeoutInMilliseconds: number;
  tls: tls.ConnectionOptions;
  /** Changes when the TLS material changes, which replaces the agent. */
  fingerprint: string;
}

/** The connection pool of one destination, and the host addresses it may connect to. */
export interface DestinationAgent {
  agent: Agent;
  /**
   * Sets the addresses that connections to `hostname` use: the ones the address guard just
   * checked. The agent resolves no host name itself, so a DNS answer that changes after the
   * check is never used.
   */
  pinAddresses(hostname: string, addresses: readonly string[]): void;
}

interface AgentEntry extends DestinationAgent {
  fingerprint: string;
}

/**
 * undici agents by destination, kept across attempts so that connections are reused. An agent is
 * replaced, and the old one closed, when the destination's TLS material or connect timeout changes.
 */
export class DestinationAgents {
  readonly #entries = new Map<string, AgentEntry>();

  /** Returns the agent of the destination `key`, creating it on first use. */
  agentFor(key: string, options: DestinationAgentOptions): DestinationAgent {
    const fingerprint = `${options.fingerprint}:${options.connectTimeoutInMilliseconds}`;
    const existing = this.#entries.get(key);
    if (existing !== undefined && existing.fingerprint === fingerprint) {
      return existing;
    }
    if (existing !== undefined) {
      void existing.agent.close().catch(() => undefined);
    }

    const pinnedAddresses = new Map<string, readonly string[]>();
    const agent = new Agent({
      keepAliveTimeout: keepAliveTimeoutInMilliseconds,
      connect: {
        ...options.tls,
        timeout: options.connectTimeoutInMilliseconds,
        lookup: createPinnedLookup(pinnedAddresses),
      },
    });
    const entry: AgentEntry = {
      agent,
      fingerprint,
      pinAddresses: (hostname, addresses) => pinnedAddresses.set(hostname.toLowerCase(), [...addresses]),
    };
    this.#entries.set(key, entry);
    return entry;
  }

  /** Closes every agent and its connections. */
  async close(): Promise<void> {
    const agents = [...this.#entries.values()].map((entry) => entry.agent);
    this.#entries.clear();
    await Promise.all(agents.map((agent) => agent.destroy()));
  }
}

/**
 * Builds a `lookup` for `net.connect` that returns only the addresses in `pinnedAddresses`. Node asks for
 * every address (`all: true`) when it tries the address families in turn, and for one otherwise.
 */
function createPinnedLookup(pinnedAddresses: ReadonlyMap<string, readonly string[]>): net.LookupFunction {
  return (hostname, options, callback) => {
    const addresses = pinnedAddresses.get(hostname.toLowerCase());
    if (addresses === undefined || addresses.length === 0) {
      const error = Object.assign(new Error(`host ${hostname} has no checked address to connect to`), { code: 'ENOTFOUND' });
      callback(error, '', 0);
      return;
    }

    const entries = addresses.map((address) => ({ address, family: net.isIPv6(address) ? 6 : 4 }));
    if (options.all === true) {
      (callback as unknown as (error: null, addresses: Array<{ address: string; family: number }>) => void)(null, entries);
      return;
    }
    callback(null, entries[0].address, entries[0].family);
  };
}
