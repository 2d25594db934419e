import http from 'node:http';
import type { DestinationConfig } from '../config/types';
import { errorMessageOf } from '../errors';
import { checkDestinationAddress, hostnameOf, type LookupAddresses } from '../network/addressGuard';
import { AttemptFailure, type DeliveryOutcome } from './attemptFailure';
import { readDestinationTlsOptions } from './clientCertificate';
import { readSigningKey } from './destinationSecrets';
import { OutboundAuthorization } from './outboundAuth';
import type { OutboundClient } from './outboundClient';
import { attemptHeaders } from './outboundHeaders';
import { countRedirects, describeLocation, displayUrl, isFollowedRedirect, nextRedirectUrl } from './redirects';
import { parseRetryAfter } from './retryAfter';
import { sendRequest, type OutboundResponse } from './sendRequest';
import { traceparentOf } from './traceparent';
import { describeTransportError, type TimeoutSettings } from './transportErrors';
import { webhookSigningHeaders } from './webhookSigning';

export type { DeliveryOutcome } from './attemptFailure';

export interface DeliveryRequest {
  connectorId: string;
  destination: DestinationConfig;
  messageId: string;
  body: Uint8Array;
  /** Sent as the `Content-Type` header. */
  contentType: string;
  /** Sent as `Idempotency-Key` and `webhook-id`. The same on every attempt of one delivery. */
  idempotencyKey: string;
  /** 1 for the first attempt, sent as `X-Delivery-Attempt`. */
  attemptNumber: number;
  /** The message's W3C `traceparent`, if it has one. */
  traceparent?: string;
  /** The partner's headers kept at ingest, by lower-case name. */
  forwardedHeaders?: Record<string, string>;
}

/** Dependencies of an attempt: the shared client state, the secret store, the clock and DNS. */
export interface DeliveryContext {
  outbound: OutboundClient;
  readSecret: (secretRef: string) => string | undefined;
  clock: () => Date;
  lookupAddresses: LookupAddresses;
}

export interface DeliveryResult {
  outcome: DeliveryOutcome;
  /** Present when the destination responded. */
  statusCode?: number;
  /** Present when the attempt failed: the network error, the timeout, the status or the blocked address. */
  error?: string;
  /** The target's `Retry-After` as a wait from the end of the attempt, not clamped. */
  retryAfterInMilliseconds?: number;
  /** True when the target responded 410 Gone. */
  disablesDestination?: boolean;
  durationInMilliseconds: number;
  /** Up to `responseBodyStartBytes` of the response body, decoded as UTF-8. */
  responseBodyStart: string;
  /** URL of the attempt's last request, without user info and query. */
  finalUrl: string;
  /** 307 and 308 redirects followed. */
  redirectCount: number;
}

/** How far an attempt got, for the error of a timeout and for the result. */
interface AttemptProgress {
  step: string;
  url: URL;
  redirectCount: number;
}

/**
 * Makes one delivery attempt to a destination and classifies it. 2xx is delivered. 408, 429,
 * 5xx, network errors and timeouts are retryable. 410 is permanent and disables the destination.
 * Any other status is permanent, and so is a redirect other than 307 and 308, which is not
 * followed. `timeoutInMilliseconds` covers the whole attempt: the wait for the destination's
 * limits, the OAuth token request, every redirect hop and reading the start of the body. A
 * failed attempt is returned, not thrown.
 */
