/**
 * Chaos: PostgreSQL is stopped while a scheduled backup's pg_dump is streaming. The backup must
 * fail cleanly (typed, secret-free error, no partial file, earlier backups intact), health must
 * say so (backup degraded, database unhealthy, not ready) without leaking the password, and once
 * PostgreSQL is back the next scheduled backup succeeds and the bot answers /note again.
 */
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { isBotkitError, type Logger } from '@botkit/core';
import type { BackupInfo } from '@botkit/backup';
import { type PostgresServer, type RedisServer, startPostgres, startRedis, waitFor } from '@botkit/test-harness';
import { type BotApiEmulator, createBotApiEmulator } from '@botkit/testing';
import pg from 'pg';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { recordFigures } from './figures.js';
import { ask, createExampleApp, type ExampleApp, FRAMEWORKS, tempDir, testConfig } from './kit.js';

/** Rows of ~1 KiB of incompressible text: enough that pg_dump streams for a noticeable time. */
const ROWS = 60_000;

let postgres: PostgresServer | undefined;
let redis: RedisServer | undefined;
let emulator: BotApiEmulator | undefined;
let tmp: ReturnType<typeof tempDir> | undefined;
let app: ExampleApp | undefined;

beforeEach(async () => {
  [postgres, redis] = await Promise.all([startPostgres(), startRedis()]);
  emulator = await createBotApiEmulator({ setWebhookIntervalMs: 0 });
  tmp = tempDir();
});

afterEach(async () => {
  await app?.stop('test finished').catch(() => {});
  app = undefined;
  await emulator?.close();
  await Promise.all([postgres?.cleanup(), redis?.cleanup()]);
  tmp?.cleanup();
});

/** Every file under `dir` (recursively), as paths relative to it. */
function filesUnder(dir: string, prefix = ''): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(join(dir, prefix), { withFileTypes: true })) {
    const rel = prefix ? `${prefix}/${entry.name}` : entry.name;
    if (entry.isDirectory()) out.push(...filesUnder(dir, rel));
    else out.push(rel);
  }
  return out;
}

/**
 * Leftovers of an interrupted backup in `dir`: `.part` files in the scratch area, and data files
 * that no manifest names.
 */
function partialFiles(dir: string, listed: readonly BackupInfo[]): string[] {
  const known = new Set(listed.flatMap((b) => [b.file, `${b.id}.json`]));
  return filesUnder(dir).filter((f) => f.endsWith('.part') || (!f.startsWith('.') && !known.has(f)));
}

/** Bytes written so far to `.part` files of backups in progress in `dir`. */
function partBytes(dir: string): number {
  return filesUnder(dir)
    .filter((f) => f.endsWith('.part'))
    .reduce((sum, f) => {
      try {
        return sum + statSync(join(dir, f)).size;
      } catch {
        return sum; // renamed or removed meanwhile
      }
    }, 0);
}

/** One line the app logged, with its fields rendered as text (errors with message, stack and cause). */
interface LogLine {
  level: string;
  msg: string;
  text: string;
}

/** Renders log fields as JSON, expanding errors (whose message and stack are not enumerable). */
function renderFields(fields: unknown): string {
  return JSON.stringify(fields, (_key, value: unknown) =>
    value instanceof Error
      ? { ...value, name: value.name, message: value.message, stack: value.stack, cause: value.cause }
      : value,
  );
}

