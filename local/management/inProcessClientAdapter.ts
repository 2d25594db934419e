import { STATUS_CODES, type IncomingHttpHeaders } from 'node:http';
import { createRequire } from 'node:module';
import { fromBufferedRequest, type HostExchangeRequest, type HostExchangeResponse } from '../http/hostExchange';
import { isManagementPath } from '../http/server';

/**
 * An axios adapter that serves the durable client's calls to the local host's management API
 * in process, without the loopback HTTP request.
 *
 * `durable-functions` 3.5.0 sends every client call through an instance from `axios.create`,
 * which copies `axios.defaults.adapter` when the client is created. `df.getClient` creates a
 * client in each invocation, so an adapter set on the defaults of the axios module that
 * `durable-functions` loads reaches every client created after that.
 *
 * The adapter returns what axios's HTTP adapter (checked against axios 1.21.1) returns for the
 * same response: the status, lower-case headers, and the body as a UTF-8 string (a Buffer for
 * `responseType: 'arraybuffer'`), which axios's `transformResponse` then parses as JSON. It applies `validateStatus`, `maxBodyLength` and
 * `maxContentLength` as that adapter does. Requests that it does not serve go to the adapter
 * that was set before, unchanged.
 */

/** Serves one management API request and returns the whole response. */
export type ManagementRequestServer = (request: HostExchangeRequest) => Promise<HostExchangeResponse>;

/** The request config that axios passes to an adapter, limited to the fields read here. */
interface AxiosRequestConfig {
  method?: string;
  headers?: unknown;
  data?: unknown;
  timeout?: number;
  signal?: unknown;
  cancelToken?: unknown;
  responseType?: string;
  responseEncoding?: BufferEncoding;
  maxBodyLength?: number;
  maxContentLength?: number;
  validateStatus?: ((status: number) => boolean) | null;
}

interface AxiosResponse {
  data: unknown;
  status: number;
  statusText: string;
  headers: unknown;
  config: AxiosRequestConfig;
  request: unknown;
}

type AxiosAdapter = (config: AxiosRequestConfig) => Promise<AxiosResponse>;

/** The members of the axios 1.x module that the adapter uses. */
export interface AxiosModule {
  VERSION: string;
  defaults: { adapter?: unknown };
  getAdapter(adapters: unknown, config: AxiosRequestConfig): AxiosAdapter;
  getUri(config: AxiosRequestConfig): string;
  AxiosHeaders: { from(headers: unknown): { toJSON(asStrings: true): Record<string, string> } };
  AxiosError: new (message: string, code: string, config: AxiosRequestConfig, request: unknown, response?: AxiosResponse) => Error;
}

interface Installation {
  adapter: AxiosAdapter;
  /** The adapter set on the axios defaults before this one, which serves every other request. */
  previousAdapter: unknown;
  serversByOrigin: Map<string, ManagementRequestServer>;
}

const installations = new Map<AxiosModule, Installation>();

/** Response types whose data the adapter builds from the buffered body, as axios's HTTP adapter does. */
const servedResponseTypes = [undefined, 'json', 'text', 'arraybuffer'];

/** The axios module of the app's durable client, or why the adapter cannot be set on it. */
export type DurableClientAxiosLookup = { found: true; axios: AxiosModule } | { found: false; reason: string };

/**
 * Loads the axios module that `durable-functions` uses in an app whose main file is
 * `appMainPath`. Reports it as not found when the app cannot resolve `durable-functions`, or when
 * that axios lacks the 1.x members that the adapter uses.
 */
export function loadDurableClientAxios(appMainPath: string): DurableClientAxiosLookup {
  let durableFunctionsPackageJson: string;
  try {
    durableFunctionsPackageJson = createRequire(appMainPath).resolve('durable-functions/package.json');
  } catch {
    return { found: false, reason: `${appMainPath} does not resolve the durable-functions package` };
  }
  const axios = createRequire(durableFunctionsPackageJson)('axios') as Partial<AxiosModule>;
  if (typeof axios.getAdapter !== 'function' || typeof axios.getUri !== 'function' || axios.AxiosHeaders === undefined || axios.defaults === undefined) {
    return { found: false, reason: `the axios ${axios.VERSION ?? '(unknown version)'} of ${durableFunctionsPackageJson} has no getAdapter, getUri or AxiosHeaders, which axios 1.x has` };
  }
  return { found: true, axios: axios as AxiosModule };
}

/**
 * Serves in process the requests that clients created on `axios` send to `origin` (such as
 * `http://127.0.0.1:7071`) under `/runtime/webhooks/durabletask`. Several origins can be served
 * at once, as when a process runs several hosts. Returns the function that stops serving
 * `origin`. Once no origin is left, it puts back the adapter that was set before, unless
 * something else has replaced the axios defaults since.
 */
export function serveManagementInProcess(axios: AxiosModule, origin: string, server: ManagementRequestServer): () => void {
  let installation = installations.get(axios);
  if (!installation) {
    const serversByOrigin = new Map<string, ManagementRequestServer>();
    const previousAdapter = axios.defaults.adapter;
    installation = { adapter: createAdapter(axios, previousAdapter, serversByOrigin), previousAdapter, serversByOrigin };
    axios.defaults.adapter = installation.adapter;
    installations.set(axios, installation);
  }
  if (installation.serversByOrigin.has(origin)) {
    throw new Error(`Internal error: the management API of ${origin} is already served in process. Stop the host on that origin first.`);
  }
  installation.serversByOrigin.set(origin, server);

  const current = installation;
  return () => {
    if (current.serversByOrigin.get(origin) !== server) {
      return;
    }
    current.serversByOrigin.delete(origin);
    if (current.serversByOrigin.size > 0) {
      return;
    }
    if (axios.defaults.adapter === current.adapter) {
      axios.defaults.adapter = current.previousAdapter;
    }
    installations.delete(axios);
  };
}