export async function deliverOnce(request: DeliveryRequest, context: DeliveryContext): Promise<DeliveryResult> {
  const { destination } = request;
  const startedAt = performance.now();
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(new Error('attempt timeout')), destination.timeoutInMilliseconds);
  const progress: AttemptProgress = { step: 'preparing the request', url: new URL(destination.url), redirectCount: 0 };

  const finish = (fields: Omit<DeliveryResult, 'durationInMilliseconds' | 'finalUrl' | 'redirectCount' | 'responseBodyStart'> & { responseBodyStart?: string }): DeliveryResult => ({
    responseBodyStart: '',
    ...fields,
    durationInMilliseconds: Math.round(performance.now() - startedAt),
    finalUrl: displayUrl(progress.url),
    redirectCount: progress.redirectCount,
  });

  try {
    return finish(await runAttempt(request, context, controller.signal, startedAt + destination.timeoutInMilliseconds, progress));
  } catch (error) {
    if (error instanceof AttemptFailure) {
      return finish({ outcome: error.outcome, error: withRedirects(error.message, progress) });
    }
    if (controller.signal.aborted) {
      const message = `attempt timeout: timeoutInMilliseconds ${destination.timeoutInMilliseconds} ms elapsed while ${progress.step}`;
      return finish({ outcome: 'retryable', error: withRedirects(message, progress) });
    }
    return finish({ outcome: 'retryable', error: withRedirects(describeTransportError(error, timeoutsOf(destination)), progress) });
  } finally {
    clearTimeout(timer);
  }
}

type AttemptOutcome = Omit<DeliveryResult, 'durationInMilliseconds' | 'finalUrl' | 'redirectCount'>;

/**
 * Waits for the destination's limits, then sends the request and each 307 or 308 hop, every one
 * after an address check and with fresh authentication and signing headers. A 401 with an OAuth
 * token is repeated once with a new token. Throws an AttemptFailure, an undici error, or the
 * signal's reason when the attempt's time is up.
 */
async function runAttempt(
  request: DeliveryRequest,
  context: DeliveryContext,
  signal: AbortSignal,
  deadlineInMilliseconds: number,
  progress: AttemptProgress,
): Promise<AttemptOutcome> {
  const { destination } = request;
  const destinationKey = `${request.connectorId}/${destination.id}`;
  const tlsOptions = readDestinationTlsOptions(destination, context.readSecret);
  const signingKey = readSigningKey(destination, context.readSecret);
  const timeouts = timeoutsOf(destination);
  const { agent, pinAddresses } = context.outbound.agents.agentFor(destinationKey, {
    connectTimeoutInMilliseconds: destination.connectTimeoutInMilliseconds,
    tls: tlsOptions.options,
    fingerprint: tlsOptions.fingerprint,
  });

  const checkUrl = (url: URL): Promise<void> => checkAndPinAddress(url, destination, context.lookupAddresses, pinAddresses, progress);

  progress.step = 'waiting for the destination limits (maxConcurrentRequests and rateLimit)';
  const release = await context.outbound.limits.acquire(destinationKey, destination, signal, deadlineInMilliseconds);
  try {
    const authorization = new OutboundAuthorization(destination, {
      readSecret: context.readSecret,
      clock: context.clock,
      tokens: context.outbound.tokens,
      tokenRequest: {
        dispatcher: agent,
        signal,
        timeouts,
        checkUrl: async (url) => {
          await checkUrl(url);
          progress.step = `waiting for the OAuth token response from ${displayUrl(url)}`;
        },
      },
      onAccessToken: context.outbound.onAccessToken,
    });
    const headers = attemptHeaders(destination, {
      contentType: request.contentType,
      idempotencyKey: request.idempotencyKey,
      attemptNumber: request.attemptNumber,
      traceparent: traceparentOf(request.traceparent, request.messageId, destination.id, request.attemptNumber),
      forwardedHeaders: request.forwardedHeaders,
    });

    for (;;) {
      await checkUrl(progress.url);
      const authenticationHeaders = await authorization.headers();
      const signingHeaders = signingKey === undefined ? {} : webhookSigningHeaders(signingKey, request.idempotencyKey, context.clock(), request.body);
      progress.step = `waiting for the response from ${displayUrl(progress.url)}`;
      const response = await sendRequest(
        { url: progress.url, method: destination.method, headers: { ...headers, ...authenticationHeaders, ...signingHeaders }, body: request.body },
        { dispatcher: agent, signal, headersTimeoutInMilliseconds: destination.headersTimeoutInMilliseconds, responseBodyStartBytes: destination.responseBodyStartBytes },
      );

      if (response.statusCode === 401 && authorization.canRenew) {
        authorization.discardAccessToken();
        continue;
      }
      if (isFollowedRedirect(response.statusCode)) {
        progress.url = nextRedirectUrl(response.statusCode, headerOf(response, 'location'), progress.url, progress.redirectCount, destination.maxRedirects);
        progress.redirectCount += 1;
        continue;
      }
      return classifyResponse(response, progress.url, context.clock);
    }
  } finally {
    release();
  }
}

