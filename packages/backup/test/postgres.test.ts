import { chmodSync, existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { isBotkitError } from '@botkit/core';
import { type PostgresServer, startPostgres } from '@botkit/test-harness';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Backups, createBackups, postgresAdvisoryLease, postgresDriver } from '../src/index.js';
import { tempDir } from './helpers.js';

const tmp = tempDir();
afterAll(() => tmp.cleanup());

async function query(url: string, sql: string): Promise<pg.QueryResult> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await client.query(sql);
  } finally {
    await client.end();
  }
}

async function fingerprint(url: string): Promise<string> {
  const res = await query(url, 'SELECT id, name FROM users ORDER BY id');
  return JSON.stringify(res.rows);
}

/** Finds the pg_dump processes whose parent is this test process. */
function childPgDumps(): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      const cmd = readFileSync(`/proc/${entry}/cmdline`, 'utf8');
      if (ppid === process.pid && cmd.includes('pg_dump')) pids.push(Number(entry));
    } catch {
      // process vanished
    }
  }
  return pids;
}

describe('postgresDriver with a real PostgreSQL', () => {
  let server: PostgresServer;
  let url: string;
  let backups: Backups;
  const logs: string[] = [];
  const logger = {
    info: (o: unknown, m?: string) => logs.push(JSON.stringify([o, m])),
    warn: (o: unknown, m?: string) => logs.push(JSON.stringify([o, m])),
    error: (o: unknown, m?: string) =>
      logs.push(JSON.stringify([o, m], (_k, v) => (v instanceof Error ? { message: v.message, stack: v.stack } : v))),
  };

  beforeAll(async () => {
    server = await startPostgres();
    url = await server.createDatabase('bot');
    await query(
      url,
      "CREATE TABLE users (id int PRIMARY KEY, name text); INSERT INTO users SELECT g, 'user ' || g FROM generate_series(1, 2000) g",
    );
    backups = createBackups({ driver: postgresDriver({ connectionString: url }), dir: join(tmp.path, 'pg'), logger });
  });
  afterAll(async () => {
    await server?.cleanup();
  });

  it('backs up with pg_dump, deep-verifies (full read and restore into a temp database) and restores with --clean', async () => {
    const backup = await backups.backup();
    expect(backup).toMatchObject({ driver: 'postgres', compression: 'zstd' });
    expect(backup.serverVersion).toMatch(new RegExp(`^${server.majorVersion}\\.`));
    expect(backup.database).not.toContain(server.password);
    expect(statSync(backup.path).mode & 0o777).toBe(0o600);
    expect(await backups.verify(backup.id, { deep: true })).toMatchObject({ ok: true, tables: { users: 2000 } });
    expect(await backups.verify(backup.id, { deep: true, restoreIntoTemp: true })).toMatchObject({
      ok: true,
      tables: { users: 2000 },
    });
    const databases = await query(server.url, "SELECT datname FROM pg_database WHERE datname LIKE 'botkit_verify_%'");
    expect(databases.rows).toEqual([]);

    const original = await fingerprint(url);
    await query(url, "DELETE FROM users WHERE id > 100; UPDATE users SET name = 'changed'; CREATE TABLE extra (x int)");
    const result = await backups.restore(backup.id);
    expect(await fingerprint(url)).toBe(original);
    // --clean restores the dumped objects; the safety backup has the state from just before.
    expect(await backups.verify(result.safetyBackupId as string, { deep: true })).toMatchObject({
      ok: true,
      tables: { users: 100, extra: 0 },
    });
  });

  it('accepts connection settings instead of a URL, and validates them eagerly', async () => {
    const { host, port, user, password } = server.connection('bot') as {
      host: string;
      port: number;
      user: string;
      password: string;
    };
    const viaObject = createBackups({
      driver: postgresDriver({ connection: { host, port, user, password, database: 'bot' } }),
      dir: join(tmp.path, 'pg-object'),
    });
    const backup = await viaObject.backup();
    expect(backup.database).toBe(`postgres://postgres@127.0.0.1:${server.port}/bot`);
    expect(() => postgresDriver({ connectionString: 'mysql://x/y' })).toThrow(/connectionString/);
    expect(() => postgresDriver({ connectionString: 'postgres://host' })).toThrow(/database/);
    expect(() => postgresDriver({})).toThrow(/connectionString or connection/);
    expect(() => postgresDriver({ connection: { database: 'x', port: 70_000 } })).toThrow(/connection\.port/);
  });

  it('never shows the password in pg_dump argv or environment (/proc), and uses a 0600 PGPASSFILE that is removed', async () => {
    const holder = new pg.Client({ connectionString: url });
    await holder.connect();
    // pg_dump waits for this lock, which keeps it running while we look at /proc.
    await holder.query('BEGIN; LOCK TABLE users IN ACCESS EXCLUSIVE MODE');
    const running = backups.backup();
    let pids: number[] = [];
    for (let i = 0; i < 400 && pids.length === 0; i++) {
      await new Promise((r) => setTimeout(r, 25));
      pids = childPgDumps();
    }
    expect(pids.length).toBe(1);
    const pid = pids[0] as number;
    const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    const environ = readFileSync(`/proc/${pid}/environ`, 'utf8');
    expect(cmdline).not.toContain(server.password);
    expect(environ).not.toContain(server.password);
    expect(cmdline).not.toContain('postgres://');
    const passFile = environ
      .split('\0')
      .find((e) => e.startsWith('PGPASSFILE='))
      ?.slice('PGPASSFILE='.length) as string;
    expect(passFile).toBeTruthy();
    expect(statSync(passFile).mode & 0o777).toBe(0o600);
    expect(readFileSync(passFile, 'utf8')).toContain(server.password);
    await holder.query('COMMIT');
    await holder.end();
    await running;
    expect(existsSync(passFile)).toBe(false);
  });

  it('aborting a running pg_dump rejects with the reason, kills pg_dump and leaves no file', async () => {
    const dir = join(tmp.path, 'pg-abort');
    const aborting = createBackups({ driver: postgresDriver({ connectionString: url }), dir });
    const holder = new pg.Client({ connectionString: url });
    await holder.connect();
    await holder.query('BEGIN; LOCK TABLE users IN ACCESS EXCLUSIVE MODE');
    try {
      const controller = new AbortController();
      const reason = new Error('shutting down');
      const running = aborting.backup({ signal: controller.signal }).catch((e: unknown) => e);
      let pids: number[] = [];
      for (let i = 0; i < 400 && pids.length === 0; i++) {
        await new Promise((r) => setTimeout(r, 25));
        pids = childPgDumps();
      }
      expect(pids).toHaveLength(1);
      controller.abort(reason);
      expect(await running).toBe(reason);
      await new Promise((r) => setTimeout(r, 100));
      expect(childPgDumps()).toEqual([]);
      expect(readdirSync(dir).filter((n) => !n.startsWith('.'))).toEqual([]);
      expect(readdirSync(join(dir, '.tmp'))).toEqual([]);
    } finally {
      await holder.query('COMMIT');
      await holder.end();
    }
  });

  it('refuses a pg_dump older than the server with BOTKIT_BACKUP_UNSUPPORTED and leaves no file', async () => {
    const fakeBin = join(tmp.path, 'fake-bin');
    const { mkdirSync } = await import('node:fs');
    mkdirSync(fakeBin, { recursive: true });
    for (const tool of ['pg_dump', 'pg_restore']) {
      writeFileSync(join(fakeBin, tool), `#!/bin/sh\necho "${tool} (PostgreSQL) ${server.majorVersion - 1}.3"\n`);
      chmodSync(join(fakeBin, tool), 0o755);
    }
    const dir = join(tmp.path, 'old-pg-dump');
    const old = createBackups({ driver: postgresDriver({ connectionString: url, binDir: fakeBin }), dir });
    const error = await old.backup().catch((e: unknown) => e);
    expect(isBotkitError(error, 'BOTKIT_BACKUP_UNSUPPORTED')).toBe(true);
    expect((error as Error).message).toMatch(new RegExp(`>= ${server.majorVersion}`));
    expect(readdirSync(dir).filter((n) => !n.startsWith('.'))).toEqual([]);
  });

  it('catches truncation and byte flips of a PostgreSQL dump; restore refuses and leaves the database as it was', async () => {
    const dir = join(tmp.path, 'pg-damage');
    const plain = createBackups({ driver: postgresDriver({ connectionString: url }), dir, compression: 'none' });
    const backup = await plain.backup();
    const original = readFileSync(backup.path);
    const manifest = readFileSync(backup.manifestPath, 'utf8');
    await query(url, "UPDATE users SET name = 'live'");
    const before = await fingerprint(url);
    const damages = [
      original.subarray(0, original.length - 1),
      original.subarray(0, Math.floor(original.length / 2)),
      Buffer.from(original).fill(0x41, 100, 101),
      Buffer.from(original).fill(0x00, original.length - 10, original.length - 9),
    ];
    for (const damaged of damages) {
      writeFileSync(backup.path, damaged);
      expect((await plain.verify(backup.id)).ok).toBe(false);
      const error = await plain.restore(backup.id).catch((e: unknown) => e);
      expect(isBotkitError(error, 'BOTKIT_BACKUP_CORRUPT')).toBe(true);
      expect(await fingerprint(url)).toBe(before);
    }
    // Even with a manifest rewritten to match, the deep check (full pg_restore read) sees a truncated dump,
    // which `pg_restore -l` (table of contents only) would not.
    const { createHash } = await import('node:crypto');
    const truncated = original.subarray(0, original.length - 200);
    writeFileSync(backup.path, truncated);
    const sha = createHash('sha256').update(truncated).digest('hex');
    const m = JSON.parse(manifest) as Record<string, unknown>;
    writeFileSync(
      backup.manifestPath,
      JSON.stringify({
        ...m,
        sha256: sha,
        uncompressedSha256: sha,
        compressedBytes: truncated.length,
        uncompressedBytes: truncated.length,
      }),
    );
    expect((await plain.verify(backup.id)).ok).toBe(true);
    expect((await plain.verify(backup.id, { deep: true })).ok).toBe(false);
    writeFileSync(backup.path, original);
    writeFileSync(backup.manifestPath, manifest);
    expect((await plain.verify(backup.id, { deep: true })).ok).toBe(true);
  });

  it('postgresAdvisoryLease lets one replica back up: another is refused until the holder releases', async () => {
    const first = postgresAdvisoryLease({ connectionString: url, key: 'bot:backup' });
    const second = postgresAdvisoryLease({ connectionString: url, key: 'bot:backup' });
    expect(await first.tryAcquire()).toBe(true);
    expect(await second.tryAcquire()).toBe(false);
    const replica = createBackups({
      driver: postgresDriver({ connectionString: url }),
      dir: join(tmp.path, 'pg-lease'),
      lock: second,
    });
    const error = await replica.backup().catch((e: unknown) => e);
    expect(isBotkitError(error, 'BOTKIT_BACKUP_LOCKED')).toBe(true);
    await first.release();
    await expect(replica.backup()).resolves.toMatchObject({ driver: 'postgres' });
    // The replica released the lock after its backup.
    expect(await first.tryAcquire()).toBe(true);
    await first.release();
    const held = await query(server.url, "SELECT count(*)::int AS n FROM pg_locks WHERE locktype = 'advisory'");
    expect(held.rows[0]).toEqual({ n: 0 });
  });

  it('no log line and no error ever contains the password', async () => {
    const wrong = createBackups({
      driver: postgresDriver({ connectionString: url.replace('/bot', '/missing_db') }),
      dir: join(tmp.path, 'pg-wrong'),
      logger,
    });
    const error = await wrong.backup().catch((e: unknown) => e);
    expect(isBotkitError(error, 'BOTKIT_BACKUP_FAILED')).toBe(true);
    const text = `${String(error)} ${(error as Error).stack} ${JSON.stringify(error)} ${String((error as Error).cause)}`;
    expect(text).not.toContain(server.password);
    expect(logs.length).toBeGreaterThan(0);
    for (const line of logs) expect(line).not.toContain(server.password);
  });
});

