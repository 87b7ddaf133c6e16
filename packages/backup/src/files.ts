import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, open, readdir, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { type Readable, Transform, type Writable } from 'node:stream';

/** @internal Name of the scratch directory inside the backup directory. */
export const SCRATCH = '.tmp';

/** @internal A random suffix for temporary names. */
export function randomId(bytes = 4): string {
  return randomBytes(bytes).toString('hex');
}

/** @internal Creates a directory (0700 when new). */
export async function ensureDir(path: string): Promise<void> {
  await mkdir(path, { recursive: true, mode: 0o700 });
}

/** @internal fsyncs a directory so a rename in it survives a crash (best effort on odd filesystems). */
export async function fsyncDir(path: string): Promise<void> {
  let handle: Awaited<ReturnType<typeof open>> | undefined;
  try {
    handle = await open(path, 'r');
    await handle.sync();
  } catch {
    // Some filesystems refuse fsync on directories; the rename is still atomic.
  } finally {
    await handle?.close();
  }
}

/** @internal fsyncs a file by path. */
export async function fsyncFile(path: string): Promise<void> {
  const handle = await open(path, 'r+');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** @internal Writes `data` atomically: temp file (0600) in `scratch` (same filesystem), fsync, rename, fsync dir. */
export async function writeFileAtomic(
  dir: string,
  name: string,
  data: string | Uint8Array,
  scratch: string,
): Promise<void> {
  const temp = join(scratch, `${name}.${randomId()}.part`);
  const handle = await open(temp, 'wx', 0o600);
  try {
    await handle.writeFile(data);
    await handle.sync();
  } catch (error) {
    await handle.close().catch(() => {});
    await rm(temp, { force: true });
    throw error;
  }
  await handle.close();
  try {
    await rename(temp, join(dir, name));
  } catch (error) {
    await rm(temp, { force: true });
    throw error;
  }
  await fsyncDir(dir);
}

/** @internal A pass-through transform that counts bytes and hashes them with SHA-256. */
export class HashCounter extends Transform {
  /** Bytes seen so far. */
  bytes = 0;
  readonly #hash = createHash('sha256');

  constructor() {
    // Room for a few 1 MiB chunks, so reading, hashing and (de)compressing overlap.
    super({ highWaterMark: 4 * 1024 * 1024 });
  }

  override _transform(
    chunk: Buffer,
    _encoding: BufferEncoding,
    callback: (error?: Error | null, data?: Buffer) => void,
  ) {
    this.bytes += chunk.length;
    this.#hash.update(chunk);
    callback(null, chunk);
  }

  /** Hex digest; call once, after the stream finished. */
  digest(): string {
    return this.#hash.digest('hex');
  }
}

/**
 * @internal Joins small chunks (a pipe delivers 64 KiB) into ~1 MiB ones, so hashing and the
 * compressor's thread-pool round trips happen 16 times less often.
 */
export class Coalesce extends Transform {
  #parts: Buffer[] = [];
  #size = 0;

  override _transform(
    chunk: Buffer,
    _encoding: BufferEncoding,
    callback: (error?: Error | null, data?: Buffer) => void,
  ) {
    this.#parts.push(chunk);
    this.#size += chunk.length;
    if (this.#size < 1024 * 1024) return callback();
    const joined = Buffer.concat(this.#parts, this.#size);
    this.#parts = [];
    this.#size = 0;
    callback(null, joined);
  }

  override _flush(callback: (error?: Error | null, data?: Buffer) => void) {
    callback(null, this.#size > 0 ? Buffer.concat(this.#parts, this.#size) : undefined);
  }
}

const CHUNK = 1024 * 1024;

/**
 * @internal SHA-256 and size of a file, read through one reused buffer (no garbage: hashing a
 * 10 GB file does not grow the process's memory).
 */
export async function hashFile(path: string, signal?: AbortSignal): Promise<{ sha256: string; bytes: number }> {
  const handle = await open(path, 'r');
  const hash = createHash('sha256');
  const buffer = Buffer.allocUnsafe(CHUNK);
  let bytes = 0;
  try {
    for (;;) {
      signal?.throwIfAborted();
      const { bytesRead } = await handle.read(buffer, 0, CHUNK, null);
      if (bytesRead === 0) break;
      hash.update(buffer.subarray(0, bytesRead));
      bytes += bytesRead;
    }
  } finally {
    await handle.close();
  }
  return { sha256: hash.digest('hex'), bytes };
}

/**
 * @internal Compresses `source` into a new 0600 file `target` through `transform`, hashing both
 * sides. The input is read through one reused buffer, and each chunk is handed to the
 * compressor only after it has consumed the previous one, so memory stays flat for any size.
 */
export async function compressFile(
  source: string,
  target: string,
  transform: Transform,
  signal: AbortSignal,
): Promise<{ raw: { sha256: string; bytes: number }; stored: { sha256: string; bytes: number } }> {
  const input = await open(source, 'r');
  const output = await open(target, 'wx', 0o600);
  const rawHash = createHash('sha256');
  const storedHash = createHash('sha256');
  let rawBytes = 0;
  let storedBytes = 0;
  const buffer = Buffer.allocUnsafe(CHUNK);
  let writing: Promise<unknown> = Promise.resolve();
  let failure: unknown;
  transform.on('data', (chunk: Buffer) => {
    storedHash.update(chunk);
    storedBytes += chunk.length;
    writing = writing.then(() => output.write(chunk));
  });
  transform.on('error', (error) => {
    failure ??= error;
  });
  const ended = new Promise<void>((resolve, reject) => {
    transform.once('end', resolve);
    transform.once('error', reject);
  });
  ended.catch(() => {});
  try {
    for (;;) {
      signal.throwIfAborted();
      if (failure) throw failure;
      const { bytesRead } = await input.read(buffer, 0, CHUNK, null);
      if (bytesRead === 0) break;
      const chunk = buffer.subarray(0, bytesRead);
      rawHash.update(chunk);
      rawBytes += bytesRead;
      await new Promise<void>((resolve, reject) =>
        transform.write(chunk, (error) => (error ? reject(error) : resolve())),
      );
      await writing;
    }
    transform.end();
    await ended;
    await writing;
    signal.throwIfAborted();
  } catch (error) {
    transform.destroy();
    throw error;
  } finally {
    await input.close();
    await output.close();
  }
  return {
    raw: { sha256: rawHash.digest('hex'), bytes: rawBytes },
    stored: { sha256: storedHash.digest('hex'), bytes: storedBytes },
  };
}

/** @internal A write stream creating a new 0600 file. */
export function createPrivateWriteStream(path: string): Writable {
  return createWriteStream(path, { flags: 'wx', mode: 0o600, highWaterMark: 1024 * 1024 });
}

/** @internal A read stream with a 1 MiB buffer. */
export function readStream(path: string): Readable {
  return createReadStream(path, { highWaterMark: 1024 * 1024 });
}

/** @internal Size of a file, or undefined when it does not exist. */
export async function sizeOf(path: string): Promise<number | undefined> {
  try {
    return (await stat(path)).size;
  } catch {
    return undefined;
  }
}

/** @internal Lists a directory, empty when it does not exist. */
export async function listDir(path: string): Promise<string[]> {
  try {
    return await readdir(path);
  } catch {
    return [];
  }
}