/** A logger that keeps every line the app logs, so the test can read what an operator would. */
function capturingLogger(lines: LogLine[]): Logger {
  const at =
    (level: string) =>
    (objOrMessage: unknown, message?: string): void => {
      const msg = typeof objOrMessage === 'string' ? objOrMessage : (message ?? '');
      lines.push({ level, msg, text: `${msg} ${typeof objOrMessage === 'string' ? '' : renderFields(objOrMessage)}` });
    };
  return { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}

describe('chaos: PostgreSQL stopped during a scheduled backup', () => {
  for (const framework of FRAMEWORKS)
    it(`${framework}: the backup fails cleanly, health says so without the password, the next scheduled backup succeeds`, {
      timeout: 60_000,
    }, async () => {
      if (!postgres || !redis || !emulator || !tmp) throw new Error('setup failed');
      const pgServer = postgres;
      const base = await testConfig(emulator, redis.url, tmp.dir);
      const backupDir = base.backup.dir;
      const logs: LogLine[] = [];
      const config = {
        ...base,
        logger: capturingLogger(logs),
        databaseUrl: pgServer.url,
        // Every 2 s; keep every backup of the run so retention never changes the list under the test.
        backup: { ...base.backup, cron: '*/2 * * * * *', retention: { keepLast: 100 } },
      };
      app = await createExampleApp(framework, config);
      const running = app;
      const events: {
        kind: 'started' | 'completed' | 'failed';
        at: number;
        label?: string | undefined;
        error?: unknown;
      }[] = [];
      running.backups.on('backupStarted', ({ label }) =>
        events.push({ kind: 'started', at: performance.now(), label }),
      );
      running.backups.on('backupCompleted', (b) =>
        events.push({ kind: 'completed', at: performance.now(), label: b.label }),
      );
      running.backups.on('backupFailed', ({ label, error }) =>
        events.push({ kind: 'failed', at: performance.now(), label, error }),
      );

      // Data: the app created the notes table; fill it so a dump takes a while.
      const client = new pg.Client(pgServer.connection());
      await client.connect();
      try {
        await client.query(
          `INSERT INTO notes (user_id, text)
         SELECT 100000 + g % 100, (SELECT string_agg(md5(random()::text), '') FROM generate_series(1, 32) WHERE g > 0)
         FROM generate_series(1, $1) g`,
          [ROWS],
        );
      } finally {
        await client.end();
      }
      await running.start();
      expect(await ask(emulator, 21, '/note before the outage')).toMatch(/^Saved note #\d+ \(you have 1\)\.$/);
      // One scheduled backup completes normally first.
      await waitFor(
        'a scheduled backup completed',
        () => events.some((e) => e.kind === 'completed' && e.label === 'scheduled'),
        30_000,
      );

      // The next scheduled backup: stop PostgreSQL once its pg_dump is streaming into the .part file.
      const startedBefore = events.filter((e) => e.kind === 'started').length;
      await waitFor(
        'the next scheduled backup started',
        () => events.filter((e) => e.kind === 'started').length > startedBefore,
        10_000,
        5,
      );
      const interrupted = events.filter((e) => e.kind === 'started')[startedBefore];
      const listBefore = await running.backups.list();
      await waitFor('pg_dump streaming', () => partBytes(backupDir) > 0, 10_000, 2);
      const bytesWhenStopped = partBytes(backupDir);
      const stoppedAt = performance.now();
      // A fast shutdown (SIGINT), as an operator or an orchestrator stops the database: PostgreSQL
      // terminates the pg_dump session mid-COPY (SIGKILL is covered by the harness and Redis scenario).
      await pgServer.stop();
      let restartedAt = 0;
      let failure: unknown;
      let listAfterFailure: BackupInfo[] = [];
      let partialLeft: string[] = [];
      let backupProbeWhileDown = '';
      let databaseProbeWhileDown = '';
      let readyStatus = 0;
      let healthBody = '';
      try {
        await waitFor(
          'the backup failed',
          () => events.some((e) => e.kind === 'failed' && e.at >= stoppedAt),
          20_000,
          5,
        );
        failure = events.find((e) => e.kind === 'failed' && e.at >= stoppedAt)?.error;
        // The failed run removes its scratch before the schedule may start another one.
        await waitFor('the scratch of the failed backup removed', () => partBytes(backupDir) === 0, 10_000, 5).catch(
          () => {},
        );
        listAfterFailure = await running.backups.list();
        partialLeft = partialFiles(backupDir, listAfterFailure);
        await waitFor(
          'health reports the outage',
          () =>
            running.monitor.status().probes.backup?.status === 'degraded' &&
            running.monitor.status().probes.database?.status === 'unhealthy',
          15_000,
        );
        const status = running.monitor.status();
        backupProbeWhileDown = status.probes.backup?.status ?? 'missing';
        databaseProbeWhileDown = status.probes.database?.status ?? 'missing';
        const ready = await fetch(`${running.healthServer.url}/ready`);
        readyStatus = ready.status;
        await ready.text();
        healthBody = await (await fetch(`${running.healthServer.url}/health`)).text();
      } finally {
        await pgServer.restart();
        restartedAt = performance.now();
      }
      await waitFor(
        'a scheduled backup succeeded after the restart',
        () => events.some((e) => e.kind === 'completed' && e.at > restartedAt),
        30_000,
        5,
      );
      const goodAt = events.find((e) => e.kind === 'completed' && e.at > restartedAt)?.at ?? Number.NaN;
      const listAfter = await running.backups.list();
      const newest = listAfter[0];
      await waitFor(
        'the backup probe healthy again',
        () => running.monitor.status().probes.backup?.status === 'healthy',
        15_000,
      );
      const verified = await Promise.all(
        [...listBefore, ...(newest ? [newest] : [])].map((b) => running.backups.verify(b.id, { deep: true })),
      );
      const noteAfter = await ask(emulator, 21, '/note after the restart', 20_000);

      const failedBackups = events.filter((e) => e.kind === 'failed').length;
      // What the interrupted run did next: it must have failed, not completed (the dump was cut).
      const afterInterrupted = events.slice(interrupted ? events.indexOf(interrupted) + 1 : 0);
      const lastGood = listBefore[0];
      const figures = {
        backupsBefore: listBefore.length,
        fullBackupMs: lastGood?.durationMs ?? 0,
        fullBackupBytes: lastGood?.compressedBytes ?? 0,
        bytesWhenStopped,
        failedBackups,
        failureCode: (failure as { code?: string } | undefined)?.code ?? 'none',
        partialFiles: partialLeft.length,
        backupProbeWhileDown,
        databaseProbeWhileDown,
        readyWhileDown: readyStatus,
        msToNextGoodBackup: Math.round(goodAt - restartedAt),
        backupsAfter: listAfter.length,
        verifyOk: `${verified.filter((v) => v.ok).length}/${verified.length}`,
      };
      recordFigures({ scenario: 'PostgreSQL stopped during a scheduled backup', framework, figures });

      // The interrupted backup failed (the very run that was streaming) with a typed error that names no secret.
      expect(interrupted?.label).toBe('scheduled');
      expect(afterInterrupted[0]?.kind).toBe('failed');
      expect(afterInterrupted[0]?.error).toBe(failure);
      expect(isBotkitError(failure, 'BOTKIT_BACKUP_FAILED'), String(failure)).toBe(true);
      expect(String(failure)).toMatch(/pg_dump of postgres:\/\/postgres@127\.0\.0\.1:\d+\/postgres failed/);
      const errorText = `${String(failure)} ${(failure as Error).stack ?? ''} ${JSON.stringify(failure)}`;
      expect(errorText).not.toContain(pgServer.password);
      // The operator's log: the failure once, with its message; no password in any line.
      const failureMessage = JSON.stringify((failure as Error).message).slice(1, -1); // as it appears in JSON
      const failureLogs = logs.filter((l) => l.level === 'error' && l.text.includes(failureMessage));
      expect(failureLogs.map((l) => l.msg)).toEqual(['backup failed']);
      expect(logs.filter((l) => l.text.includes(pgServer.password))).toEqual([]);
      // Nothing partial left, the list unchanged, earlier backups intact.
      expect(partialLeft).toEqual([]);
      expect(listAfterFailure.map((b) => b.id)).toEqual(listBefore.map((b) => b.id));
      expect(listBefore.length).toBeGreaterThanOrEqual(2); // the startup backup and a scheduled one
      expect(
        verified.every((v) => v.ok),
        JSON.stringify(verified),
      ).toBe(true);
      // Health while PostgreSQL was down: backup degraded (a recent one exists), database unhealthy, not ready.
      expect(backupProbeWhileDown).toBe('degraded');
      expect(databaseProbeWhileDown).toBe('unhealthy');
      expect(readyStatus).toBe(503);
      expect(healthBody).not.toContain(pgServer.password);
      expect(JSON.stringify(running.monitor.status())).not.toContain(pgServer.password);
      // Back again: a new scheduled backup is listed and verifies, the bot saves notes again.
      expect(failedBackups).toBeGreaterThanOrEqual(1);
      expect(newest && listBefore.some((b) => b.id === newest.id)).toBe(false);
      expect(newest?.label).toBe('scheduled');
      expect(listAfter.length).toBeGreaterThan(listBefore.length);
      expect(noteAfter).toMatch(/^Saved note #\d+ \(you have 2\)\.$/);
    });
});
