import type { Transform } from 'node:stream';
import zlib from 'node:zlib';
import { BackupError, BackupErrorCode } from './errors.js';

/**
 * How backup files are compressed: `zstd` (fast, small; needs Node >= 22.15), `gzip`
 * (portable) or `none`.
 *
 * @example
 * ```ts
 * import type { Compression } from '@botkit/backup';
 *
 * const compression: Compression = 'zstd';
 * ```
 */
export type Compression = 'zstd' | 'gzip' | 'none';

const COMPRESSIONS: readonly Compression[] = ['zstd', 'gzip', 'none'];

/** @internal */
export function isCompression(value: unknown): value is Compression {
  return typeof value === 'string' && (COMPRESSIONS as readonly string[]).includes(value);
}

/** @internal File name suffix of a compression. */
export function compressionSuffix(compression: Compression): string {
  return compression === 'zstd' ? '.zst' : compression === 'gzip' ? '.gz' : '';
}

/** @internal Default level: zstd 3 (zstd's own default), gzip 6. */
export function defaultLevel(compression: Compression): number {
  return compression === 'zstd' ? 3 : compression === 'gzip' ? 6 : 0;
}

function zstdAvailable(): boolean {
  return typeof (zlib as { createZstdCompress?: unknown }).createZstdCompress === 'function';
}

/** @internal Throws when the compression cannot run on this Node version. */
export function assertCompressionSupported(compression: Compression): void {
  if (compression === 'zstd' && !zstdAvailable()) {
    throw new BackupError(
      BackupErrorCode.Unsupported,
      `zstd compression needs Node >= 22.15 (running ${process.version}); use compression: 'gzip'`,
    );
  }
}

const CHUNK = 1024 * 1024;

/** @internal A compressing transform, or undefined for `none`. */
export function compressor(compression: Compression, level: number): Transform | undefined {
  if (compression === 'none') return undefined;
  if (compression === 'gzip') return zlib.createGzip({ level, chunkSize: CHUNK });
  assertCompressionSupported('zstd');
  return zlib.createZstdCompress({ chunkSize: CHUNK, params: { [zlib.constants.ZSTD_c_compressionLevel]: level } });
}

/** @internal A decompressing transform, or undefined for `none`. */
export function decompressor(compression: Compression): Transform | undefined {
  if (compression === 'none') return undefined;
  if (compression === 'gzip') return zlib.createGunzip({ chunkSize: CHUNK });
  assertCompressionSupported('zstd');
  return zlib.createZstdDecompress({ chunkSize: CHUNK });
}