/**
 * Checks the addresses of `url`'s host with the address guard and pins them for the connection.
 * Throws a permanent AttemptFailure when an address is blocked, and a retryable one when the
 * lookup fails.
 */
async function checkAndPinAddress(
  url: URL,
  destination: DestinationConfig,
  lookupAddresses: LookupAddresses,
  pinAddresses: (hostname: string, addresses: readonly string[]) => void,
  progress: AttemptProgress,
): Promise<void> {
  progress.step = `checking the address of ${url.hostname}`;
  let check;
  try {
    check = await checkDestinationAddress(url.href, destination.allowedPrivateRanges, lookupAddresses);
  } catch (error) {
    throw new AttemptFailure('retryable', `address lookup of ${url.hostname} failed: ${errorMessageOf(error)}`, { cause: error });
  }
  if (!check.allowed) {
    throw new AttemptFailure('permanent', `blocked: ${check.reason}`);
  }
  pinAddresses(hostnameOf(url.href), check.addresses);
}

/** Classifies a final response that is not a followed redirect. */
function classifyResponse(response: OutboundResponse, url: URL, clock: () => Date): AttemptOutcome {
  const { statusCode } = response;
  const responseBodyStart = new TextDecoder('utf-8').decode(response.bodyStart);
  const outcome = classifyStatus(statusCode);
  if (outcome === 'delivered') {
    return { outcome, statusCode, responseBodyStart };
  }

  const result: AttemptOutcome = { outcome, statusCode, responseBodyStart, error: describeStatus(statusCode) };
  if (statusCode >= 300 && statusCode < 400) {
    result.error = `${describeStatus(statusCode)}: only 307 and 308 redirects are followed (${describeLocation(headerOf(response, 'location'), url)})`;
  }
  if (statusCode === 410) {
    result.disablesDestination = true;
  }
  const retryAfterInMilliseconds = parseRetryAfter(headerOf(response, 'retry-after'), clock());
  if (retryAfterInMilliseconds !== undefined) {
    result.retryAfterInMilliseconds = retryAfterInMilliseconds;
  }
  return result;
}

/** Classifies an HTTP status code of a destination's final response. */
export function classifyStatus(statusCode: number): DeliveryOutcome {
  if (statusCode >= 200 && statusCode < 300) {
    return 'delivered';
  }
  if (statusCode === 408 || statusCode === 429 || statusCode >= 500) {
    return 'retryable';
  }
  return 'permanent';
}

function describeStatus(statusCode: number): string {
  const reason = http.STATUS_CODES[statusCode];
  return reason === undefined ? `HTTP ${statusCode}` : `HTTP ${statusCode} ${reason}`;
}

function headerOf(response: OutboundResponse, name: string): string | undefined {
  const value = response.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

function timeoutsOf(destination: DestinationConfig): TimeoutSettings {
  return { connectTimeoutInMilliseconds: destination.connectTimeoutInMilliseconds, headersTimeoutInMilliseconds: destination.headersTimeoutInMilliseconds };
}

function withRedirects(message: string, progress: AttemptProgress): string {
  if (progress.redirectCount === 0) {
    return message;
  }
  return `${message} (after ${countRedirects(progress.redirectCount)}, at ${displayUrl(progress.url)})`;
}
