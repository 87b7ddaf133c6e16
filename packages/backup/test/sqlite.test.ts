import { existsSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { isBotkitError } from '@botkit/core';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type BackupInfo, createBackups, sqliteDriver } from '../src/index.js';
import { count, createSqlite, tempDir } from './helpers.js';

let tmp: ReturnType<typeof tempDir>;
let dbPath: string;
let dir: string;

beforeEach(() => {
  tmp = tempDir();
  dbPath = join(tmp.path, 'bot.db');
  dir = join(tmp.path, 'backups');
});
afterEach(() => tmp.cleanup());

const visibleFiles = (path: string) => readdirSync(path).filter((n) => !n.startsWith('.'));

describe('sqlite backups', () => {
  for (const compression of ['zstd', 'gzip', 'none'] as const) {
    it(`writes a ${compression} backup with a complete manifest, mode 0600, that deep-verifies with table counts`, async () => {
      const db = createSqlite(dbPath, 500);
      const backups = createBackups({ driver: sqliteDriver({ path: dbPath }), dir, compression });
      const completed: BackupInfo[] = [];
      backups.on('backupCompleted', (b) => completed.push(b));
      const backup = await backups.backup({ label: 'manual' });
      expect(backup).toMatchObject({
        formatVersion: 1,
        driver: 'sqlite',
        database: dbPath,
        compression,
        label: 'manual',
      });
      expect(backup.serverVersion).toMatch(/^3\.\d+/);
      expect(backup.sha256).toMatch(/^[0-9a-f]{64}$/);
      expect(backup.compressedBytes).toBe(statSync(backup.path).size);
      if (compression !== 'none') expect(backup.compressedBytes).toBeLessThan(backup.uncompressedBytes);
      expect(statSync(backup.path).mode & 0o777).toBe(0o600);
      expect(statSync(backup.manifestPath).mode & 0o777).toBe(0o600);
      expect(completed.map((b) => b.id)).toEqual([backup.id]);
      expect((await backups.list()).map((b) => b.id)).toEqual([backup.id]);
      const result = await backups.verify(backup.id, { deep: true });
      expect(result).toMatchObject({ ok: true, deep: true, tables: { items: 500, meta: 0 } });
      expect(visibleFiles(dir).sort()).toEqual([`${backup.id}.json`, backup.file].sort());
      expect(readdirSync(join(dir, '.tmp'))).toEqual([]);
      db.close();
    });
  }

  it("method 'vacuum' takes a consistent, compacted snapshot with VACUUM INTO", async () => {
    const db = createSqlite(dbPath, 400, 500);
    db.exec('DELETE FROM items WHERE id > 100');
    const pages = createBackups({ driver: sqliteDriver({ path: dbPath }), dir: `${dir}-pages`, compression: 'none' });
    const pageCopy = await pages.backup();
    const backups = createBackups({
      driver: sqliteDriver({ path: dbPath, method: 'vacuum' }),
      dir,
      compression: 'none',
    });
    const backup = await backups.backup();
    // The page-by-page copy keeps the free pages of the deleted rows; VACUUM INTO drops them.
    expect(backup.uncompressedBytes).toBeLessThan(pageCopy.uncompressedBytes);
    expect(await backups.verify(backup.id, { deep: true })).toMatchObject({ ok: true, tables: { items: 100 } });
    db.close();
  });

  it('restores online: a connection kept open sees the restored data and loses no later write', async () => {
    const db = createSqlite(dbPath, 100);
    const backups = createBackups({ driver: sqliteDriver({ path: dbPath }), dir });
    const old = await backups.backup();
    db.exec("UPDATE items SET version = 'b'");
    db.prepare('INSERT INTO items (version) VALUES (?)').run('b');
    expect(count(db)).toBe(101);

    const restored: unknown[] = [];
    backups.on('restored', (e) => restored.push(e));
    const result = await backups.restore(old.id);
    expect(result.safetyBackupId).toBeDefined();
    expect(restored).toEqual([result]);

    // The connection that stayed open sees the restored content...
    expect(count(db)).toBe(100);
    expect(db.prepare("SELECT count(*) AS n FROM items WHERE version = 'a'").get()).toEqual({ n: 100 });
    // ...and what it writes afterwards is kept.
    db.prepare('INSERT INTO items (version) VALUES (?)').run('after');
    const other = new DatabaseSync(dbPath);
    expect(count(other)).toBe(101);
    expect(other.prepare('PRAGMA integrity_check').get()).toEqual({ integrity_check: 'ok' });
    other.close();
    db.close();

    // The safety backup holds the state from before the restore.
    const safety = await backups.verify(result.safetyBackupId as string, { deep: true });
    expect(safety).toMatchObject({ ok: true, tables: { items: 101 } });
    expect((await backups.list()).find((b) => b.id === result.safetyBackupId)?.label).toBe('pre-restore');
  });

  it('restores a deleted database (disaster recovery) without a safety backup of nothing', async () => {
    createSqlite(dbPath, 300).close();
    const backups = createBackups({ driver: sqliteDriver({ path: dbPath }), dir });
    const backup = await backups.backup();
    for (const suffix of ['', '-wal', '-shm']) rmSync(`${dbPath}${suffix}`, { force: true });
    const result = await backups.restore(backup.id);
    expect(result.safetyBackupId).toBeUndefined();
    const db = new DatabaseSync(dbPath);
    expect(count(db)).toBe(300);
    expect(db.prepare('PRAGMA integrity_check').get()).toEqual({ integrity_check: 'ok' });
    db.close();
    expect((await backups.list()).map((b) => b.id)).toEqual([backup.id]);
  });

  it('a failing safety backup stops the restore before anything is written; skipping it, a destroyed file is replaced', async () => {
    writeFileSync(dbPath, 'this is not an SQLite database, but it is what we have');
    const other = join(tmp.path, 'other.db');
    createSqlite(other, 10).close();
    const backup = await createBackups({ driver: sqliteDriver({ path: other }), dir }).backup();
    const backups = createBackups({ driver: sqliteDriver({ path: dbPath }), dir });
    const error = await backups.restore(backup.id).catch((e: unknown) => e);
    expect(isBotkitError(error, 'BOTKIT_BACKUP_FAILED')).toBe(true);
    expect((error as Error).message).toMatch(/safetyBackup: false/);
    expect(readFileSync(dbPath, 'utf8')).toMatch(/^this is not an SQLite database/);
    await backups.restore(backup.id, { safetyBackup: false });
    const db = new DatabaseSync(dbPath);
    expect(count(db)).toBe(10);
    db.close();
  });

  it('an aborted backup rejects with the reason, leaves no file and keeps earlier backups intact', async () => {
    createSqlite(dbPath, 2000, 1000).close();
    const backups = createBackups({ driver: sqliteDriver({ path: dbPath }), dir });
    const first = await backups.backup();
    const reason = new Error('stop now');
    for (const when of ['started', 'soon'] as const) {
      const controller = new AbortController();
      if (when === 'started') backups.once('backupStarted', () => controller.abort(reason));
      else setTimeout(() => controller.abort(reason), 5);
      const failed: unknown[] = [];
      backups.once('backupFailed', (e) => failed.push(e.error));
      const outcome = await backups.backup({ signal: controller.signal }).then(
        (b) => b,
        (e: unknown) => e,
      );
      if (when === 'started') expect(outcome).toBe(reason);
      if (outcome === reason) {
        expect(failed).toEqual([reason]);
      } else {
        // Finished before the abort fired: it must be a complete backup.
        expect(await backups.verify((outcome as BackupInfo).id)).toMatchObject({ ok: true });
      }
    }
    const listed = await backups.list();
    expect(listed.map((b) => b.id)).toContain(first.id);
    expect(await backups.verify(first.id, { deep: true })).toMatchObject({ ok: true });
    expect(visibleFiles(dir).length).toBe(listed.length * 2);
    expect(readdirSync(join(dir, '.tmp'))).toEqual([]);
  });

  it('a missing database fails with BOTKIT_BACKUP_FAILED, emits backupFailed and leaves nothing', async () => {
    const backups = createBackups({ driver: sqliteDriver({ path: join(tmp.path, 'missing.db') }), dir });
    const failed: unknown[] = [];
    backups.on('backupFailed', (e) => failed.push(e.error));
    const error = await backups.backup().catch((e: unknown) => e);
    expect(isBotkitError(error, 'BOTKIT_BACKUP_FAILED')).toBe(true);
    expect(failed).toEqual([error]);
    expect(visibleFiles(dir)).toEqual([]);
    expect(existsSync(join(tmp.path, 'missing.db'))).toBe(false);
  });

  it('only one backup or restore at a time: a concurrent one is refused with BOTKIT_BACKUP_LOCKED', async () => {
    createSqlite(dbPath, 3000, 1000).close();
    const backups = createBackups({ driver: sqliteDriver({ path: dbPath }), dir });
    const other = createBackups({ driver: sqliteDriver({ path: dbPath }), dir });
    const results = await Promise.allSettled([backups.backup(), other.backup()]);
    const rejected = results.filter((r) => r.status === 'rejected');
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    expect(rejected).toHaveLength(1);
    expect(isBotkitError((rejected[0] as PromiseRejectedResult).reason, 'BOTKIT_BACKUP_LOCKED')).toBe(true);
    // The lock is released afterwards.
    await expect(other.backup()).resolves.toMatchObject({ driver: 'sqlite' });
  });

  it('takes over a lock file left by a process that was killed', async () => {
    createSqlite(dbPath, 10).close();
    const backups = createBackups({ driver: sqliteDriver({ path: dbPath }), dir });
    await backups.backup();
    const { hostname } = await import('node:os');
    // pid 2^22+1 is above Linux's pid_max default range, so it cannot be alive.
    writeFileSync(
      join(dir, '.lock'),
      JSON.stringify({ pid: 4_194_305, hostname: hostname(), operation: 'backup', startedAt: '2026-01-01T00:00:00Z' }),
    );
    await expect(backups.backup()).resolves.toMatchObject({ driver: 'sqlite' });
    expect(existsSync(join(dir, '.lock'))).toBe(false);
  });

  it('a lease held elsewhere refuses the backup; the lease is released after each run', async () => {
    createSqlite(dbPath, 10).close();
    let held = false;
    let free = true;
    const lease = {
      tryAcquire: async () => {
        if (!free) return false;
        held = true;
        return true;
      },
      release: async () => {
        held = false;
      },
    };
    const backups = createBackups({ driver: sqliteDriver({ path: dbPath }), dir, lock: lease });
    await backups.backup();
    expect(held).toBe(false);
    free = false;
    const error = await backups.backup().catch((e: unknown) => e);
    expect(isBotkitError(error, 'BOTKIT_BACKUP_LOCKED')).toBe(true);
  });

  it('prune applies the retention policy, never removes the newest, and dryRun removes nothing', async () => {
    createSqlite(dbPath, 10).close();
    const backups = createBackups({ driver: sqliteDriver({ path: dbPath }), dir, retention: { keepLast: 2 } });
    for (let i = 0; i < 4; i++) await backups.backup();
    const all = await backups.list();
    const dry = await backups.prune({ dryRun: true });
    expect(dry.dryRun).toBe(true);
    expect(dry.removed.map((b) => b.id)).toEqual(all.slice(2).map((b) => b.id));
    expect(await backups.list()).toHaveLength(4);
    const pruned: unknown[] = [];
    backups.on('pruned', (e) => pruned.push(e.removed.map((b) => b.id)));
    const real = await backups.prune();
    expect(real.removed.map((b) => b.id)).toEqual(all.slice(2).map((b) => b.id));
    expect(pruned).toEqual([all.slice(2).map((b) => b.id)]);
    expect((await backups.list()).map((b) => b.id)).toEqual(all.slice(0, 2).map((b) => b.id));
    expect(visibleFiles(dir)).toHaveLength(4);
  });

  it('validates options eagerly with a TypeError naming the option', () => {
    const driver = sqliteDriver({ path: dbPath });
    expect(() => sqliteDriver({ path: '' })).toThrow(/path/);
    expect(() => sqliteDriver({ path: dbPath, busyTimeoutMs: -1 })).toThrow(/busyTimeoutMs/);
    expect(() => createBackups({ driver, dir: '' })).toThrow(/dir/);
    // @ts-expect-error invalid on purpose
    expect(() => createBackups({ driver, dir, compression: 'lz4' })).toThrow(/compression/);
    expect(() => createBackups({ driver, dir, compressionLevel: 42 })).toThrow(/compressionLevel/);
    expect(() => createBackups({ driver, dir, retention: { keepDaily: -1 } })).toThrow(/retention\.keepDaily/);
    expect(() => createBackups({ driver, dir, retention: { keepLast: 1.5 } })).toThrow(/retention\.keepLast/);
    const backups = createBackups({ driver, dir });
    expect(() => backups.schedule('not a cron')).toThrow(TypeError);
    expect(() => backups.probe({ maxAgeMs: 0 })).toThrow(/maxAgeMs/);
  });

  it('verify and restore of an unknown id reject with BOTKIT_BACKUP_NOT_FOUND', async () => {
    const backups = createBackups({ driver: sqliteDriver({ path: dbPath }), dir });
    expect(isBotkitError(await backups.verify('nope').catch((e: unknown) => e), 'BOTKIT_BACKUP_NOT_FOUND')).toBe(true);
    createSqlite(dbPath, 1).close();
    expect(isBotkitError(await backups.restore('../etc').catch((e: unknown) => e), 'BOTKIT_BACKUP_NOT_FOUND')).toBe(
      true,
    );
  });
});
