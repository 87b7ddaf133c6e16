import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, open, readdir, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { type Readable, Transform, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';

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

/** @internal SHA-256 and size of a file, streaming. */
export async function hashFile(path: string, signal?: AbortSignal): Promise<{ sha256: string; bytes: number }> {
  const counter = new HashCounter();
  const sink = new Writable({ write: (_c, _e, cb) => cb() });
  await pipeline(createReadStream(path, { highWaterMark: 1024 * 1024 }), counter, sink, signal ? { signal } : {});
  return { sha256: counter.digest(), bytes: counter.bytes };
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
