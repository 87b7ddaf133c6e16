import { chmod, readFile, rename, rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { isBotkitError, noopLogger, systemClock } from '@botkit/core';
import { EventEmitter } from 'eventemitter3';
import {
  assertCompressionSupported,
  compressionSuffix,
  compressor,
  defaultLevel,
  isCompression,
} from './compression.js';
import { createDumpReader } from './dump-reader.js';
import { BackupError, BackupErrorCode } from './errors.js';
import {
  Coalesce,
  compressFile,
  createPrivateWriteStream,
  ensureDir,
  fsyncDir,
  fsyncFile,
  HashCounter,
  hashFile,
  listDir,
  randomId,
  SCRATCH,
  writeFileAtomic,
} from './files.js';
import { acquireLockFile, pidAlive } from './lock.js';
import { type BackupInfo, type BackupManifest, makeId, parseManifest } from './manifest.js';
import { type AttemptStatus, createFreshnessProbe } from './probe.js';
import { planRetention, validateRetention } from './retention.js';
import { createSchedule, type ScheduleHandle } from './schedule.js';
import type { Backups, BackupEvents, CreateBackupsOptions, PruneResult, RestoreResult, VerifyResult } from './types.js';

const STATUS_FILE = '.last-attempt.json';
const LOCK_FILE = '.lock';

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
  /** Failures `takeBackup` already logged, so the schedule does not log them a second time. */
  const logged = new WeakSet<object>();

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
      const release = await acquireLockFile(join(dir, LOCK_FILE), operation, scratchRoot);
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
      } else if (output.kind === 'file') {
        const z = compressor(compression, level);
        if (!z) throw new Error('unreachable: no compressor');
        ({ raw, stored } = await compressFile(output.path, temp, z, signal));
        await rm(output.path, { force: true });
      } else {
        const source: Readable = output.stream;
        const rawCounter = new HashCounter();
        const storedCounter = new HashCounter();
        const z = compressor(compression, level);
        await pipeline(
          [source, new Coalesce(), rawCounter, ...(z ? [z] : []), storedCounter, createPrivateWriteStream(temp)],
          {
            signal,
          },
        );
        raw = { bytes: rawCounter.bytes, sha256: rawCounter.digest() };
        stored = { bytes: storedCounter.bytes, sha256: storedCounter.digest() };
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
      if (typeof failure === 'object' && failure !== null) logged.add(failure);
      await recordAttempt({ ok: false, at: clock.now(), message: String(failure) }, scratch);
      emitter.emit('backupFailed', { label, error: failure });
      throw failure;
    } finally {
      await rm(scratch, { recursive: true, force: true });
    }
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
        const reader = createDumpReader(backup, scratch, driver.extension);
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
        // Nothing to save when the database is gone (the disaster this restore recovers from).
        const needSafety = safety && ((await driver.exists?.({ signal })) ?? true);
        let safetyBackup: BackupInfo | undefined;
        if (needSafety) {
          try {
            safetyBackup = await takeBackup(signal, 'pre-restore');
          } catch (error) {
            if (signal.aborted) throw signal.reason;
            throw new BackupError(
              BackupErrorCode.Failed,
              `Safety backup before restoring ${id} failed, nothing was restored (skip it with safetyBackup: false or --no-safety-backup): ${(error as Error).message}`,
              { cause: error },
            );
          }
        }
        if (safetyBackup) busy.add(safetyBackup.id);
        const reader = createDumpReader(backup, scratch, driver.extension);
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
        try {
          await emitter.backup({ signal, label: 'scheduled' });
        } catch (error) {
          // Logged once where it happened; the schedule logs only what it alone saw (e.g. locked).
          if (typeof error === 'object' && error !== null && logged.has(error)) return;
          throw error;
        }
        if (scheduleOptions.prune ?? true) await emitter.prune({ signal });
      },
      onStop: () => schedules.delete(handle),
    });
    schedules.add(handle);
    return handle;
  };

  emitter.probe = (probeOptions = {}) =>
    createFreshnessProbe(probeOptions, {
      clock,
      dir,
      list: () => emitter.list(),
      isFailed: (id) => failedVerify.has(id),
      lastAttempt: async () => {
        try {
          return JSON.parse(await readFile(join(dir, STATUS_FILE), 'utf8')) as AttemptStatus;
        } catch {
          return lastAttempt;
        }
      },
    });

  emitter.stop = async () => {
    await Promise.all([...schedules].map((s) => s.stop()));
  };
  emitter[Symbol.asyncDispose] = () => emitter.stop();

  return emitter;
}