describe('PostgreSQL stopped mid-backup', () => {
  it('fails with a clear error, leaves no partial file, and older backups stay intact', async () => {
    const server = await startPostgres();
    try {
      const url = await server.createDatabase('big');
      // ~80 MB of table data so pg_dump is still streaming when the server dies.
      await query(
        url,
        'CREATE TABLE blobs (id int, body text); INSERT INTO blobs SELECT g, repeat(md5(g::text), 8) FROM generate_series(1, 300000) g',
      );
      const dir = join(tmp.path, 'pg-stopped');
      const backups = createBackups({
        driver: postgresDriver({ connectionString: url }),
        dir,
        compression: 'gzip',
        compressionLevel: 1,
      });
      const older = await backups.backup();
      const running = backups.backup().then(
        () => 'completed',
        (e: unknown) => e,
      );
      // Wait until dump data is being written, then kill the server (SIGKILL, as a crash would).
      const scratch = join(dir, '.tmp');
      const writing = () =>
        readdirSync(scratch, { recursive: true }).some(
          (n) => String(n).endsWith('.part') && statSync(join(scratch, String(n))).size > 0,
        );
      for (let i = 0; i < 2000 && !writing(); i++) await new Promise((r) => setTimeout(r, 2));
      await server.kill();
      const error = await running;
      expect(isBotkitError(error, 'BOTKIT_BACKUP_FAILED')).toBe(true);
      expect((error as Error).message).toMatch(/pg_dump/);
      expect((error as Error).message).not.toContain(server.password);
      expect((await backups.list()).map((b) => b.id)).toEqual([older.id]);
      expect(
        readdirSync(dir)
          .filter((n) => !n.startsWith('.'))
          .sort(),
      ).toEqual([older.file, `${older.id}.json`].sort());
      expect(readdirSync(scratch)).toEqual([]);
      expect(await backups.verify(older.id)).toMatchObject({ ok: true });
    } finally {
      await server.cleanup();
    }
  }, 120_000);
});
