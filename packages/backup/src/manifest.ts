import { type Compression, isCompression } from './compression.js';

/**
 * The JSON manifest written next to every backup file (`<id>.json`). A backup exists once its
 * manifest exists: the data file is written, fsynced and renamed first.
 *
 * @example
 * ```ts
 * const [newest] = await backups.list();
 * console.log(newest?.id, newest?.createdAt, newest?.compressedBytes, newest?.sha256);
 * ```
 */
export interface BackupManifest {
  /** Manifest format version: `1`. */
  formatVersion: 1;
  /** Backup id, e.g. `sqlite-20260101T120000000Z-3fa2`; sorts by time. */
  id: string;
  /** Free-form label given to `backup({ label })` (`scheduled`, `pre-restore`...). */
  label?: string;
  /** Driver name (`sqlite`, `postgres`). */
  driver: string;
  /** Database identity, without password. */
  database: string;
  /** Database engine version. */
  serverVersion: string;
  /** When the backup started, ISO 8601 (UTC). */
  createdAt: string;
  /** How long the backup took, milliseconds. */
  durationMs: number;
  /** Name of the data file in the backup directory. */
  file: string;
  /** Compression of the data file. */
  compression: Compression;
  /** Size of the dump before compression, bytes. */
  uncompressedBytes: number;
  /** Size of the data file, bytes. */
  compressedBytes: number;
  /** SHA-256 (hex) of the data file. */
  sha256: string;
  /** SHA-256 (hex) of the uncompressed dump. */
  uncompressedSha256: string;
}

/**
 * A backup as {@link Backups.list} returns it: its manifest plus where the files are.
 *
 * @example
 * ```ts
 * for (const backup of await backups.list()) console.log(backup.id, backup.path);
 * ```
 */
export interface BackupInfo extends BackupManifest {
  /** Absolute path of the data file. */
  path: string;
  /** Absolute path of the manifest. */
  manifestPath: string;
  /** `createdAt` in epoch milliseconds. */
  createdAtMs: number;
}

const HEX64 = /^[0-9a-f]{64}$/;
const ID = /^[A-Za-z0-9._-]+$/;

/** @internal Parses and validates a manifest; throws an Error saying what is wrong. */
export function parseManifest(text: string): BackupManifest {
  const value = JSON.parse(text) as Record<string, unknown>;
  const fail = (what: string): never => {
    throw new Error(`invalid manifest: ${what}`);
  };
  if (typeof value !== 'object' || value === null) fail('not an object');
  if (value.formatVersion !== 1) fail('formatVersion');
  for (const key of ['id', 'driver', 'database', 'serverVersion', 'createdAt', 'file'] as const) {
    if (typeof value[key] !== 'string') fail(key);
  }
  if (!ID.test(value.id as string) || !ID.test(value.file as string)) fail('id or file');
  if (Number.isNaN(Date.parse(value.createdAt as string))) fail('createdAt');
  if (!isCompression(value.compression)) fail('compression');
  for (const key of ['durationMs', 'uncompressedBytes', 'compressedBytes'] as const) {
    const n = value[key];
    if (typeof n !== 'number' || !Number.isFinite(n) || n < 0) fail(key);
  }
  if (typeof value.sha256 !== 'string' || !HEX64.test(value.sha256)) fail('sha256');
  if (typeof value.uncompressedSha256 !== 'string' || !HEX64.test(value.uncompressedSha256)) {
    fail('uncompressedSha256');
  }
  if (value.label !== undefined && typeof value.label !== 'string') fail('label');
  return value as unknown as BackupManifest;
}

/** @internal A sortable id: `<driver>-<yyyymmddThhmmssSSSZ>-<random>`. */
export function makeId(driver: string, createdAtMs: number, random: string): string {
  const stamp = new Date(createdAtMs).toISOString().replace(/[-:.]/g, '');
  return `${driver}-${stamp}-${random}`;
}
