import fs from 'node:fs';
import path from 'node:path';
import type { ConnectionLimits } from './http/connectionLimits';

/**
 * Configuration of the local host: app settings from `local.settings.json`, the parts of
 * `host.json` the host uses, and the host's own environment variables. Environment variables
 * override `local.settings.json`, as with Azure Functions Core Tools and app settings in Azure.
 */

export const localSettingsFileName = 'local.settings.json';
export const hostJsonFileName = 'host.json';

/** Environment variables that configure the host itself rather than the app. */
export const hostEnvironmentNames = {
  port: 'PORT',
  dataDir: 'DATA_DIR',
  functionKey: 'LOCAL_FUNCTION_KEY',
  operatorName: 'LOCAL_OPERATOR_NAME',
  maxRequestBodyBytes: 'HOST_MAX_REQUEST_BODY_BYTES',
  shutdownGracePeriodMs: 'HOST_SHUTDOWN_GRACE_PERIOD_MS',
  maxHeaderBytes: 'HOST_MAX_HEADER_BYTES',
  headersTimeoutMs: 'HOST_HEADERS_TIMEOUT_MS',
  requestTimeoutMs: 'HOST_REQUEST_TIMEOUT_MS',
  logLevel: 'LOG_LEVEL',
  workerProcessCount: 'FUNCTIONS_WORKER_PROCESS_COUNT',
} as const;

export const defaultPort = 7071;
export const defaultDataDir = '.data';
export const defaultRoutePrefix = 'api';
export const defaultTaskHubName = 'TestHubName';
export const defaultMaxConcurrentFunctions = 10;
export const defaultMaxRequestBodyBytes = 100 * 1024 * 1024;
export const defaultShutdownGracePeriodMs = 30_000;
export const defaultMaxHeaderBytes = 16 * 1024;
export const defaultHeadersTimeoutMs = 60_000;
export const defaultRequestTimeoutMs = 5 * 60_000;
/** Maximum value of FUNCTIONS_WORKER_PROCESS_COUNT that the local host accepts. */
export const maxFunctionWorkerCount = 10;

const logLevels = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof logLevels)[number];

export interface LocalSettings {
  /** Absolute path of the file, or undefined when the app root has none. */
  filePath: string | undefined;
  /** The `Values` section, with numbers and booleans turned into strings. */
  values: Record<string, string>;
  /** `Host.LocalHttpPort`, which Core Tools uses as the default port. */
  localHttpPort: number | undefined;
}

export interface LocalSettingsResult {
  filePath: string | undefined;
  /** Names copied into the environment. */
  appliedNames: string[];
  /** Names left alone because the environment already set them. */
  overriddenNames: string[];
}

export interface DurableTaskConfig {
  hubName: string;
  maxConcurrentActivityFunctions: number;
  maxConcurrentOrchestratorFunctions: number;
}

export interface HostJsonConfig {
  filePath: string | undefined;
  /** Route prefix without leading or trailing slashes. It is empty when routes start at the root. */
  routePrefix: string;
  durableTask: DurableTaskConfig;
  /** host.json `functionTimeout`; undefined for no limit (absent, or "-1"). */
  functionTimeoutInMilliseconds: number | undefined;
}

export interface HostEnvironment {
  maxRequestBodyBytes: number;
  shutdownGracePeriodMs: number;
  connectionLimits: ConnectionLimits;
  logLevel: LogLevel;
  /**
   * `FUNCTIONS_WORKER_PROCESS_COUNT`: the number of worker threads that run function invocations,
   * or undefined when the setting is absent and functions run on the host's own thread.
   */
  functionWorkerCount: number | undefined;
}

