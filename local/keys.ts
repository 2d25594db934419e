import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { hostEnvironmentNames } from './settings';

/**
 * The one key that the local host accepts for every auth level (function, admin, and system for
 * the Durable Functions management API). In Azure these are separate keys. On one machine a
 * single key is enough, and it comes from the `LOCAL_FUNCTION_KEY` setting or, when that is not
 * set, from a generated key file in the data folder.
 */

export const hostKeyFileName = 'host-keys.json';

/** Size of a generated key before base64url encoding: 256 bits. */
const generatedKeyBytes = 32;
const ownerOnlyFileMode = 0o600;

export interface HostKey {
  value: string;
  source: 'setting' | 'file';
  /** Absolute path of the key file when `source` is `file`. */
  filePath?: string;
  /** True when this start generated the key file. */
  created: boolean;
  /** True when the key file was readable by other users and its mode was set to 0600. */
  permissionsFixed: boolean;
}

interface KeyFileContent {
  hostKey: string;
  createdTime: string;
}

/** Visible ASCII only, so that the key fits in an `x-functions-key` header. */
const keyPattern = /^[\x21-\x7e]+$/;

function validateKey(value: string, source: string): void {
  if (!keyPattern.test(value)) {
    throw new Error(`${source} must be a non-empty key of visible ASCII characters without spaces. Set another value, or remove it to use a generated key.`);
  }
}

function readKeyFile(filePath: string): string {
  let content: unknown;
  try {
    content = JSON.parse(fs.readFileSync(filePath, 'utf8'));
  } catch (error) {
    throw new Error(`Cannot read the key file ${filePath}: ${(error as Error).message}. Delete the file to generate a new key.`, { cause: error });
  }
  const hostKey = (content as Partial<KeyFileContent> | null)?.hostKey;
  if (typeof hostKey !== 'string') {
    throw new Error(`The key file ${filePath} has no "hostKey" string. Delete the file to generate a new key.`);
  }
  validateKey(hostKey, `"hostKey" in ${filePath}`);
  return hostKey;
}

/** Writes a new key file with mode 0600, and fails if another process created the file first. */
function writeKeyFile(filePath: string, hostKey: string): void {
  const content: KeyFileContent = { hostKey, createdTime: new Date().toISOString() };
  const temporaryPath = `${filePath}.${process.pid}.tmp`;
  fs.rmSync(temporaryPath, { force: true });
  fs.writeFileSync(temporaryPath, `${JSON.stringify(content, null, 2)}\n`, { mode: ownerOnlyFileMode, flag: 'wx' });
  try {
    // A hard link, unlike a rename, fails when the target exists, so a key file that another
    // host wrote in the meantime is kept.
    fs.linkSync(temporaryPath, filePath);
  } finally {
    fs.rmSync(temporaryPath, { force: true });
  }
}

/**
 * Returns the host key: the `LOCAL_FUNCTION_KEY` setting when set, otherwise the key stored in
 * `<dataDir>/host-keys.json`, which is generated on first use and reused on later starts.
 * `dataDir` must exist.
 */
export function resolveHostKey(dataDir: string, env: NodeJS.ProcessEnv = process.env): HostKey {
  const setting = env[hostEnvironmentNames.functionKey];
  if (setting !== undefined) {
    validateKey(setting, `The setting ${hostEnvironmentNames.functionKey}`);
    return { value: setting, source: 'setting', created: false, permissionsFixed: false };
  }

  const filePath = path.resolve(dataDir, hostKeyFileName);
  if (!fs.existsSync(filePath)) {
    try {
      writeKeyFile(filePath, randomBytes(generatedKeyBytes).toString('base64url'));
      return { value: readKeyFile(filePath), source: 'file', filePath, created: true, permissionsFixed: false };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') {
        throw new Error(`Cannot create the key file ${filePath}: ${(error as Error).message}. Check that the data folder is writable.`, { cause: error });
      }
    }
  }

  let permissionsFixed = false;
  if ((fs.statSync(filePath).mode & 0o077) !== 0) {
    fs.chmodSync(filePath, ownerOnlyFileMode);
    permissionsFixed = true;
  }
  return { value: readKeyFile(filePath), source: 'file', filePath, created: false, permissionsFixed };
}

/**
 * Returns whether `candidate` equals `key`, in time that does not depend on where they differ.
 * Both are hashed first so that the comparison also hides the key's length.
 */
export function keyMatches(candidate: string | undefined, key: string): boolean {
  if (candidate === undefined) {
    return false;
  }
  const candidateHash = createHash('sha256').update(candidate, 'utf8').digest();
  const keyHash = createHash('sha256').update(key, 'utf8').digest();
  return timingSafeEqual(candidateHash, keyHash);
}

/** The operator identity of requests that present the host key, when `LOCAL_OPERATOR_NAME` is not set. */
export const defaultOperatorName = 'local-operator';

/** Printable ASCII with inner spaces, so that the name fits in a header value. */
const operatorNamePattern = /^[\x21-\x7e](?:[\x20-\x7e]{0,254}[\x21-\x7e])?$/;

/**
 * Returns the operator identity that the host sets in `x-ms-client-principal-name` for a request
 * that presents the host key: the `LOCAL_OPERATOR_NAME` setting, or `local-operator`. On Azure,
 * App Service authentication sets that header from the signed-in user instead.
 */
export function resolveOperatorName(env: NodeJS.ProcessEnv = process.env): string {
  const setting = env[hostEnvironmentNames.operatorName];
  if (setting === undefined) {
    return defaultOperatorName;
  }
  if (!operatorNamePattern.test(setting)) {
    throw new Error(
      `The setting ${hostEnvironmentNames.operatorName} must be 1 to 256 printable ASCII characters without leading or trailing spaces, but it is ${JSON.stringify(setting)}. Set another name, or remove it to use "${defaultOperatorName}".`,
    );
  }
  return setting;
}
