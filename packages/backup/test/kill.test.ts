import { type ChildProcess, spawn } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { startPostgres } from '@botkit/test-harness';
import pg from 'pg';
import { createBackups, postgresDriver, sqliteDriver } from '../src/index.js';
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

  it('at random points of a PostgreSQL restore: old or restored, never mixed; a leftover password file is swept', async () => {
    const server = await startPostgres();
    const client = new pg.Client(server.connection('postgres'));
    try {
      const url = await server.createDatabase('killed');
      await client.connect();
      const db = new pg.Client({ connectionString: url });
      await db.connect();
      await db.query(
        "CREATE TABLE items (id int PRIMARY KEY, version text, body text); INSERT INTO items SELECT g, 'a', repeat(md5(g::text), 3) FROM generate_series(1, 150000) g",
      );
      const dir = join(tmp.path, 'pg-restore-backups');
      const backups = createBackups({ driver: postgresDriver({ connectionString: url }), dir, compressionLevel: 1 });
      const backupOfA = await backups.backup();
      const makeB = () => db.query("UPDATE items SET version = 'b'; INSERT INTO items VALUES (0, 'b', '')");
      await makeB();
      const t0 = performance.now();
      await backups.restore(backupOfA.id, { safetyBackup: false });
      const restoreMs = performance.now() - t0;
      await makeB();
      const outcomes: string[] = [];
      const killedPids: number[] = [];
      for (let round = 0; round < 5; round++) {
        const child = start(['pg-restore', url, dir, backupOfA.id]);
        await waitForLine(child, 'ready');
        killedPids.push(child.pid as number);
        await killAfter(child, Math.floor(Math.random() * restoreMs * 1.3));
        // pg_restore, now orphaned, sees its input end early and rolls back (or had everything and commits).
        for (let i = 0; i < 600; i++) {
          const active = await client.query(
            "SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = 'pg_restore'",
          );
          if (active.rows[0].n === 0) break;
          await new Promise((r) => setTimeout(r, 50));
        }
        const versions = await db.query(
          'SELECT version, count(*)::int AS n FROM items GROUP BY version ORDER BY version',
        );
        expect([[{ version: 'a', n: 150000 }], [{ version: 'b', n: 150001 }]]).toContainEqual(versions.rows);
        outcomes.push(versions.rows[0].version === 'a' ? 'restored' : 'old');
        if (versions.rows[0].version === 'a') await makeB();
      }
      console.info(
        `kill -9 during PostgreSQL restore (~${Math.round(restoreMs)} ms), outcomes: ${outcomes.join(', ')}`,
      );
      // Password files of the killed runners are removed by the next run.
      await backups.backup();
      const left = readdirSync(tmpdir()).filter((n) => killedPids.some((pid) => n.startsWith(`botkit-pgpass-${pid}-`)));
      expect(left).toEqual([]);
      await db.end();
    } finally {
      await client.end().catch(() => {});
      await server.cleanup();
    }
  }, 120_000);
});
