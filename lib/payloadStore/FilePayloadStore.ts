import { createHash, randomUUID } from 'node:crypto';
import { mkdir, open, readFile, rename, stat, unlink } from 'node:fs/promises';
import { dirname, join, relative, resolve, sep } from 'node:path';

import { PermanentError, RetryableError, errorMessageOf } from '../errors';
import {
  digestPayload,
  validatePayloadHeaders,
  validatePayloadName,
  type PayloadDigest,
  type PayloadHeaders,
  type PayloadStore,
  type StoredPayload,
} from './PayloadStore';

/** Version of the file layout below, stored in each file's header. */
const payloadFileFormat = 1;

/** Suffix of a file that `put` is still writing. `get` never reads such a file. */
export const tempFileSuffix = '.tmp';

/** First line of a payload file, as JSON. The payload's bytes follow the line feed. */
interface PayloadFileHeader extends PayloadHeaders, PayloadDigest {
  format: number;
  name: string;
}

/**
 * Payload store in a local folder, usually the data folder's `payloads/` subfolder.
 *
 * A payload is one file, `<folder>/<first 2 hex digits>/<SHA-256 of the name in hex>`, whose first
 * line is a JSON header (name, content type, content encoding, size, SHA-256) and whose bytes
 * follow. One file, rather than a sidecar for the headers, lets a single rename replace headers
 * and bytes together.
 *
 * The file name is a hash, not the payload name, because a blob store allows names that a folder
 * tree cannot store as paths. Such names may contain characters that some file systems reject or
 * differ only in letter case. A name may also be a prefix of another name ("raw/a" and "raw/a/b").
 *
 * `put` writes a temp file beside the target, fsyncs it, renames it over the target and fsyncs
 * the folder, so a reader sees either the old file or the new one, never a partial one.
 *
 * NOTE: on macOS fsync does not flush the drive's write cache (that needs F_FULLFSYNC, which Node
 * does not expose), and on Windows folders are not fsynced. On both, a power loss can still lose
 * a payload that `put` reported as written. The Windows code path has not been run.
 * NOTE: a crash during `put` leaves a `*.tmp` file beside the target. `get` never reads it, but
 * nothing removes it yet.
 */
export class FilePayloadStore implements PayloadStore {
  readonly #folderPath: string;
  // Subfolders created and fsynced by this process, so each costs mkdir and fsync only once.
  readonly #subfoldersReady = new Map<string, Promise<void>>();

  constructor(folderPath: string) {
    this.#folderPath = resolve(folderPath);
  }

