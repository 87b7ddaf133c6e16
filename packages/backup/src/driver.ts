import type { Readable } from 'node:stream';

/**
 * What a driver reports about the database it backs up; stored in every manifest.
 *
 * @example
 * ```ts
 * const info = await sqliteDriver({ path: 'bot.db' }).describe({ signal: AbortSignal.timeout(1000) });
 * console.log(info.database, info.serverVersion); // '/srv/bot.db' '3.50.4'
 * ```
 */
export interface DatabaseInfo {
  /** Identity of the database, safe to log: a file path or a URL with the password masked. */
  database: string;
  /** Version of the database engine (SQLite library or PostgreSQL server). */
  serverVersion: string;
}

/**
 * The uncompressed dump handed to a driver for restore or deep verification: either read it as
 * a stream or ask for a file on disk (created in a scratch directory and removed afterwards).
 *
 * @example
 * ```ts
 * const driver: BackupDriver = {
 *   ...sqliteDriver({ path: 'bot.db' }),
 *   async restore({ dump }) {
 *     console.log('restoring from', await dump.toFile());
 *   },
 * };
 * ```
 */
export interface DumpReader {
  /** A fresh stream of the uncompressed dump. */
  stream(): Readable;
  /** Path of the uncompressed dump as a file (materialised on first call). */
  toFile(): Promise<string>;
}

/**
 * A dump produced by a driver: a finished file (SQLite) or a stream that ends when the dump is
 * complete and errors when it fails (PostgreSQL).
 *
 * @example
 * ```ts
 * const output: DumpOutput = { kind: 'file', path: '/var/backups/.tmp/snapshot.sqlite' };
 * ```
 */
export type DumpOutput = { kind: 'file'; path: string } | { kind: 'stream'; stream: Readable };

/**
 * Result of a deep check of a dump.
 *
 * @example
 * ```ts
 * const check: DeepCheckResult = { ok: true, tables: { users: 120, messages: 5400 } };
 * ```
 */
export interface DeepCheckResult {
  /** Whether the dump is readable and consistent. */
  ok: boolean;
  /** Rows per table (SQLite, or PostgreSQL restored into a temporary database), or `-1` when only the table is known. */
  tables: Record<string, number>;
  /** What was wrong, when `ok` is false. */
  problem?: string;
}

/**
 * A database driver: how to dump, restore and check one database. Use {@link sqliteDriver} or
 * {@link postgresDriver}; implement this to back up something else.
 *
 * @example
 * ```ts
 * import { createBackups, sqliteDriver, type BackupDriver } from '@botkit/backup';
 *
 * const driver: BackupDriver = sqliteDriver({ path: './bot.db' });
 * const backups = createBackups({ driver, dir: './backups' });
 * ```
 */
export interface BackupDriver {
  /** Short driver name stored in manifests, e.g. `sqlite` or `postgres`. */
  readonly name: string;
  /** Extension of the uncompressed dump file, without dot (`sqlite`, `pgdump`). */
  readonly extension: string;
  /** Identity of the database, safe to log (no password). */
  readonly database: string;
  /**
   * Describes the database (identity and engine version).
   *
   * @param context - carries the AbortSignal
   * @returns the identity and version
   */
  describe(context: { signal: AbortSignal }): Promise<DatabaseInfo>;
  /**
   * Whether the database exists and has content. When it resolves false, `restore` skips the
   * safety backup (there is nothing to save). Optional: assumed true when missing.
   *
   * @param context - carries the AbortSignal
   * @returns false when there is no database to save
   */
  exists?(context: { signal: AbortSignal }): Promise<boolean>;
  /**
   * Takes a consistent dump.
   *
   * @param context - the AbortSignal and a scratch directory on the backup volume for temporary files
   * @returns the dump as a file or a stream
   */
  dump(context: { signal: AbortSignal; scratchDir: string }): Promise<DumpOutput>;
  /**
   * Restores a dump into the live database: all or nothing.
   *
   * @param context - the AbortSignal and the dump to restore
   */
  restore(context: { signal: AbortSignal; dump: DumpReader }): Promise<void>;
  /**
   * Checks that a dump is complete and readable.
   *
   * @param context - the AbortSignal, the dump, and whether to restore into a temporary database
   * @returns whether it is fine and what tables it holds
   */
  check(context: { signal: AbortSignal; dump: DumpReader; restoreIntoTemp: boolean }): Promise<DeepCheckResult>;
}
