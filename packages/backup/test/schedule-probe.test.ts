import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { createTestClock } from '@botkit/core';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type BackupInfo, type Backups, createBackups, sqliteDriver } from '../src/index.js';
import { createSqlite, tempDir } from './helpers.js';

const HOUR = 3_600_000;
const signal = new AbortController().signal;
let tmp: ReturnType<typeof tempDir>;
let dbPath: string;

beforeEach(() => {
  tmp = tempDir();
  dbPath = join(tmp.path, 'bot.db');
  createSqlite(dbPath, 20).close();
});
afterEach(() => tmp.cleanup());

function nextEvent(backups: Backups, name: 'backupCompleted' | 'backupFailed' | 'pruned'): Promise<unknown> {
  return new Promise((resolve) => backups.once(name, resolve));
}

describe('schedule (croner, injectable clock)', () => {
  it('runs hourly at the top of the hour, prunes after each run, and stops for good', async () => {
    const clock = createTestClock(Date.UTC(2026, 0, 1, 0, 10));
    const backups = createBackups({
      driver: sqliteDriver({ path: dbPath }),
      dir: join(tmp.path, 'b'),
      clock,
      retention: { keepLast: 2 },
    });
    const schedule = backups.schedule('0 * * * *', { timezone: 'UTC' });
    expect(schedule.nextRunAt()?.toISOString()).toBe('2026-01-01T01:00:00.000Z');

    for (let hour = 1; hour <= 3; hour++) {
      const done = nextEvent(backups, 'backupCompleted');
      await clock.advance(hour === 1 ? 50 * 60_000 : HOUR);
      const backup = (await done) as BackupInfo;
      expect(backup.createdAt).toBe(`2026-01-01T0${hour}:00:00.000Z`);
      expect(backup.label).toBe('scheduled');
      while (schedule.running) await new Promise((r) => setTimeout(r, 5));
    }
    expect((await backups.list()).map((b) => b.createdAt)).toEqual([
      '2026-01-01T03:00:00.000Z',
      '2026-01-01T02:00:00.000Z',
    ]);
    expect(schedule.nextRunAt()?.toISOString()).toBe('2026-01-01T04:00:00.000Z');

    await schedule.stop();
    expect(schedule.nextRunAt()).toBeUndefined();
    expect(clock.pendingTimers).toBe(0);
    await clock.advance(5 * HOUR);
    await new Promise((r) => setTimeout(r, 50));
    expect(await backups.list()).toHaveLength(2);
  });

  it('waits more than 24.8 days (the setTimeout limit) for a yearly schedule without running early', async () => {
    const clock = createTestClock(Date.UTC(2026, 0, 2));
    const backups = createBackups({ driver: sqliteDriver({ path: dbPath }), dir: join(tmp.path, 'b'), clock });
    const schedule = backups.schedule('0 0 1 1 *', { timezone: 'UTC' });
    expect(schedule.nextRunAt()?.toISOString()).toBe('2027-01-01T00:00:00.000Z');
    await clock.advance(300 * 24 * HOUR);
    await new Promise((r) => setTimeout(r, 20));
    expect(await backups.list()).toHaveLength(0);
    expect(schedule.nextRunAt()?.toISOString()).toBe('2027-01-01T00:00:00.000Z');
    const done = nextEvent(backups, 'backupCompleted');
    await clock.advance(64 * 24 * HOUR); // exactly to 2027-01-01T00:00Z
    expect(((await done) as BackupInfo).createdAt).toBe('2027-01-01T00:00:00.000Z');
    while (schedule.running) await new Promise((r) => setTimeout(r, 5));
    expect(schedule.nextRunAt()?.toISOString()).toBe('2028-01-01T00:00:00.000Z');
    await schedule.stop();
  });

  it('a timer that fires slightly before the wall clock reaches the run time does not run twice', async () => {
    const testClock = createTestClock(Date.UTC(2026, 0, 1, 0, 30));
    let lagMs = 0; // how far the wall clock lags behind the timers
    const clock = { ...testClock, now: () => testClock.now() - lagMs };
    const backups = createBackups({ driver: sqliteDriver({ path: dbPath }), dir: join(tmp.path, 'b'), clock });
    const schedule = backups.schedule('0 * * * *', { timezone: 'UTC' });
    const done = nextEvent(backups, 'backupCompleted');
    lagMs = 10; // the 01:00 timer fires when the wall clock says 00:59:59.990
    await testClock.advance(30 * 60_000);
    await done;
    while (schedule.running) await new Promise((r) => setTimeout(r, 5));
    expect(schedule.nextRunAt()?.toISOString()).toBe('2026-01-01T02:00:00.000Z');
    await testClock.advance(60_000);
    await new Promise((r) => setTimeout(r, 50));
    expect(await backups.list()).toHaveLength(1);
    await schedule.stop();
  });

  it('backups.stop() and await using stop every schedule', async () => {
    const clock = createTestClock(Date.UTC(2026, 0, 1));
    const backups = createBackups({ driver: sqliteDriver({ path: dbPath }), dir: join(tmp.path, 'b'), clock });
    backups.schedule('*/5 * * * *', { timezone: 'UTC' });
    backups.schedule('0 3 * * *', { timezone: 'UTC' });
    expect(clock.pendingTimers).toBe(2);
    await backups.stop();
    expect(clock.pendingTimers).toBe(0);
    {
      await using disposable = createBackups({
        driver: sqliteDriver({ path: dbPath }),
        dir: join(tmp.path, 'b'),
        clock,
      });
      disposable.schedule('0 * * * *');
      expect(clock.pendingTimers).toBe(1);
    }
    expect(clock.pendingTimers).toBe(0);
  });

  it('logs a failed scheduled backup once (not again as "scheduled backup failed")', async () => {
    const clock = createTestClock(Date.UTC(2026, 0, 1, 0, 59));
    const lines: { level: string; msg: string | undefined }[] = [];
    const at = (level: string) => (obj: unknown, msg?: string) =>
      lines.push({ level, msg: typeof obj === 'string' ? obj : msg });
    const logger = { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
    const backups = createBackups({ driver: sqliteDriver({ path: dbPath }), dir: join(tmp.path, 'b'), clock, logger });
    const schedule = backups.schedule('0 * * * *', { timezone: 'UTC' });
    rmSync(dbPath); // the database is gone: the run fails
    const failed = nextEvent(backups, 'backupFailed');
    await clock.advance(60_000);
    expect(await failed).toMatchObject({ label: 'scheduled', error: { code: 'BOTKIT_BACKUP_FAILED' } });
    while (schedule.running) await new Promise((r) => setTimeout(r, 5));
    await schedule.stop();
    expect(lines.filter((l) => l.level === 'error').map((l) => l.msg)).toEqual(['backup failed']);
  });
});

describe('freshness probe', () => {
  it('is unhealthy without backups, healthy within the RPO, unhealthy past it, degraded after a failed attempt', async () => {
    const clock = createTestClock(Date.UTC(2026, 0, 1));
    const dir = join(tmp.path, 'b');
    const backups = createBackups({ driver: sqliteDriver({ path: dbPath }), dir, clock });
    const probe = backups.probe({ maxAgeMs: HOUR });
    expect(probe.name).toBe('backup');
    expect(await probe.check({ signal })).toMatchObject({ status: 'unhealthy' });

    await backups.backup();
    expect(await probe.check({ signal })).toMatchObject({ status: 'healthy' });
    await clock.advance(HOUR - 1);
    expect(await probe.check({ signal })).toMatchObject({ status: 'healthy' });

    // The database disappears: the next attempt fails while the last backup is still fresh.
    rmSync(dbPath);
    await expect(backups.backup()).rejects.toMatchObject({ code: 'BOTKIT_BACKUP_FAILED' });
    expect(await probe.check({ signal })).toMatchObject({ status: 'degraded' });
    // Another process (a fresh createBackups on the same dir, e.g. the bot vs. a CronJob) sees it too.
    const fromOtherProcess = createBackups({ driver: sqliteDriver({ path: dbPath }), dir, clock });
    expect(await fromOtherProcess.probe({ maxAgeMs: HOUR }).check({ signal })).toMatchObject({ status: 'degraded' });

    await clock.advance(2);
    const stale = await probe.check({ signal });
    expect(stale.status).toBe('unhealthy');
    expect(stale.details).toMatchObject({ maxAgeMs: HOUR });
  });

  it('does not count a backup whose verification failed', async () => {
    const clock = createTestClock(Date.UTC(2026, 0, 1));
    const backups = createBackups({ driver: sqliteDriver({ path: dbPath }), dir: join(tmp.path, 'b'), clock });
    const backup = await backups.backup();
    const probe = backups.probe();
    expect(await probe.check({ signal })).toMatchObject({ status: 'healthy' });
    const { truncateSync } = await import('node:fs');
    truncateSync(backup.path, 10);
    expect((await backups.verify(backup.id)).ok).toBe(false);
    expect(await probe.check({ signal })).toMatchObject({ status: 'unhealthy' });
  });
});