/** Reads a JSON file, or returns undefined when it does not exist. */
function readJsonFile(filePath: string): unknown {
  let text: string;
  try {
    text = fs.readFileSync(filePath, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
      return undefined;
    }
    throw new Error(`Cannot read ${filePath}: ${(error as Error).message}`, { cause: error });
  }
  try {
    return JSON.parse(text.replace(/^\uFEFF/, ''));
  } catch (error) {
    throw new Error(`Invalid JSON in ${filePath}: ${(error as Error).message}. Fix the syntax and start the host again.`, { cause: error });
  }
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function describe(value: unknown): string {
  return JSON.stringify(value) ?? String(value);
}

/** Reads `<appRoot>/local.settings.json`. A missing file gives no values and is not an error. */
export function readLocalSettings(appRoot: string): LocalSettings {
  const filePath = path.resolve(appRoot, localSettingsFileName);
  const content = readJsonFile(filePath);
  const settings: LocalSettings = { filePath: undefined, values: {}, localHttpPort: undefined };
  if (content === undefined) {
    return settings;
  }
  settings.filePath = filePath;
  if (!isPlainObject(content)) {
    throw new Error(`${filePath} must contain a JSON object with a "Values" object, but it contains ${describe(content)}.`);
  }
  if (content.IsEncrypted === true) {
    throw new Error(`${filePath} has "IsEncrypted": true. The local host reads plain values only, so decrypt the file (func settings decrypt) or set "IsEncrypted": false.`);
  }

  const values = content.Values ?? {};
  if (!isPlainObject(values)) {
    throw new Error(`"Values" in ${filePath} must be an object of setting names and string values, but it is ${describe(values)}.`);
  }
  for (const [name, value] of Object.entries(values)) {
    if (typeof value !== 'string' && typeof value !== 'number' && typeof value !== 'boolean') {
      throw new Error(`Setting "${name}" in ${filePath} must be a string, but it is ${describe(value)}. Write the value as a JSON string.`);
    }
    settings.values[name] = String(value);
  }

  const hostSection = content.Host;
  if (isPlainObject(hostSection) && hostSection.LocalHttpPort !== undefined) {
    settings.localHttpPort = parsePort(hostSection.LocalHttpPort, `"Host.LocalHttpPort" in ${filePath}`);
  }
  return settings;
}

/**
 * Copies the `Values` of `<appRoot>/local.settings.json` into `env`, skipping names that `env`
 * already sets. A missing file is not an error.
 */
export function applyLocalSettings(appRoot: string, env: NodeJS.ProcessEnv = process.env): LocalSettingsResult {
  const settings = readLocalSettings(appRoot);
  const result: LocalSettingsResult = { filePath: settings.filePath, appliedNames: [], overriddenNames: [] };
  for (const [name, value] of Object.entries(settings.values)) {
    if (env[name] !== undefined) {
      result.overriddenNames.push(name);
    } else {
      env[name] = value;
      result.appliedNames.push(name);
    }
  }
  return result;
}

/** Parses a TCP port (0 to 65535). The error message names `source`, where the value came from. */
export function parsePort(value: unknown, source: string): number {
  const text = typeof value === 'number' ? String(value) : value;
  if (typeof text !== 'string' || !/^\d+$/.test(text.trim()) || Number(text) > 65535) {
    throw new Error(`${source} must be a port number from 0 to 65535, but it is ${describe(value)}. Use 0 to pick a free port.`);
  }
  return Number(text);
}

function readPositiveInteger(section: Record<string, unknown>, name: string, defaultValue: number, location: string): number {
  const value = section[name];
  if (value === undefined) {
    return defaultValue;
  }
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1) {
    throw new Error(`${location}.${name} must be a positive integer, but it is ${describe(value)}.`);
  }
  return value;
}

/**
 * Resolves an app setting reference such as `%TASK_HUB%` from `env`. host.json allows one for
 * the task hub name, and timer triggers allow one for their schedule. Other values are returned
 * unchanged.
 */
export function resolveSettingReference(value: string, location: string, env: NodeJS.ProcessEnv): string {
  const reference = /^%([^%]+)%$/.exec(value);
  if (!reference) {
    return value;
  }
  const resolved = env[reference[1]];
  if (resolved === undefined || resolved === '') {
    throw new Error(`${location} refers to the app setting ${reference[1]}, which is not set. Set it in ${localSettingsFileName} "Values" or in the environment.`);
  }
  return resolved;
}

/** Task hub names that the Azure Storage provider of Durable Functions accepts. */
const taskHubNamePattern = /^[A-Za-z][A-Za-z0-9]{2,44}$/;

function readDurableTaskConfig(extensions: Record<string, unknown>, filePath: string, env: NodeJS.ProcessEnv): DurableTaskConfig {
  const location = `${filePath} extensions.durableTask`;
  const section = extensions.durableTask ?? {};
  if (!isPlainObject(section)) {
    throw new Error(`${location} must be an object, but it is ${describe(section)}.`);
  }

  let hubName = defaultTaskHubName;
  if (section.hubName !== undefined) {
    if (typeof section.hubName !== 'string') {
      throw new Error(`${location}.hubName must be a string, but it is ${describe(section.hubName)}.`);
    }
    hubName = resolveSettingReference(section.hubName, `${location}.hubName`, env);
  }
  if (!taskHubNamePattern.test(hubName)) {
    throw new Error(`${location}.hubName is ${describe(hubName)}, but a task hub name must start with a letter and contain 3 to 45 letters or digits, as the Azure Storage provider of Durable Functions requires.`);
  }

  return {
    hubName,
    maxConcurrentActivityFunctions: readPositiveInteger(section, 'maxConcurrentActivityFunctions', defaultMaxConcurrentFunctions, location),
    maxConcurrentOrchestratorFunctions: readPositiveInteger(section, 'maxConcurrentOrchestratorFunctions', defaultMaxConcurrentFunctions, location),
  };
}