  /** Returns the path of the file that stores the payload `name`, whether or not it exists. */
  filePathFor(name: string): string {
    validatePayloadName(name);
    const nameHash = createHash('sha256').update(name, 'utf8').digest('hex');
    return join(this.#folderPath, nameHash.slice(0, 2), nameHash);
  }

  async put(name: string, bytes: Buffer, headers: PayloadHeaders): Promise<PayloadDigest> {
    const filePath = this.filePathFor(name);
    validatePayloadHeaders(headers);
    if (!Buffer.isBuffer(bytes)) {
      throw new TypeError(`Invalid bytes for payload ${JSON.stringify(name)}: expected a Buffer, got ${typeof bytes}.`);
    }

    const digest = digestPayload(bytes);
    const header: PayloadFileHeader = {
      format: payloadFileFormat,
      name,
      contentType: headers.contentType,
      contentEncoding: headers.contentEncoding,
      ...digest,
    };
    const headerLine = Buffer.from(`${JSON.stringify(header)}\n`, 'utf8');

    try {
      await this.#prepareSubfolder(dirname(filePath));
      await writeFileDurably(filePath, Buffer.concat([headerLine, bytes]));
    } catch (error) {
      throw classifyFileSystemError(
        `Failed to write payload ${JSON.stringify(name)} to ${filePath}: ${errorMessageOf(error)}. ` +
          'Check that the payload folder is writable and its disk has free space.',
        error,
      );
    }
    return digest;
  }

  async get(name: string): Promise<StoredPayload | undefined> {
    const filePath = this.filePathFor(name);

    let fileBytes: Buffer;
    try {
      fileBytes = await readFile(filePath);
    } catch (error) {
      if (isNotFound(error)) {
        return undefined;
      }
      throw classifyFileSystemError(`Failed to read payload ${JSON.stringify(name)} from ${filePath}: ${errorMessageOf(error)}.`, error);
    }
    return decodePayloadFile(fileBytes, name, filePath);
  }

  async exists(name: string): Promise<boolean> {
    const filePath = this.filePathFor(name);
    try {
      await stat(filePath);
      return true;
    } catch (error) {
      if (isNotFound(error)) {
        return false;
      }
      throw classifyFileSystemError(`Failed to check payload ${JSON.stringify(name)} at ${filePath}: ${errorMessageOf(error)}.`, error);
    }
  }

  async delete(name: string): Promise<boolean> {
    const filePath = this.filePathFor(name);
    try {
      await unlink(filePath);
      await syncFolder(dirname(filePath));
      return true;
    } catch (error) {
      if (isNotFound(error)) {
        return false;
      }
      throw classifyFileSystemError(`Failed to delete payload ${JSON.stringify(name)} at ${filePath}: ${errorMessageOf(error)}.`, error);
    }
  }

  #prepareSubfolder(subfolderPath: string): Promise<void> {
    let ready = this.#subfoldersReady.get(subfolderPath);
    if (ready === undefined) {
      ready = createFolderDurably(subfolderPath);
      this.#subfoldersReady.set(subfolderPath, ready);
      // A failed attempt is forgotten so that the next put tries again.
      ready.catch(() => this.#subfoldersReady.delete(subfolderPath));
    }
    return ready;
  }
}

/** Writes `data` to a temp file beside `filePath`, fsyncs it, renames it to `filePath` and fsyncs the folder. */
async function writeFileDurably(filePath: string, data: Buffer): Promise<void> {
  const tempPath = `${filePath}.${randomUUID()}${tempFileSuffix}`;
  try {
    // Payloads may contain personal data, so only the owner may read them.
    const handle = await open(tempPath, 'wx', 0o600);
    try {
      await handle.writeFile(data);
      // fdatasync is enough, because it also flushes the file size that reading the data needs.
      await handle.datasync();
    } finally {
      await handle.close();
    }
    await rename(tempPath, filePath);
  } catch (error) {
    // The original error is the one to report. A temp file that cannot be removed stays
    // invisible to get.
    await unlink(tempPath).catch(() => undefined);
    throw error;
  }
  await syncFolder(dirname(filePath));
}

/**
 * Creates `folderPath` and any missing parents, then fsyncs the parent of each one created, so
 * their entries survive a crash. The direct parent is fsynced even when `folderPath` already
 * existed, because a process that stopped after mkdir may have left its entry unsynced.
 */
async function createFolderDurably(folderPath: string): Promise<void> {
  const firstCreatedPath = await mkdir(folderPath, { recursive: true });
  const topPath = firstCreatedPath ?? folderPath;
  const levelCount = relative(dirname(topPath), folderPath).split(sep).length;

  let childPath = folderPath;
  for (let level = 0; level < levelCount; level++) {
    const parentPath = dirname(childPath);
    await syncFolder(parentPath);
    childPath = parentPath;
  }
}

/** Fsyncs a folder, which makes renames and deletions inside it durable. */
async function syncFolder(folderPath: string): Promise<void> {
  // Node on Windows cannot fsync a folder, so there the entries rely on NTFS journaling.
  if (process.platform === 'win32') {
    return;
  }
  const handle = await open(folderPath, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** Parses and checks a payload file. Throws when the file is not what `put` wrote for `name`. */
function decodePayloadFile(fileBytes: Buffer, name: string, filePath: string): StoredPayload {
  const corrupt = (reason: string): Error =>
    new PermanentError(
      `Payload ${JSON.stringify(name)} in ${filePath} is corrupt: ${reason}. ` +
        'Restore the file from a backup, or delete the payload and ask the sender to resend it.',
    );

  const lineFeedIndex = fileBytes.indexOf(0x0a);
  if (lineFeedIndex < 0) {
    throw corrupt('the header line has no line feed');
  }

  let header: PayloadFileHeader;
  try {
    header = JSON.parse(fileBytes.toString('utf8', 0, lineFeedIndex)) as PayloadFileHeader;
  } catch (error) {
    throw corrupt(`the header line is not JSON (${errorMessageOf(error)})`);
  }
  if (header.format !== payloadFileFormat) {
    throw corrupt(`the header has format ${JSON.stringify(header.format)}, expected ${payloadFileFormat}`);
  }
  if (header.name !== name) {
    throw corrupt(`the header names payload ${JSON.stringify(header.name)}`);
  }
  if (typeof header.contentType !== 'string') {
    throw corrupt('the header has no content type');
  }

  const bytes = fileBytes.subarray(lineFeedIndex + 1);
  const digest = digestPayload(bytes);
  if (digest.sizeInBytes !== header.sizeInBytes) {
    throw corrupt(`it has ${digest.sizeInBytes} bytes, expected ${header.sizeInBytes}`);
  }
  if (digest.sha256 !== header.sha256) {
    throw corrupt(`its SHA-256 is ${digest.sha256}, expected ${header.sha256}`);
  }

  const payload: StoredPayload = { bytes, contentType: header.contentType, ...digest };
  if (typeof header.contentEncoding === 'string') {
    payload.contentEncoding = header.contentEncoding;
  }
  return payload;
}

// Error codes that retrying cannot fix until someone changes permissions or the folder path.
const permanentErrorCodes = new Set(['EACCES', 'EPERM', 'EROFS', 'ENOTDIR', 'EISDIR', 'ENAMETOOLONG']);

/** Wraps a file system error as a PermanentError or, for codes such as ENOSPC or EMFILE, a RetryableError. */
function classifyFileSystemError(message: string, error: unknown): Error {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  if (code !== undefined && permanentErrorCodes.has(code)) {
    return new PermanentError(message, { cause: error });
  }
  return new RetryableError(message, { cause: error });
}

function isNotFound(error: unknown): boolean {
  return (error as NodeJS.ErrnoException | undefined)?.code === 'ENOENT';
}
