import { join } from 'node:path';
import { type Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { decompressor } from './compression.js';
import type { DumpReader } from './driver.js';
import { BackupError, BackupErrorCode } from './errors.js';
import { createPrivateWriteStream, HashCounter, readStream } from './files.js';
import type { BackupInfo } from './manifest.js';

/** Passes the uncompressed dump through and fails if its size or SHA-256 differ from the manifest. */
class Checker extends Transform {
  readonly counter = new HashCounter();
  constructor(
    private readonly expected: { sha256: string; bytes: number },
    private readonly what: string,
  ) {
    super();
  }
  override _transform(
    chunk: Buffer,
    encoding: BufferEncoding,
    callback: (error?: Error | null, data?: Buffer) => void,
  ) {
    this.counter._transform(chunk, encoding, () => {});
    if (this.counter.bytes > this.expected.bytes) {
      callback(new BackupError(BackupErrorCode.Corrupt, `${this.what} is longer than its manifest says`));
      return;
    }
    callback(null, chunk);
  }
  override _flush(callback: (error?: Error | null) => void) {
    const digest = this.counter.digest();
    if (this.counter.bytes !== this.expected.bytes || digest !== this.expected.sha256) {
      callback(new BackupError(BackupErrorCode.Corrupt, `${this.what} does not match its manifest (size or SHA-256)`));
    } else callback();
  }
}

/**
 * @internal A reader of the uncompressed dump of `backup`; the stream errors (and a file is not
 * produced) when the dump does not match its manifest.
 */
export function createDumpReader(backup: BackupInfo, scratch: string, extension: string): DumpReader {
  let file: Promise<string> | undefined;
  const stream = (): Readable => {
    const checker = new Checker(
      { sha256: backup.uncompressedSha256, bytes: backup.uncompressedBytes },
      `Uncompressed dump of ${backup.id}`,
    );
    const z = decompressor(backup.compression);
    const input = readStream(backup.path);
    const streams = [input, ...(z ? [z] : []), checker] as const;
    for (let i = 0; i < streams.length - 1; i++) {
      const from = streams[i] as Readable;
      from.on('error', (error) => checker.destroy(error));
      from.pipe(streams[i + 1] as Transform);
    }
    return checker;
  };
  return {
    stream,
    toFile() {
      file ??= (async () => {
        const path = join(scratch, `${backup.id}.${extension}`);
        await pipeline(stream(), createPrivateWriteStream(path));
        return path;
      })();
      return file;
    },
  };
}