/** Reads the HTTP route prefix and the Durable Task settings from `<appRoot>/host.json`. */
export function readHostJson(appRoot: string, env: NodeJS.ProcessEnv = process.env): HostJsonConfig {
  const filePath = path.resolve(appRoot, hostJsonFileName);
  const content = readJsonFile(filePath) ?? {};
  if (!isPlainObject(content)) {
    throw new Error(`${filePath} must contain a JSON object, but it contains ${describe(content)}.`);
  }
  const extensions = content.extensions ?? {};
  if (!isPlainObject(extensions)) {
    throw new Error(`${filePath} extensions must be an object, but it is ${describe(extensions)}.`);
  }

  const http = extensions.http ?? {};
  if (!isPlainObject(http)) {
    throw new Error(`${filePath} extensions.http must be an object, but it is ${describe(http)}.`);
  }
  let routePrefix = defaultRoutePrefix;
  if (http.routePrefix !== undefined) {
    if (typeof http.routePrefix !== 'string') {
      throw new Error(`${filePath} extensions.http.routePrefix must be a string, but it is ${describe(http.routePrefix)}. Use "" for routes without a prefix.`);
    }
    routePrefix = http.routePrefix.replace(/^\/+|\/+$/g, '');
  }

  return {
    filePath: fs.existsSync(filePath) ? filePath : undefined,
    routePrefix,
    durableTask: readDurableTaskConfig(extensions, filePath, env),
    functionTimeoutInMilliseconds: readFunctionTimeout(content.functionTimeout, filePath),
  };
}

/**
 * Parses host.json `functionTimeout`, a .NET TimeSpan such as "00:05:00" or "1.00:00:00"
 * ([d.]hh:mm:ss[.fff]). "-1" and an absent value mean no limit.
 */
export function readFunctionTimeout(value: unknown, filePath: string): number | undefined {
  if (value === undefined || value === null || value === '-1') {
    return undefined;
  }
  const match = typeof value === 'string' ? /^(?:(\d+)\.)?(\d{1,2}):(\d{2}):(\d{2})(?:\.(\d{1,7}))?$/.exec(value.trim()) : null;
  if (!match) {
    throw new Error(`${filePath} functionTimeout must be a time span like "00:05:00" ([d.]hh:mm:ss) or "-1", but it is ${describe(value)}.`);
  }
  const [, days, hours, minutes, seconds, fraction] = match;
  const fractionInMilliseconds = fraction ? Math.round(Number(`0.${fraction}`) * 1000) : 0;
  const totalInMilliseconds = ((Number(days ?? 0) * 24 + Number(hours)) * 60 + Number(minutes)) * 60_000 + Number(seconds) * 1000 + fractionInMilliseconds;
  if (totalInMilliseconds <= 0) {
    throw new Error(`${filePath} functionTimeout must be longer than zero, but it is ${describe(value)}.`);
  }
  return totalInMilliseconds;
}

function readPositiveIntegerVariable(env: NodeJS.ProcessEnv, name: string, defaultValue: number): number {
  const text = env[name];
  if (text === undefined || text.trim() === '') {
    return defaultValue;
  }
  if (!/^\d+$/.test(text.trim()) || Number(text) < 1 || !Number.isSafeInteger(Number(text))) {
    throw new Error(`The setting ${name} must be a positive integer, but it is ${describe(text)}.`);
  }
  return Number(text);
}

/** Reads the host's own settings from the environment, after `applyLocalSettings`. */
export function readHostEnvironment(env: NodeJS.ProcessEnv = process.env): HostEnvironment {
  const logLevel = (env[hostEnvironmentNames.logLevel] ?? 'info').trim().toLowerCase();
  if (!(logLevels as readonly string[]).includes(logLevel)) {
    throw new Error(`The setting ${hostEnvironmentNames.logLevel} is ${describe(logLevel)}, but it must be one of ${logLevels.join(', ')}.`);
  }
  return {
    maxRequestBodyBytes: readPositiveIntegerVariable(env, hostEnvironmentNames.maxRequestBodyBytes, defaultMaxRequestBodyBytes),
    shutdownGracePeriodMs: readPositiveIntegerVariable(env, hostEnvironmentNames.shutdownGracePeriodMs, defaultShutdownGracePeriodMs),
    connectionLimits: {
      maxHeaderBytes: readPositiveIntegerVariable(env, hostEnvironmentNames.maxHeaderBytes, defaultMaxHeaderBytes),
      headersTimeoutMs: readPositiveIntegerVariable(env, hostEnvironmentNames.headersTimeoutMs, defaultHeadersTimeoutMs),
      requestTimeoutMs: readPositiveIntegerVariable(env, hostEnvironmentNames.requestTimeoutMs, defaultRequestTimeoutMs),
    },
    logLevel: logLevel as LogLevel,
    functionWorkerCount: readFunctionWorkerCount(env),
  };
}

function readFunctionWorkerCount(env: NodeJS.ProcessEnv): number | undefined {
  const name = hostEnvironmentNames.workerProcessCount;
  const text = env[name]?.trim();
  if (text === undefined || text === '') {
    return undefined;
  }
  const count = Number(text);
  if (!/^\d+$/.test(text) || count < 1 || count > maxFunctionWorkerCount) {
    throw new Error(
      `The setting ${name} must be a whole number from 1 to ${maxFunctionWorkerCount}, but it is ${describe(text)}. ` +
        'Set it to the number of worker threads for function invocations, at most the number of cores, or leave it unset to run functions on the host thread.',
    );
  }
  return count;
}
