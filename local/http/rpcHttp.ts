import { validateHeaderName, validateHeaderValue, type IncomingMessage, type ServerResponse } from 'node:http';
import type { RegisteredFunction, RpcHttp, RpcInvocationResponse, RpcTypedData } from '../functionsCore/registry';

/**
 * Conversions between node:http and the RPC `http` typed data that `@azure/functions` reads for
 * an HTTP trigger and returns for an HTTP output binding.
 */

/** Joins repeated query parameters with a comma, as the Functions host does (`?a=1&a=2` gives `a=1,2`). */
function toQueryMapping(searchParams: URLSearchParams): Record<string, string> {
  const query: Record<string, string> = {};
  for (const name of new Set(searchParams.keys())) {
    query[name] = searchParams.getAll(name).join(',');
  }
  return query;
}

/**
 * Header with the address of the TCP peer, as App Service's front end sets it for a function
 * app. A value that the client sent is replaced, so that functions can rely on it.
 */
export const clientAddressHeader = 'x-client-ip';

/**
 * Header with the signed-in user's name, as App Service authentication sets it. A value that the
 * client sent is always removed, and the host sets it only for a request that presents the host key.
 */
export const clientPrincipalNameHeader = 'x-ms-client-principal-name';

/** Headers that only the host sets. */
const hostSetHeaders = [clientAddressHeader, clientPrincipalNameHeader];

function toHeaderMapping(req: IncomingMessage, principalName: string | undefined): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(req.headers)) {
    if (value !== undefined && !hostSetHeaders.includes(name)) {
      headers[name] = Array.isArray(value) ? value.join(', ') : value;
    }
  }
  if (req.socket.remoteAddress !== undefined) {
    headers[clientAddressHeader] = req.socket.remoteAddress;
  }
  if (principalName !== undefined) {
    headers[clientPrincipalNameHeader] = principalName;
  }
  return headers;
}

/**
 * Builds the trigger data of an HTTP request. `body` is passed on unchanged as bytes.
 * `principalName`, when set, becomes the `x-ms-client-principal-name` header.
 */
export function toRpcHttpTrigger(req: IncomingMessage, url: URL, params: Record<string, string>, body: Buffer, principalName?: string): RpcTypedData {
  return {
    http: {
      method: req.method ?? 'GET',
      url: url.href,
      headers: toHeaderMapping(req, principalName),
      query: toQueryMapping(url.searchParams),
      params,
      body: { bytes: new Uint8Array(body.buffer, body.byteOffset, body.length) },
    },
  };
}

/**
 * Finds the HTTP response in an invocation result: the return value (`app.http` binds the
 * response to `$return`) or an output binding of type `http`. Undefined when the function set none.
 */
export function findHttpResponse(fn: RegisteredFunction, response: RpcInvocationResponse): RpcHttp | undefined {
  if (response.returnValue?.http) {
    return response.returnValue.http;
  }
  for (const output of response.outputData ?? []) {
    if (fn.bindings[output.name]?.type.toLowerCase() === 'http' && output.data?.http) {
      return output.data.http;
    }
  }
  return undefined;
}

interface RpcNullable<T> {
  value?: T;
}

interface RpcHttpCookie {
  name: string;
  value: string;
  domain?: RpcNullable<string>;
  path?: RpcNullable<string>;
  expires?: RpcNullable<{ seconds?: number }>;
  secure?: RpcNullable<boolean>;
  httpOnly?: RpcNullable<boolean>;
  sameSite?: 'none' | 'lax' | 'strict' | 'explicitNone';
  maxAge?: RpcNullable<number>;
}

const sameSiteAttributes: Record<string, string | undefined> = { lax: 'Lax', strict: 'Strict', explicitNone: 'None' };

