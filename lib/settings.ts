import fs from 'node:fs';
import path from 'node:path';
import { ConfigurationError } from './errors';

/**
 * Every environment key the connector reads, with its default. On one machine the host
 * copies local.settings.json `Values` into `process.env`. In Azure they are app settings.
 * Partner secrets are read by the setting name that a connector's `secretRef` gives.
 */
export const settingNames = {
  connectorsFile: 'CONNECTORS_FILE',
  dataDir: 'DATA_DIR',
  dedupWindowInDays: 'DEDUP_WINDOW_IN_DAYS',
} as const;

export const defaultConnectorsFileName = 'connectors.json';
export const sampleConnectorsFileName = 'connectors.sample.json';
export const defaultDataDirName = '.data';
export const defaultDedupWindowInDays = 7;

export interface Settings {
  /** Absolute path of the connectors file. */
  connectorsFile: string;
  /** Absolute path of the folder that contains the tracking database and local payloads. */
  dataDir: string;
  /** Days after which a message's dedup record is deleted, so the same dedup key makes a new message. */
  dedupWindowInDays: number;
}

export type Environment = Record<string, string | undefined>;

/**
 * Reads the settings from `environment`. Relative paths are resolved against `appRoot`,
 * the folder that contains the app's package.json.
 * Throws a ConfigurationError when a value is invalid.
 */
export function readSettings(environment: Environment = process.env, appRoot: string = findAppRoot()): Settings {
  return {
    connectorsFile: resolveConnectorsFile(environment, appRoot),
    dataDir: path.resolve(appRoot, nonEmpty(environment[settingNames.dataDir]) ?? defaultDataDirName),
    dedupWindowInDays: readDedupWindowInDays(environment),
  };
}

/** Returns the value of the setting `name`, or undefined when it is missing or empty. */
export function readSetting(name: string, environment: Environment = process.env): string | undefined {
  return nonEmpty(environment[name]);
}

/**
 * Returns the value of the setting that a connector's `secretRef` names, or undefined when
 * it is missing or empty.
 */
export function readSecret(secretRef: string, environment: Environment = process.env): string | undefined {
  return nonEmpty(environment[secretRef]);
}

/**
 * Returns the folder that contains the app's package.json, searching upwards from this
 * file. The file runs from `lib/` under ts-node or vitest and from `dist/lib/` when built.
 */
export function findAppRoot(startDir: string = __dirname): string {
  const maxLevels = 5;
  let dir = startDir;
  for (let level = 0; level < maxLevels; level++) {
    if (fs.existsSync(path.join(dir, 'package.json'))) {
      return dir;
    }
    dir = path.dirname(dir);
  }
  throw new ConfigurationError(
    `No package.json was found within ${maxLevels} folders above ${startDir}. Run the app from its own folder.`,
  );
}

/**
 * Uses CONNECTORS_FILE when set. Otherwise uses connectors.json in the app root, or the
 * shipped connectors.sample.json when connectors.json does not exist.
 */
function resolveConnectorsFile(environment: Environment, appRoot: string): string {
  const configured = nonEmpty(environment[settingNames.connectorsFile]);
  if (configured !== undefined) {
    return path.resolve(appRoot, configured);
  }

  const defaultFile = path.join(appRoot, defaultConnectorsFileName);
  if (fs.existsSync(defaultFile)) {
    return defaultFile;
  }
  return path.join(appRoot, sampleConnectorsFileName);
}

function readDedupWindowInDays(environment: Environment): number {
  const text = nonEmpty(environment[settingNames.dedupWindowInDays]);
  if (text === undefined) {
    return defaultDedupWindowInDays;
  }

  const days = Number(text);
  if (!Number.isFinite(days) || days <= 0) {
    throw new ConfigurationError(
      `Setting ${settingNames.dedupWindowInDays} is "${text}", but it must be a positive number of days. ` +
        `Set it to a number such as ${defaultDedupWindowInDays}, or remove it to use the default.`,
    );
  }
  return days;
}

function nonEmpty(value: string | undefined): string | undefined {
  if (value === undefined || value.trim() === '') {
    return undefined;
  }
  return value;
}