function createAdapter(axios: AxiosModule, previousAdapter: unknown, serversByOrigin: Map<string, ManagementRequestServer>): AxiosAdapter {
  return async (config) => {
    const target = findInProcessTarget(axios, config, serversByOrigin);
    if (target === undefined) {
      return axios.getAdapter(previousAdapter, config)(config);
    }
    return exchangeInProcess(axios, config, target);
  };
}

/** A request that the adapter serves in process: its server, URL and body (undefined for none). */
interface InProcessTarget {
  server: ManagementRequestServer;
  url: URL;
  bytes: Buffer | undefined;
}

/**
 * Returns the server, URL and body when the adapter serves `config` in process. Requests to
 * other origins or paths, with a timeout or a cancellation signal (which an in-process exchange
 * does not support), or with a body or response type other than those of a buffered HTTP
 * exchange go to the previous adapter.
 */
function findInProcessTarget(axios: AxiosModule, config: AxiosRequestConfig, serversByOrigin: Map<string, ManagementRequestServer>): InProcessTarget | undefined {
  if (serversByOrigin.size === 0 || (config.timeout ?? 0) > 0 || config.signal || config.cancelToken || !servedResponseTypes.includes(config.responseType)) {
    return undefined;
  }
  let url: URL;
  try {
    url = new URL(axios.getUri(config));
  } catch {
    return undefined;
  }
  const server = serversByOrigin.get(url.origin);
  if (server === undefined || !isManagementPath(url.pathname)) {
    return undefined;
  }
  const bytes = toRequestBytes(config.data);
  if (bytes === null) {
    return undefined;
  }
  return { server, url, bytes };
}

/**
 * Converts request data after `transformRequest` to bytes, as axios's HTTP adapter does. Returns
 * null for other types, such as streams, form data and blobs, which go to the previous adapter.
 */
function toRequestBytes(data: unknown): Buffer | undefined | null {
  if (data === undefined || data === null || data === '') {
    return undefined;
  }
  if (Buffer.isBuffer(data)) {
    return data;
  }
  if (data instanceof ArrayBuffer) {
    return Buffer.from(new Uint8Array(data));
  }
  if (typeof data === 'string') {
    return Buffer.from(data, 'utf8');
  }
  return null;
}

function toRequestHeaders(axios: AxiosModule, config: AxiosRequestConfig, url: URL, bytes: Buffer | undefined): IncomingHttpHeaders {
  const headers: IncomingHttpHeaders = {};
  for (const [name, value] of Object.entries(axios.AxiosHeaders.from(config.headers).toJSON(true))) {
    headers[name.toLowerCase()] = value;
  }
  headers.host = url.host;
  headers['user-agent'] ??= `axios/${axios.VERSION}`;
  if (bytes !== undefined) {
    headers['content-length'] ??= String(bytes.length);
  }
  return headers;
}

async function exchangeInProcess(axios: AxiosModule, config: AxiosRequestConfig, target: InProcessTarget): Promise<AxiosResponse> {
  const { server, url, bytes } = target;
  const maxBodyLength = config.maxBodyLength ?? -1;
  if (bytes !== undefined && maxBodyLength > -1 && bytes.length > maxBodyLength) {
    throw new axios.AxiosError('Request body larger than maxBodyLength limit', 'ERR_BAD_REQUEST', config, null);
  }

  const request = fromBufferedRequest(config.method ?? 'get', url, toRequestHeaders(axios, config, url, bytes), bytes ?? Buffer.alloc(0));
  const exchanged = await server(request);

  const maxContentLength = config.maxContentLength ?? -1;
  if (maxContentLength > -1 && exchanged.body.length > maxContentLength) {
    throw new axios.AxiosError(`maxContentLength size of ${maxContentLength} exceeded`, 'ERR_BAD_RESPONSE', config, null);
  }
  const response: AxiosResponse = {
    data: toResponseData(exchanged.body, config),
    status: exchanged.status,
    statusText: STATUS_CODES[exchanged.status] ?? '',
    headers: axios.AxiosHeaders.from(toLowerCaseNames(exchanged.headers)),
    config,
    request: null,
  };
  return settle(axios, response);
}

function toResponseData(body: Buffer, config: AxiosRequestConfig): Buffer | string {
  if (config.responseType === 'arraybuffer') {
    return body;
  }
  const encoding = config.responseEncoding ?? 'utf8';
  const text = body.toString(encoding);
  // axios's HTTP adapter strips a byte order mark from UTF-8 text.
  return encoding === 'utf8' && text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
}

function toLowerCaseNames(headers: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(headers).map(([name, value]) => [name.toLowerCase(), value]));
}

/** Returns the response, or raises an AxiosError for a status that `validateStatus` rejects, as axios's `settle` does. */
function settle(axios: AxiosModule, response: AxiosResponse): AxiosResponse {
  const validateStatus = response.config.validateStatus;
  if (!response.status || !validateStatus || validateStatus(response.status)) {
    return response;
  }
  const code = response.status >= 400 && response.status < 500 ? 'ERR_BAD_REQUEST' : 'ERR_BAD_RESPONSE';
  throw new axios.AxiosError(`Request failed with status code ${response.status}`, code, response.config, response.request, response);
}

