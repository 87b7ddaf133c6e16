import type { Clock, Logger, Probe } from '@botkit/core';
import type { EventEmitter } from 'eventemitter3';
import type { Compression } from './compression.js';
import type { BackupDriver } from './driver.js';
import type { BackupLease } from './lock.js';
import type { BackupInfo } from './manifest.js';
import type { RetentionPolicy } from './retention.js';
import type { ScheduleHandle, ScheduleOptions } from './schedule.js';

/**
 * Options of {@link createBackups}.
 *
 * @example
 * ```ts
 * const options: CreateBackupsOptions = {
 *   driver: sqliteDriver({ path: './bot.db' }),
 *   dir: './backups',
 *   retention: { keepLast: 24, keepDaily: 7 },
 * };
 * ```
 */
export interface CreateBackupsOptions {
  /** The database driver ({@link sqliteDriver} or {@link postgresDriver}). */
  driver: BackupDriver;
  /** Directory holding backups and manifests (created 0700 if missing); one directory per database. */
  dir: string;
  /** Compression of backup files. @defaultValue `'zstd'` */
  compression?: Compression | undefined;
  /** Compression level (zstd 1-19, gzip 1-9). @defaultValue `3` for zstd, `6` for gzip */
  compressionLevel?: number | undefined;
  /** Which backups {@link Backups.prune} keeps. @defaultValue `{}` (keeps everything) */
  retention?: RetentionPolicy | undefined;
  /**
   * A distributed lease taken around every backup, restore and prune (one replica runs the
   * schedule); the lock file in `dir` is always used as well. @defaultValue none
   */
  lock?: BackupLease | undefined;
  /** Clock for timestamps, the schedule and the probe. @defaultValue `systemClock` */
  clock?: Clock | undefined;
  /** Logger; silent by default. @defaultValue `noopLogger` */
  logger?: Logger | undefined;
}

/**
 * Events of {@link Backups}.
 *
 * @example
 * ```ts
 * backups.on('backupCompleted', (backup) => console.log('backup', backup.id, backup.compressedBytes));
 * backups.on('backupFailed', ({ error }) => console.error(error));
 * ```
 */
export interface BackupEvents {
  /** A backup started. */
  backupStarted: [event: { label: string | undefined; startedAt: number }];
  /** A backup was written and its manifest committed. */
  backupCompleted: [backup: BackupInfo];
  /** A backup failed or was aborted; nothing was left behind. */
  backupFailed: [event: { label: string | undefined; error: unknown }];
  /** Backups were removed by {@link Backups.prune}. */
  pruned: [event: { removed: BackupInfo[]; kept: BackupInfo[] }];
  /** A backup was restored into the database. */
  restored: [event: RestoreResult];
}

/**
 * Result of {@link Backups.verify}.
 *
 * @example
 * ```ts
 * const result = await backups.verify(id, { deep: true });
 * if (!result.ok) console.error(result.problem);
 * ```
 */
export interface VerifyResult {
  /** The backup id. */
  id: string;
  /** Whether the backup is intact (and, for deep checks, restorable). */
  ok: boolean;
  /** Whether a deep check ran. */
  deep: boolean;
  /** What is wrong, when `ok` is false. */
  problem?: string;
  /** Rows per table (deep checks only). */
  tables?: Record<string, number>;
}

/**
 * Result of {@link Backups.restore} (also the payload of the `restored` event).
 *
 * @example
 * ```ts
 * const { safetyBackupId } = await backups.restore(id);
 * console.log('previous state saved as', safetyBackupId);
 * ```
 */
export interface RestoreResult {
  /** The restored backup. */
  id: string;
  /** Id of the backup taken of the database just before restoring, if any. */
  safetyBackupId: string | undefined;
  /** How long the restore took, milliseconds. */
  durationMs: number;
}

/**
 * Result of {@link Backups.prune}.
 *
 * @example
 * ```ts
 * const { removed } = await backups.prune({ dryRun: true });
 * console.log('would remove', removed.map((b) => b.id));
 * ```
 */
export interface PruneResult {
  /** Backups removed (or that would be, in a dry run). */
  removed: BackupInfo[];
  /** Backups kept. */
  kept: BackupInfo[];
  /** Whether this was a dry run. */
  dryRun: boolean;
}

/**
 * Options of {@link Backups.probe}.
 *
 * @example
 * ```ts
 * health.add(backups.probe({ maxAgeMs: 2 * 3_600_000 }));
 * ```
 */
