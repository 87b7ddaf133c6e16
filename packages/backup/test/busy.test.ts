import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { createBackups, sqliteDriver } from '../src/index.js';
import { count, createSqlite, tempDir, waitForLine } from './helpers.js';

const writerScript = fileURLToPath(new URL('./fixtures/writer.mjs', import.meta.url));
let tmp: ReturnType<typeof tempDir> | undefined;
let writer: ChildProcess | undefined;

afterEach(() => {
  writer?.kill('SIGKILL');
  tmp?.cleanup();
});

describe('busy SQLite database', () => {
  it('another process commits 200 times/s: 100 backups out of 100 succeed and each passes integrity_check', async () => {
    tmp = tempDir();
    const dbPath = join(tmp.path, 'bot.db');
    createSqlite(dbPath, 2000, 300).close(); // ~1 MB
    writer = spawn(process.execPath, [writerScript, dbPath, '200'], { stdio: ['ignore', 'pipe', 'inherit'] });
    await waitForLine(writer, 'ready');
    const backups = createBackups({ driver: sqliteDriver({ path: dbPath }), dir: join(tmp.path, 'b') });
    const started = Date.now();
    const rowsSeen: number[] = [];
    let ok = 0;
    for (let i = 0; i < 100; i++) {
      const backup = await backups.backup();
      const check = await backups.verify(backup.id, { deep: true });
      expect(check.ok, check.problem).toBe(true);
      rowsSeen.push(check.tables?.items ?? 0);
      ok++;
    }
    const seconds = (Date.now() - started) / 1000;
    writer.kill('SIGKILL');
    const db = new DatabaseSync(dbPath);
    const commits = count(db) - 2000;
    db.close();
    expect(ok).toBe(100);
    // The writer really was busy the whole time (well below 200/s would mean the test proves nothing)...
    expect(commits / seconds).toBeGreaterThan(50);
    // ...and the snapshots saw its commits land between backups.
    expect(new Set(rowsSeen).size).toBeGreaterThan(50);
    for (let i = 1; i < rowsSeen.length; i++) expect(rowsSeen[i]).toBeGreaterThanOrEqual(rowsSeen[i - 1] as number);
  }, 120_000);

  it('restores online while another process commits 200 times/s; the writer keeps writing into the restored database', async () => {
    tmp = tempDir();
    const dbPath = join(tmp.path, 'bot.db');
    createSqlite(dbPath, 20_000, 500).close(); // ~11 MB: the restore takes long enough to meet the writer
    const backups = createBackups({ driver: sqliteDriver({ path: dbPath }), dir: join(tmp.path, 'b') });
    const backup = await backups.backup();
    writer = spawn(process.execPath, [writerScript, dbPath, '200'], { stdio: ['ignore', 'pipe', 'inherit'] });
    await waitForLine(writer, 'ready');
    const rows = () => {
      const db = new DatabaseSync(dbPath);
      try {
        return count(db);
      } finally {
        db.close();
      }
    };
    for (let i = 0; i < 10; i++) {
      await new Promise((r) => setTimeout(r, 100 + 100 * (i % 3)));
      expect(rows()).toBeGreaterThan(20_000);
      await backups.restore(backup.id, { safetyBackup: false });
      const after = rows();
      // Only the writer's commits since the restore are on top of the 20 000 restored rows.
      expect(after).toBeGreaterThanOrEqual(20_000);
      expect(after).toBeLessThan(20_000 + 50);
    }
    await new Promise((r) => setTimeout(r, 200));
    expect(rows()).toBeGreaterThan(20_005);
    const db = new DatabaseSync(dbPath);
    expect(db.prepare('PRAGMA integrity_check').get()).toEqual({ integrity_check: 'ok' });
    db.close();
  }, 60_000);
});