/** Serialises a cookie of the RPC response into a `Set-Cookie` header value (RFC 6265). */
function toSetCookie(cookie: RpcHttpCookie): string {
  const attributes = [`${cookie.name}=${cookie.value}`];
  if (cookie.domain?.value) {
    attributes.push(`Domain=${cookie.domain.value}`);
  }
  if (cookie.path?.value) {
    attributes.push(`Path=${cookie.path.value}`);
  }
  if (cookie.expires?.value?.seconds !== undefined) {
    attributes.push(`Expires=${new Date(cookie.expires.value.seconds * 1000).toUTCString()}`);
  }
  if (cookie.maxAge?.value !== undefined) {
    attributes.push(`Max-Age=${Math.trunc(cookie.maxAge.value)}`);
  }
  if (cookie.secure?.value) {
    attributes.push('Secure');
  }
  if (cookie.httpOnly?.value) {
    attributes.push('HttpOnly');
  }
  const sameSite = cookie.sameSite ? sameSiteAttributes[cookie.sameSite] : undefined;
  if (sameSite) {
    attributes.push(`SameSite=${sameSite}`);
  }
  return attributes.join('; ');
}

function toBodyBytes(body: RpcTypedData | undefined): Buffer {
  if (!body) {
    return Buffer.alloc(0);
  }
  if (body.bytes !== undefined) {
    return Buffer.from(body.bytes.buffer, body.bytes.byteOffset, body.bytes.byteLength);
  }
  if (body.string !== undefined) {
    return Buffer.from(body.string, 'utf8');
  }
  if (body.json !== undefined) {
    return Buffer.from(body.json, 'utf8');
  }
  if (body.int !== undefined || body.double !== undefined) {
    return Buffer.from(String(body.int ?? body.double), 'utf8');
  }
  return Buffer.alloc(0);
}

/** Headers that describe the connection or the framing, which the host sets itself. */
const hostManagedHeaders = new Set(['content-length', 'transfer-encoding', 'connection', 'keep-alive']);

/** Parses the status code of an RPC response, and throws when it is not a valid HTTP status. */
function toStatusCode(fn: RegisteredFunction, statusCode: string | undefined): number {
  if (statusCode === undefined || statusCode === '') {
    return 200;
  }
  const status = Number(statusCode);
  if (!Number.isInteger(status) || status < 200 || status > 599) {
    throw new Error(`Function "${fn.name}" returned the HTTP status ${JSON.stringify(statusCode)}, but a response status must be an integer from 200 to 599.`);
  }
  return status;
}

/**
 * Writes the function's HTTP response: status, headers, cookies and body bytes. A function that
 * set no response gets 204 No Content, the default of Azure Functions 2.x and later. Throws
 * before anything is written when the status or a header is invalid.
 */
export function writeRpcHttpResponse(fn: RegisteredFunction, req: IncomingMessage, res: ServerResponse, http: RpcHttp | undefined): void {
  if (!http) {
    res.writeHead(204).end();
    return;
  }
  const status = toStatusCode(fn, http.statusCode);
  const headers: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(http.headers ?? {})) {
    if (!hostManagedHeaders.has(name.toLowerCase())) {
      headers[name] = value;
    }
  }
  const cookies = ((http.cookies ?? []) as RpcHttpCookie[]).map(toSetCookie);
  if (cookies.length > 0) {
    const existing = Object.keys(headers).find((name) => name.toLowerCase() === 'set-cookie');
    const fromHeaders = existing ? [headers[existing]].flat() : [];
    if (existing) {
      delete headers[existing];
    }
    headers['Set-Cookie'] = [...fromHeaders, ...cookies];
  }

  const bodyAllowed = req.method !== 'HEAD' && status !== 204 && status !== 304;
  const body = bodyAllowed ? toBodyBytes(http.body) : Buffer.alloc(0);
  if (bodyAllowed) {
    headers['Content-Length'] = String(body.length);
  }
  for (const [name, value] of Object.entries(headers)) {
    validateHeaderName(name);
    [value].flat().forEach((item) => validateHeaderValue(name, item));
  }
  for (const [name, value] of Object.entries(headers)) {
    res.setHeader(name, value);
  }
  res.writeHead(status);
  res.end(body);
}
