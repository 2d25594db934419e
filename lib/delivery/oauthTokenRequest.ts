import type { Dispatcher } from 'undici';
import { AttemptFailure } from './attemptFailure';
import type { IssuedToken } from './oauthTokenCache';
import { sendRequest } from './sendRequest';
import { describeTransportError, type TimeoutSettings } from './transportErrors';

/** Largest token response read. */
const maxTokenResponseBytes = 65_536;

export interface TokenRequest {
  tokenUrl: string;
  clientId: string;
  clientSecret: string;
  scope?: string;
}

export interface TokenRequestContext {
  dispatcher: Dispatcher;
  signal: AbortSignal;
  timeouts: TimeoutSettings;
  /** Checks the address of `url` and pins it for the connection. Throws an AttemptFailure when it is blocked. */
  checkUrl(url: URL): Promise<void>;
}

/**
 * Requests an access token with the OAuth 2.0 client credentials grant (RFC 6749 section 4.4).
 * The request is a form POST of `grant_type=client_credentials`, and of `scope` when set. The
 * client id and secret go in HTTP Basic authentication, each form-encoded first as section 2.3.1
 * requires. Throws a retryable AttemptFailure that names the token URL and the failure, and never
 * a credential.
 */
export async function requestAccessToken(request: TokenRequest, context: TokenRequestContext): Promise<IssuedToken> {
  const url = new URL(request.tokenUrl);
  await context.checkUrl(url);

  const form = new URLSearchParams({ grant_type: 'client_credentials' });
  if (request.scope !== undefined) {
    form.set('scope', request.scope);
  }
  const credentials = `${formEncode(request.clientId)}:${formEncode(request.clientSecret)}`;

  let statusCode: number;
  let body: Buffer;
  try {
    const response = await sendRequest(
      {
        url,
        method: 'POST',
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          accept: 'application/json',
          authorization: `Basic ${Buffer.from(credentials, 'utf8').toString('base64')}`,
        },
        body: Buffer.from(form.toString(), 'utf8'),
      },
      { dispatcher: context.dispatcher, signal: context.signal, headersTimeoutInMilliseconds: context.timeouts.headersTimeoutInMilliseconds, responseBodyStartBytes: maxTokenResponseBytes },
    );
    statusCode = response.statusCode;
    body = response.bodyStart;
  } catch (error) {
    if (error instanceof AttemptFailure || context.signal.aborted) {
      throw error;
    }
    throw tokenFailure(request.tokenUrl, describeTransportError(error, context.timeouts), error);
  }

  if (statusCode !== 200) {
    const errorCode = readErrorCode(body);
    throw tokenFailure(request.tokenUrl, `HTTP ${statusCode}${errorCode === undefined ? '' : ` with error "${errorCode}"`}`);
  }
  return parseTokenResponse(request.tokenUrl, body);
}

function parseTokenResponse(tokenUrl: string, body: Buffer): IssuedToken {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body.toString('utf8'));
  } catch {
    throw tokenFailure(tokenUrl, 'the response is not JSON');
  }
  const fields = (typeof parsed === 'object' && parsed !== null ? parsed : {}) as Record<string, unknown>;

  if (typeof fields.access_token !== 'string' || fields.access_token === '') {
    throw tokenFailure(tokenUrl, 'the response has no access_token');
  }
  if (fields.token_type !== undefined && String(fields.token_type).toLowerCase() !== 'bearer') {
    throw tokenFailure(tokenUrl, `token_type "${String(fields.token_type)}" is not supported, only Bearer`);
  }

  const issued: IssuedToken = { accessToken: fields.access_token };
  const expiresIn = Number(fields.expires_in);
  if (fields.expires_in !== undefined && Number.isFinite(expiresIn) && expiresIn >= 0) {
    issued.expiresInSeconds = expiresIn;
  }
  return issued;
}

/** Returns the `error` code of an RFC 6749 error response. The description is left out, because it may quote the request. */
function readErrorCode(body: Buffer): string | undefined {
  try {
    const parsed = JSON.parse(body.toString('utf8')) as { error?: unknown };
    return typeof parsed.error === 'string' && /^[\x20-\x7e]{1,64}$/.test(parsed.error) ? parsed.error : undefined;
  } catch {
    return undefined;
  }
}

function tokenFailure(tokenUrl: string, reason: string, cause?: unknown): AttemptFailure {
  return new AttemptFailure('retryable', `OAuth token request to ${tokenUrl} failed: ${reason}`, { cause });
}

/** Encodes a client id or secret as application/x-www-form-urlencoded, as RFC 6749 section 2.3.1 requires. */
function formEncode(value: string): string {
  return new URLSearchParams({ v: value }).toString().slice(2);
}