export interface BackupProbeOptions {
  /** The RPO: unhealthy when the newest backup is older. @defaultValue `3_600_000` (1 h) */
  maxAgeMs?: number | undefined;
  /** Probe name. @defaultValue `'backup'` */
  name?: string | undefined;
}

/**
 * Backups of one database in one directory: take, list, verify, restore, prune, schedule,
 * and a freshness probe. Created by {@link createBackups}.
 *
 * @example
 * ```ts
 * const backups = createBackups({ driver: sqliteDriver({ path: './bot.db' }), dir: './backups' });
 * const backup = await backups.backup({ label: 'manual' });
 * const result = await backups.verify(backup.id, { deep: true });
 * ```
 */
export interface Backups extends EventEmitter<BackupEvents> {
  /** The backup directory (absolute). */
  readonly dir: string;
  /**
   * Takes a backup: consistent dump, compressed, checksummed, written atomically (0600).
   *
   * @param options - `signal` to abort (nothing is left behind), `label` stored in the manifest
   * @returns the new backup
   * @throws {@link BackupError} `BOTKIT_BACKUP_FAILED` or `BOTKIT_BACKUP_LOCKED`; the signal's reason when aborted
   */
  backup(options?: { signal?: AbortSignal | undefined; label?: string | undefined }): Promise<BackupInfo>;
  /**
   * Lists complete backups, newest first.
   *
   * @returns the backups whose manifest is readable
   */
  list(): Promise<BackupInfo[]>;
  /**
   * Checks a backup: size and SHA-256 always; with `deep`, also decompresses it and checks the
   * dump itself (SQLite `integrity_check`, PostgreSQL full `pg_restore` read or, with
   * `restoreIntoTemp`, a restore into a temporary database) and reports table counts.
   *
   * @param id - backup id
   * @param options - `deep`, `restoreIntoTemp` (PostgreSQL), `signal`
   * @returns `ok: false` with the `problem` when the backup is damaged
   * @throws {@link BackupError} `BOTKIT_BACKUP_NOT_FOUND`
   */
  verify(
    id: string,
    options?: { deep?: boolean | undefined; restoreIntoTemp?: boolean | undefined; signal?: AbortSignal | undefined },
  ): Promise<VerifyResult>;
  /**
   * Restores a backup into the live database, after checking its checksum and taking a safety
   * backup of the current state. All or nothing.
   *
   * @param id - backup id
   * @param options - `safetyBackup` (default true), `signal`
   * @returns the restored id and the safety backup's id
   * @throws {@link BackupError} `BOTKIT_BACKUP_CORRUPT` (refused, database untouched), `BOTKIT_BACKUP_NOT_FOUND`,
   *   `BOTKIT_BACKUP_LOCKED`, `BOTKIT_BACKUP_RESTORE_FAILED`
   */
  restore(
    id: string,
    options?: { safetyBackup?: boolean | undefined; signal?: AbortSignal | undefined },
  ): Promise<RestoreResult>;
  /**
   * Removes backups the retention policy does not keep (never the newest one, nor one being
   * verified or restored).
   *
   * @param options - `dryRun` only reports what would go
   * @returns removed and kept backups
   */
  prune(options?: { dryRun?: boolean | undefined; signal?: AbortSignal | undefined }): Promise<PruneResult>;
  /**
   * Runs `backup()` (then `prune()`) on a cron schedule (croner syntax, e.g. `0 * * * *`).
   * Runs never overlap; a run skipped because another replica holds the lock is not an error.
   *
   * @param cronExpression - when to run
   * @param options - time zone, whether to prune after each backup
   * @returns a handle with `stop()`
   * @throws TypeError when the expression is invalid
   */
  schedule(cronExpression: string, options?: ScheduleOptions): ScheduleHandle;
  /**
   * A freshness probe for `@botkit/health`: `unhealthy` when there is no backup newer than
   * `maxAgeMs`, `degraded` when the last attempt failed but a fresh backup exists.
   *
   * @param options - RPO and name
   * @returns a `Probe` from `@botkit/core`
   */
  probe(options?: BackupProbeOptions): Probe;
  /** Stops every schedule and waits for running scheduled backups to end. Idempotent. */
  stop(): Promise<void>;
  /** Same as `stop()`, for `await using`. */
  [Symbol.asyncDispose](): Promise<void>;
}
