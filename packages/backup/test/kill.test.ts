import { type ChildProcess, spawn } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { createBackups, sqliteDriver } from '../src/index.js';
import { createSqlite, tempDir, waitForLine } from './helpers.js';

const runner = fileURLToPath(new URL('./fixtures/runner.ts', import.meta.url));
const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));
const tmp = tempDir();
afterAll(() => tmp.cleanup());

function start(args: string[]): ChildProcess {
  return spawn(process.execPath, ['--import', 'tsx', runner, ...args], {
    cwd: repoRoot,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

async function killAfter(child: ChildProcess, ms: number): Promise<void> {
  await new Promise((r) => setTimeout(r, ms));
  const exited = new Promise<void>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve();
    else child.once('exit', () => resolve());
  });
  child.kill('SIGKILL');
  await exited;
}

const visible = (dir: string) => readdirSync(dir).filter((n) => !n.startsWith('.'));

describe('kill -9', () => {
  it('at random points of a backup: never a partial backup, earlier backups intact, leftovers cleaned', async () => {
    const dbPath = join(tmp.path, 'backup.db');
    const dir = join(tmp.path, 'backups');
    createSqlite(dbPath, 6000, 2000).close(); // ~12 MB of random (incompressible) data
    const backups = createBackups({ driver: sqliteDriver({ path: dbPath }), dir });
    const first = await backups.backup();
    for (let round = 0; round < 8; round++) {
      const child = start(['backup', dbPath, dir]);
      await waitForLine(child, 'ready');
      await killAfter(child, Math.floor(Math.random() * 600));
      // Whatever the moment of the kill, every backup that is listed is complete.
      for (const backup of await backups.list()) {
        expect(await backups.verify(backup.id), backup.id).toMatchObject({ ok: true });
      }
    }
    expect((await backups.list()).map((b) => b.id)).toContain(first.id);
    // The next backup takes over the dead runner's lock and removes its temporary files.
    await backups.backup();
    const listed = await backups.list();
    const expected = listed.flatMap((b) => [b.file, `${b.id}.json`]).sort();
    expect(visible(dir).sort()).toEqual(expected);
    expect(readdirSync(join(dir, '.tmp'))).toEqual([]);
    expect(await backups.verify(first.id, { deep: true })).toMatchObject({ ok: true });
  }, 120_000);

  it('at random points of a restore: the database is the old one or the restored one, never a mix', async () => {
    const dbPath = join(tmp.path, 'restore.db');
    const dir = join(tmp.path, 'restore-backups');
    const db = createSqlite(dbPath, 8000, 2000); // ~16 MB, version 'a'
    const backups = createBackups({ driver: sqliteDriver({ path: dbPath }), dir });
    const backupOfA = await backups.backup();
    const makeB = () => {
      db.exec("UPDATE items SET version = 'b'");
      db.prepare("INSERT INTO items (version) VALUES ('b')").run();
    };
    makeB();
    // Measure one restore so the kills land before, during and after the write.
    const t0 = performance.now();
    await backups.restore(backupOfA.id, { safetyBackup: false });
    const restoreMs = performance.now() - t0;
    makeB();
    const outcomes: string[] = [];
    for (let round = 0; round < 8; round++) {
      const child = start(['restore', dbPath, dir, backupOfA.id]);
      await waitForLine(child, 'ready');
      await killAfter(child, Math.floor(Math.random() * restoreMs * 1.5));
      const check = new DatabaseSync(dbPath);
      expect(check.prepare('PRAGMA integrity_check').get()).toEqual({ integrity_check: 'ok' });
      const versions = check
        .prepare('SELECT version, count(*) AS n FROM items GROUP BY version ORDER BY version')
        .all() as Array<{ version: string; n: number }>;
      check.close();
      expect([
        [{ version: 'a', n: 8000 }], // fully restored
        [{ version: 'b', n: 8001 }], // untouched
      ]).toContainEqual(versions.map((v) => ({ ...v })));
      outcomes.push(versions[0]?.version === 'a' ? 'restored' : 'old');
      if (versions[0]?.version === 'a') makeB();
    }
    db.close();
    console.info(`kill -9 during restore (~${Math.round(restoreMs)} ms), outcomes: ${outcomes.join(', ')}`);
  }, 120_000);
});
