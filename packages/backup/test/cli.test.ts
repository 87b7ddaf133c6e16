import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { startPostgres } from '@botkit/test-harness';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli } from '../src/cli-run.js';
import { count, createSqlite, tempDir } from './helpers.js';

const tmp = tempDir();
afterAll(() => tmp.cleanup());

async function cli(args: string[], env: Record<string, string | undefined> = {}) {
  let stdout = '';
  let stderr = '';
  const stdin = Object.assign(new PassThrough(), { isTTY: false });
  const code = await runCli(args, {
    stdout: { write: (t: string) => (stdout += t) },
    stderr: { write: (t: string) => (stderr += t) },
    stdin,
    env,
  });
  return { code, stdout, stderr };
}

describe('botkit-backup CLI', () => {
  const dbPath = join(tmp.path, 'bot.db');
  const dir = join(tmp.path, 'backups');

  it('backup, list, verify --deep, prune --dry-run, prune, restore --yes on an SQLite file', async () => {
    const db = createSqlite(dbPath, 50);
    for (let i = 0; i < 3; i++) {
      const r = await cli(['backup', '--db', dbPath, '--dir', dir, '--json']);
      expect(r.code, r.stderr).toBe(0);
      expect(JSON.parse(r.stdout).backup.driver).toBe('sqlite');
    }
    const list = await cli(['list', '--db', dbPath, '--dir', dir, '--json']);
    const ids = (JSON.parse(list.stdout) as Array<{ id: string }>).map((b) => b.id);
    expect(ids).toHaveLength(3);
    const human = await cli(['list', '--db', dbPath, '--dir', dir]);
    expect(human.stdout.trim().split('\n')).toHaveLength(3);

    const verify = await cli(['verify', '--deep', '--db', dbPath, '--dir', dir]);
    expect(verify.code).toBe(0);
    expect(verify.stdout).toMatch(/^ok .* \(deep\)\s+tables: items=50 meta=0/);

    const dry = await cli(['prune', '--dry-run', '--keep-last', '1', '--db', dbPath, '--dir', dir, '--json']);
    expect(JSON.parse(dry.stdout)).toMatchObject({ dryRun: true, removed: ids.slice(1) });
    const pruned = await cli(['prune', '--keep-last', '2', '--db', dbPath, '--dir', dir]);
    expect(pruned.stdout).toMatch(/^removed 1, kept 2/);

    db.exec('DELETE FROM items');
    const refused = await cli(['restore', 'latest', '--db', dbPath, '--dir', dir]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/--yes/);
    expect(count(db)).toBe(0);
    const restored = await cli(['restore', 'latest', '--yes', '--db', dbPath, '--dir', dir]);
    expect(restored.code, restored.stderr).toBe(0);
    expect(restored.stdout).toMatch(/previous state saved as sqlite-/);
    expect(count(db)).toBe(50);
    db.close();
  });

  it('exits 4 for a damaged backup, 2 for usage errors, 1 for failures, with clear messages', async () => {
    const { truncateSync } = await import('node:fs');
    const list = JSON.parse((await cli(['list', '--db', dbPath, '--dir', dir, '--json'])).stdout) as Array<{
      id: string;
      path: string;
    }>;
    const newest = list[0] as { id: string; path: string };
    truncateSync(newest.path, 3);
    const damaged = await cli(['verify', newest.id, '--db', dbPath, '--dir', dir]);
    expect(damaged.code).toBe(4);
    expect(damaged.stdout).toMatch(/^DAMAGED/);
    const refused = await cli(['restore', newest.id, '--yes', '--db', dbPath, '--dir', dir]);
    expect(refused.code).toBe(4);
    expect(refused.stderr).toMatch(/Refusing to restore/);

    expect((await cli([])).code).toBe(2);
    expect((await cli(['--help'])).code).toBe(0);
    expect((await cli(['explode', '--db', dbPath, '--dir', dir])).stderr).toMatch(/unknown command/);
    expect((await cli(['backup', '--dir', dir])).stderr).toMatch(/--db \(or DATABASE_URL\)/);
    expect((await cli(['backup', '--db', dbPath])).code).toBe(2);
    expect((await cli(['backup', '--db', dbPath, '--dir', dir, '--keep-daily', 'x'])).stderr).toMatch(/--keep-daily/);
    expect((await cli(['backup', '--db', dbPath, '--dir', dir, '--compression', 'lz4'])).code).toBe(2);
    expect((await cli(['backup', '--bogus'])).code).toBe(2);
    const missing = await cli(['backup', '--db', join(tmp.path, 'nope.db'), '--dir', dir]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/does not exist/);
  });

  it('takes DATABASE_URL for PostgreSQL and never prints its password', async () => {
    const server = await startPostgres();
    try {
      const url = await server.createDatabase('clidb');
      const pgDir = join(tmp.path, 'pg');
      const ok = await cli(['backup', '--dir', pgDir], { DATABASE_URL: url });
      expect(ok.code, ok.stderr).toBe(0);
      expect(ok.stdout).toContain(`postgres://postgres:***@127.0.0.1:${server.port}/clidb`);
      const bad = url.replace('/clidb', '/nosuchdb');
      const failed = await cli(['backup', '--dir', pgDir], { DATABASE_URL: bad });
      expect(failed.code).toBe(1);
      expect(failed.stderr).toMatch(/nosuchdb/);
      for (const text of [ok.stdout, ok.stderr, failed.stdout, failed.stderr])
        expect(text).not.toContain(server.password);
    } finally {
      await server.cleanup();
    }
  });

  it('the bin entry runs as a real process and sets the exit code', () => {
    const repoRoot = new URL('../../../', import.meta.url).pathname;
    const bin = new URL('../src/cli.ts', import.meta.url).pathname;
    let status = 0;
    let stderr = '';
    try {
      execFileSync(process.execPath, ['--import', 'tsx', bin, 'list', '--dir', dir], {
        cwd: repoRoot,
        env: { ...process.env, DATABASE_URL: '' },
        stdio: 'pipe',
      });
    } catch (error) {
      status = (error as { status: number }).status;
      stderr = String((error as { stderr: Buffer }).stderr);
    }
    expect(status).toBe(2);
    expect(stderr).toMatch(/--db/);
  });
});
