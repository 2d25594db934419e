/**
 * The request that the bench sends to the load process (`bench/load.ts`) for one load run, and its result.
 */

export interface LoadSpec {
  /** Ingest URL on 127.0.0.1. */
  url: string;
  /** Prefix of the bench message ids of this run; each id is `<runId>-<index>`. */
  runId: string;
  /**
   * `closed`: autocannon with `connections` connections, each sending its next request when the
   * response to the last one arrives. `open`: requests start on a fixed schedule of
   * `ratePerSecond`, whether or not earlier ones have had a response, over at most `connections`
   * sockets.
   */
  model: 'closed' | 'open';
  connections: number;
  ratePerSecond?: number;
  /** Count bound: no more requests than this are sent. */
  maxRequests: number;
  /** Time bound: no request starts after this many seconds; requests in flight then are still awaited. */
  durationInSeconds: number;
  /** Time a request may wait for its response before it counts as timed out. */
  requestTimeoutInSeconds: number;
  /** The statuses that count as accepted, such as [202] for the connector. */
  acceptedStatuses: number[];
  /** HMAC-SHA256 secret that signs every body. */
  secret: string;
}

export interface LoadResult {
  runId: string;
  model: 'closed' | 'open';
  connections: number;
  ratePerSecond: number | null;
  sent: number;
  accepted: number;
  /** Responses with a status not in `acceptedStatuses`. */
  rejected: number;
  statusCounts: Record<string, number>;
  /** Connection errors, which autocannon counts apart from the requests they hit. */
  errors: number;
  timeouts: number;
  /** Sent, and neither responded to nor counted as timed out when the load ended. */
  unanswered: number;
  /** Epoch milliseconds of the first request and of the last response. */
  firstSendAt: number;
  lastResponseAt: number;
  /** From the first request to the last response. */
  seconds: number;
  acceptedPerSecond: number;
  /** Time to the response of accepted requests. For the open model it counts from the scheduled start, so a queue in the load process adds to it. */
  latencyP50InMilliseconds: number | null;
  latencyP99InMilliseconds: number | null;
  /** Open model only: the largest delay between a request's scheduled start and its actual start in the load process. */
  maxStartDelayInMilliseconds: number | null;
  /** True when the hard time limit stopped the run, with requests still in flight. */
  hardLimitReached: boolean;
  /** Accepted bench message ids with the epoch milliseconds at which their 202 arrived, in the same order. */
  acceptedIds: string[];
  acceptedAt: number[];
  /** For the same ids, the epoch milliseconds at which each request was built (closed model) or scheduled (open model). */
  sentAt: number[];
}
