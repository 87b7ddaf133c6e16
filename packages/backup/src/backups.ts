import { chmod, readFile, rename, rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { type Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import {
  type Clock,
  isBotkitError,
  type Logger,
  noopLogger,
  type Probe,
  type ProbeResult,
  systemClock,
} from '@botkit/core';
import { EventEmitter } from 'eventemitter3';
import {
  type Compression,
  assertCompressionSupported,
  compressionSuffix,
  compressor,
  decompressor,
  defaultLevel,
  isCompression,
} from './compression.js';
import type { BackupDriver, DumpReader } from './driver.js';
import { BackupError, BackupErrorCode } from './errors.js';
import {
  createPrivateWriteStream,
  ensureDir,
  fsyncDir,
  fsyncFile,
  HashCounter,
  hashFile,
  listDir,
  randomId,
  readStream,
  SCRATCH,
  writeFileAtomic,
} from './files.js';
import { acquireLockFile, type BackupLease, pidAlive } from './lock.js';
import { type BackupInfo, type BackupManifest, makeId, parseManifest } from './manifest.js';
import { planRetention, type RetentionPolicy, validateRetention } from './retention.js';
import { createSchedule, type ScheduleHandle, type ScheduleOptions } from './schedule.js';

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
  /** Stops every schedule and waits for running scheduled backups to end. */
  stop(): Promise<void>;
}

const STATUS_FILE = '.last-attempt.json';
const LOCK_FILE = '.lock';

interface AttemptStatus {
  ok: boolean;
  at: number;
  message?: string;
}

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

function abortable(signal: AbortSignal | undefined): AbortSignal {
  return signal ?? new AbortController().signal;
}

function wrapFailure(error: unknown, signal: AbortSignal, what: string): unknown {
  if (signal.aborted) return signal.reason;
  if (isBotkitError(error)) return error;
  return new BackupError(BackupErrorCode.Failed, `${what}: ${error instanceof Error ? error.message : String(error)}`, {
    cause: error,
  });
}

/**
 * Creates the backups of one database in one directory.
 *
 * @param options - driver, directory, compression, retention, lock, clock, logger
 * @returns a {@link Backups} object
 * @throws TypeError naming the invalid option
 *
 * @example
 * ```ts
 * import { createBackups, sqliteDriver } from '@botkit/backup';
 *
 * const backups = createBackups({
 *   driver: sqliteDriver({ path: './bot.db' }),
 *   dir: './backups',
 *   retention: { keepLast: 24, keepDaily: 7, keepWeekly: 4, keepMonthly: 6 },
 * });
 * backups.schedule('0 * * * *'); // hourly
 * health.add(backups.probe({ maxAgeMs: 3_600_000 }));
 * ```
 */
export function createBackups(options: CreateBackupsOptions): Backups {
  if (typeof options !== 'object' || options === null) throw new TypeError('Expected an options object');
  const { driver } = options;
  if (typeof driver !== 'object' || driver === null || typeof driver.dump !== 'function') {
    throw new TypeError('Expected driver to be a BackupDriver (sqliteDriver(...) or postgresDriver(...))');
  }
  if (typeof options.dir !== 'string' || options.dir.length === 0) {
    throw new TypeError(`Expected dir to be a non-empty string, got ${String(options.dir)}`);
  }
  const compression = options.compression ?? 'zstd';
  if (!isCompression(compression)) {
    throw new TypeError(`Expected compression to be 'zstd', 'gzip' or 'none', got ${String(compression)}`);
  }
  assertCompressionSupported(compression);
  const level = options.compressionLevel ?? defaultLevel(compression);
  const maxLevel = compression === 'zstd' ? 19 : 9;
  if (compression !== 'none' && (!Number.isInteger(level) || level < 1 || level > maxLevel)) {
    throw new TypeError(`Expected compressionLevel to be an integer from 1 to ${maxLevel}, got ${String(level)}`);
  }
  const retention = options.retention ?? {};
  validateRetention(retention);
  const lease = options.lock;
  if (lease !== undefined && (typeof lease.tryAcquire !== 'function' || typeof lease.release !== 'function')) {
    throw new TypeError('Expected lock to have tryAcquire() and release() methods');
  }
  const clock = options.clock ?? systemClock;
  const logger = options.logger ?? noopLogger;
  const dir = resolve(options.dir);
  const scratchRoot = join(dir, SCRATCH);
  const busy = new Set<string>();
  const failedVerify = new Set<string>();
  const schedules = new Set<ScheduleHandle>();
  let lastAttempt: AttemptStatus | undefined;

  const emitter = new EventEmitter<BackupEvents>() as Backups;

  const newScratch = async () => {
    const path = join(scratchRoot, `${process.pid}-${randomId()}`);
    await ensureDir(path);
    return path;
  };

  /** Removes leftovers of killed processes: scratch dirs of dead pids, data files without manifest. */
  const cleanLeftovers = async () => {
    for (const name of await listDir(scratchRoot)) {
      const pid = Number(name.split('-')[0]);
      if (!pidAlive(pid)) await rm(join(scratchRoot, name), { recursive: true, force: true });
    }
    const names = await listDir(dir);
    const manifests = new Set(names.filter((n) => n.endsWith('.json') && !n.startsWith('.')));
    for (const name of names) {
      if (name.startsWith('.') || name.endsWith('.json')) continue;
      const id = name.slice(0, name.indexOf('.'));
      if (id.startsWith(`${driver.name}-`) && !manifests.has(`${id}.json`)) {
        logger.warn({ file: name }, 'removing backup file without manifest (interrupted backup)');
        await rm(join(dir, name), { force: true });
      }
    }
  };

  const withLock = async <T>(operation: string, fn: () => Promise<T>): Promise<T> => {
    await ensureDir(dir);
    if (lease && !(await lease.tryAcquire())) {
      throw new BackupError(BackupErrorCode.Locked, `Another replica holds the backup lease (${operation} skipped)`);
    }
    try {
      const release = await acquireLockFile(join(dir, LOCK_FILE), operation);
      try {
        await cleanLeftovers();
        return await fn();
      } finally {
        await release();
      }
    } finally {
      await lease?.release().catch((error: unknown) => logger.warn({ err: error }, 'releasing backup lease failed'));
    }
  };

  const recordAttempt = async (status: AttemptStatus, scratch: string) => {
    lastAttempt = status;
    await writeFileAtomic(dir, STATUS_FILE, JSON.stringify(status), scratch).catch(() => {});
  };

  const readManifest = async (id: string): Promise<BackupInfo> => {
    if (!/^[A-Za-z0-9._-]+$/.test(id))
      throw new BackupError(BackupErrorCode.NotFound, `No backup with id ${JSON.stringify(id)}`);
    const manifestPath = join(dir, `${id}.json`);
    let text: string;
    try {
      text = await readFile(manifestPath, 'utf8');
    } catch {
      throw new BackupError(BackupErrorCode.NotFound, `No backup with id ${id} in ${dir}`);
    }
    let manifest: BackupManifest;
    try {
      manifest = parseManifest(text);
    } catch (error) {
      throw new BackupError(BackupErrorCode.Corrupt, `Manifest of ${id} is damaged: ${String(error)}`, {
        cause: error,
      });
    }
    if (manifest.id !== id) throw new BackupError(BackupErrorCode.Corrupt, `Manifest of ${id} names another backup`);
    return toInfo(manifest);
  };

  const toInfo = (manifest: BackupManifest): BackupInfo => ({
    ...manifest,
    path: join(dir, manifest.file),
    manifestPath: join(dir, `${manifest.id}.json`),
    createdAtMs: Date.parse(manifest.createdAt),
  });

  const takeBackup = async (signal: AbortSignal, label: string | undefined): Promise<BackupInfo> => {
    const startedAt = clock.now();
    const t0 = performance.now();
    emitter.emit('backupStarted', { label, startedAt });
    const scratch = await newScratch();
    let finalPath: string | undefined;
    try {
      const info = await driver.describe({ signal });
      const id = makeId(driver.name, startedAt, randomId(2));
      const file = `${id}.${driver.extension}${compressionSuffix(compression)}`;
      const temp = join(scratch, `${file}.part`);
      const output = await driver.dump({ signal, scratchDir: scratch });
      let raw: { bytes: number; sha256: string };
      let stored: { bytes: number; sha256: string };
      if (output.kind === 'file' && compression === 'none') {
        // The snapshot is the backup: hash it in place instead of copying it.
        raw = stored = await hashFile(output.path, signal);
        await chmod(output.path, 0o600);
        await rename(output.path, temp);
      } else {
        const source: Readable = output.kind === 'file' ? readStream(output.path) : output.stream;
        const rawCounter = new HashCounter();
        const storedCounter = new HashCounter();
        const z = compressor(compression, level);
        await pipeline([source, rawCounter, ...(z ? [z] : []), storedCounter, createPrivateWriteStream(temp)], {
          signal,
        });
        raw = { bytes: rawCounter.bytes, sha256: rawCounter.digest() };
        stored = { bytes: storedCounter.bytes, sha256: storedCounter.digest() };
        if (output.kind === 'file') await rm(output.path, { force: true });
      }
      await fsyncFile(temp);
      const manifest: BackupManifest = {
        formatVersion: 1,
        id,
        ...(label !== undefined ? { label } : {}),
        driver: driver.name,
        database: info.database,
        serverVersion: info.serverVersion,
        createdAt: new Date(startedAt).toISOString(),
        durationMs: Math.round(performance.now() - t0),
        file,
        compression,
        uncompressedBytes: raw.bytes,
        compressedBytes: stored.bytes,
        sha256: stored.sha256,
        uncompressedSha256: raw.sha256,
      };
      signal.throwIfAborted();
      finalPath = join(dir, file);
      await rename(temp, finalPath);
      await fsyncDir(dir);
      // The manifest is the commit point: without it the data file is an interrupted backup.
      await writeFileAtomic(dir, `${id}.json`, `${JSON.stringify(manifest, null, 2)}\n`, scratch);
      const backup = toInfo(manifest);
      logger.info({ id, bytes: manifest.compressedBytes, durationMs: manifest.durationMs }, 'backup completed');
      await recordAttempt({ ok: true, at: clock.now() }, scratch);
      emitter.emit('backupCompleted', backup);
      return backup;
    } catch (error) {
      if (finalPath) await rm(finalPath, { force: true });
      const failure = wrapFailure(error, signal, `Backup of ${driver.database} failed`);
      logger.error({ err: failure }, 'backup failed');
      await recordAttempt({ ok: false, at: clock.now(), message: String(failure) }, scratch);
      emitter.emit('backupFailed', { label, error: failure });
      throw failure;
    } finally {
      await rm(scratch, { recursive: true, force: true });
    }
  };

  /** A reader of the uncompressed dump of `backup` that errors if it does not match the manifest. */
  const dumpReader = (backup: BackupInfo, scratch: string): DumpReader => {
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
          const path = join(scratch, `${backup.id}.${driver.extension}`);
          await pipeline(stream(), createPrivateWriteStream(path));
          return path;
        })();
        return file;
      },
    };
  };

  const checkStored = async (backup: BackupInfo, signal: AbortSignal): Promise<string | undefined> => {
    let actual: { sha256: string; bytes: number };
    try {
      actual = await hashFile(backup.path, signal);
    } catch (error) {
      if (signal.aborted) throw signal.reason;
      return `cannot read ${backup.file}: ${(error as Error).message}`;
    }
    if (actual.bytes !== backup.compressedBytes) {
      return `${backup.file} has ${actual.bytes} bytes, manifest says ${backup.compressedBytes}`;
    }
    if (actual.sha256 !== backup.sha256) return `${backup.file} SHA-256 does not match its manifest`;
    return undefined;
  };

  Object.defineProperty(emitter, 'dir', { value: dir, enumerable: true });

  emitter.backup = async (opts = {}) => {
    const signal = abortable(opts.signal);
    signal.throwIfAborted();
    if (opts.label !== undefined && typeof opts.label !== 'string')
      throw new TypeError('Expected label to be a string');
    return withLock('backup', () => takeBackup(signal, opts.label));
  };

  emitter.list = async () => {
    const out: BackupInfo[] = [];
    for (const name of await listDir(dir)) {
      if (!name.endsWith('.json') || name.startsWith('.')) continue;
      try {
        out.push(toInfo(parseManifest(await readFile(join(dir, name), 'utf8'))));
      } catch (error) {
        logger.warn({ file: name, err: error }, 'skipping unreadable backup manifest');
      }
    }
    return out.sort((a, b) => b.createdAtMs - a.createdAtMs || (a.id < b.id ? 1 : -1));
  };

  emitter.verify = async (id, opts = {}) => {
    const signal = abortable(opts.signal);
    signal.throwIfAborted();
    let backup: BackupInfo;
    try {
      backup = await readManifest(id);
    } catch (error) {
      if (isBotkitError(error, BackupErrorCode.Corrupt)) {
        failedVerify.add(id);
        return { id, ok: false, deep: !!opts.deep, problem: error.message };
      }
      throw error;
    }
    busy.add(id);
    const scratch = opts.deep ? await newScratch() : undefined;
    try {
      const result = await (async (): Promise<VerifyResult> => {
        const problem = await checkStored(backup, signal);
        if (problem) return { id, ok: false, deep: !!opts.deep, problem };
        if (!opts.deep || !scratch) return { id, ok: true, deep: false };
        const reader = dumpReader(backup, scratch);
        try {
          const check = await driver.check({ signal, dump: reader, restoreIntoTemp: !!opts.restoreIntoTemp });
          return check.ok
            ? { id, ok: true, deep: true, tables: check.tables }
            : { id, ok: false, deep: true, problem: check.problem ?? 'deep check failed', tables: check.tables };
        } catch (error) {
          if (signal.aborted) throw signal.reason;
          return { id, ok: false, deep: true, problem: error instanceof Error ? error.message : String(error) };
        }
      })();
      if (result.ok) failedVerify.delete(id);
      else failedVerify.add(id);
      return result;
    } finally {
      busy.delete(id);
      if (scratch) await rm(scratch, { recursive: true, force: true });
    }
  };

  emitter.restore = async (id, opts = {}) => {
    const signal = abortable(opts.signal);
    signal.throwIfAborted();
    const safety = opts.safetyBackup ?? true;
    return withLock('restore', async () => {
      const backup = await readManifest(id);
      busy.add(id);
      const scratch = await newScratch();
      try {
        const problem = await checkStored(backup, signal);
        if (problem) {
          failedVerify.add(id);
          throw new BackupError(BackupErrorCode.Corrupt, `Refusing to restore ${id}: ${problem}`);
        }
        const t0 = performance.now();
        const safetyBackup = safety ? await takeBackup(signal, 'pre-restore') : undefined;
        if (safetyBackup) busy.add(safetyBackup.id);
        const reader = dumpReader(backup, scratch);
        try {
          await driver.restore({ signal, dump: reader });
        } catch (error) {
          if (signal.aborted) throw signal.reason;
          if (isBotkitError(error)) throw error;
          throw new BackupError(BackupErrorCode.RestoreFailed, `Restoring ${id} failed: ${String(error)}`, {
            cause: error,
          });
        } finally {
          if (safetyBackup) busy.delete(safetyBackup.id);
        }
        const result: RestoreResult = {
          id,
          safetyBackupId: safetyBackup?.id,
          durationMs: Math.round(performance.now() - t0),
        };
        logger.info({ ...result }, 'backup restored');
        emitter.emit('restored', result);
        return result;
      } finally {
        busy.delete(id);
        await rm(scratch, { recursive: true, force: true });
      }
    });
  };

  emitter.prune = async (opts = {}) => {
    const signal = abortable(opts.signal);
    signal.throwIfAborted();
    const run = async (): Promise<PruneResult> => {
      const all = await emitter.list();
      const plan = planRetention(all, retention, busy);
      if (!opts.dryRun) {
        for (const backup of plan.remove) {
          signal.throwIfAborted();
          await rm(backup.manifestPath, { force: true });
          await rm(backup.path, { force: true });
        }
        await fsyncDir(dir);
        if (plan.remove.length > 0) {
          logger.info({ removed: plan.remove.map((b) => b.id) }, 'pruned backups');
          emitter.emit('pruned', { removed: plan.remove, kept: plan.keep });
        }
      }
      return { removed: plan.remove, kept: plan.keep, dryRun: !!opts.dryRun };
    };
    return opts.dryRun ? run() : withLock('prune', run);
  };

  emitter.schedule = (cronExpression, scheduleOptions = {}) => {
    const handle = createSchedule({
      cronExpression,
      options: scheduleOptions,
      clock,
      logger,
      run: async (signal) => {
        await emitter.backup({ signal, label: 'scheduled' });
        if (scheduleOptions.prune ?? true) await emitter.prune({ signal });
      },
      onStop: () => schedules.delete(handle),
    });
    schedules.add(handle);
    return handle;
  };

  emitter.probe = (probeOptions = {}) => {
    const maxAgeMs = probeOptions.maxAgeMs ?? 3_600_000;
    if (!(maxAgeMs > 0)) throw new TypeError(`Expected maxAgeMs > 0, got ${String(maxAgeMs)}`);
    const name = probeOptions.name ?? 'backup';
    return {
      name,
      async check({ signal }): Promise<ProbeResult> {
        signal.throwIfAborted();
        const newest = (await emitter.list()).find((b) => !failedVerify.has(b.id));
        let attempt = lastAttempt;
        if (!attempt) {
          try {
            attempt = JSON.parse(await readFile(join(dir, STATUS_FILE), 'utf8')) as AttemptStatus;
          } catch {
            attempt = undefined;
          }
        }
        const now = clock.now();
        if (!newest) return { status: 'unhealthy', message: `no backup in ${dir}`, details: { maxAgeMs } };
        const ageMs = now - newest.createdAtMs;
        const details = { newest: newest.id, ageMs, maxAgeMs, lastAttemptOk: attempt?.ok ?? null };
        if (ageMs > maxAgeMs) {
          return { status: 'unhealthy', message: `newest backup is ${Math.round(ageMs / 60_000)} min old`, details };
        }
        if (attempt && !attempt.ok && attempt.at >= newest.createdAtMs) {
          return { status: 'degraded', message: 'last backup attempt failed; a recent backup exists', details };
        }
        return { status: 'healthy', details };
      },
    };
  };

  emitter.stop = async () => {
    await Promise.all([...schedules].map((s) => s.stop()));
  };

  return emitter;
}
