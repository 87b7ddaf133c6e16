import { type ChildProcess, execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chownSync, existsSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import {
  exited,
  freePort,
  pgBinDir,
  type ServerHandle,
  serverHandle,
  spawnTracked,
  tailOutput,
  unprivilegedIds,
  waitFor,
} from './util.js';

/** A real PostgreSQL server on 127.0.0.1 with password (SCRAM) authentication over TCP. */
export interface PostgresServer extends ServerHandle {
  /** Superuser name: `postgres`. */
  readonly user: string;
  /** The superuser's password (random per template). */
  readonly password: string;
  /** Default database: `postgres`. */
  readonly database: string;
  /** `postgres://postgres:<password>@127.0.0.1:<port>/postgres` */
  readonly url: string;
  /** Directory with this server's binaries (pg_dump, pg_restore of the same major version). */
  readonly binDir: string;
  /** Major version of the server, e.g. 15. */
  readonly majorVersion: number;
  /** Connection settings for `pg`. */
  connection(database?: string): pg.ClientConfig;
  /** URL of another database on this server. */
  urlFor(database: string): string;
  /** Creates a database and returns its URL. */
  createDatabase(name: string): Promise<string>;
}

/** Options of {@link startPostgres}. */
export interface StartPostgresOptions {
  /** Port to use; a free one by default. */
  port?: number;
}

function majorOf(binDir: string): number {
  const out = execFileSync(`${binDir}/postgres`, ['--version'], { encoding: 'utf8' });
  const match = /(\d+)(?:\.\d+)?/.exec(out);
  return Number(match?.[1] ?? 0);
}

/**
 * A cluster initialised once per machine and PostgreSQL version, copied for each server:
 * initdb takes about a second, a copy a few tens of milliseconds.
 */
function template(binDir: string, major: number, ids: ReturnType<typeof unprivilegedIds>) {
  const path = join(tmpdir(), `botkit-harness-pg${major}-template${ids ? `-u${ids.uid}` : ''}`);
  const passwordFile = `${path}.password`;
  if (existsSync(`${path}/PG_VERSION`) && existsSync(passwordFile)) {
    return { path, password: readFileSync(passwordFile, 'utf8').trim() };
  }
  const work = mkdtempSync(join(tmpdir(), 'botkit-harness-initdb-'));
  const password = `pw_${randomBytes(12).toString('hex')}`;
  const pwfile = join(work, 'pwfile');
  writeFileSync(pwfile, `${password}\n`, { mode: 0o600 });
  const data = join(work, 'data');
  if (ids) {
    chownSync(work, ids.uid, ids.gid);
    chownSync(pwfile, ids.uid, ids.gid);
  }
  execFileSync(
    `${binDir}/initdb`,
    [
      '-D',
      data,
      '-U',
      'postgres',
      '--auth-local=trust',
      '--auth-host=scram-sha-256',
      `--pwfile=${pwfile}`,
      '-E',
      'UTF8',
      '--locale=C',
      '--no-sync',
      '--no-instructions',
    ],
    { stdio: 'pipe', ...(ids ?? {}) },
  );
  try {
    renameSync(data, path);
    writeFileSync(passwordFile, password, { mode: 0o644 });
  } catch {
    // Another worker won the race: use its template.
  }
  rmSync(work, { recursive: true, force: true });
  for (let i = 0; i < 200 && !existsSync(passwordFile); i++) execFileSync('sleep', ['0.05']);
  return { path, password: readFileSync(passwordFile, 'utf8').trim() };
}

/**
 * Starts a real PostgreSQL server on 127.0.0.1, on a free port, in a temporary data directory
 * (as user `nobody` when running as root, since PostgreSQL refuses root). Resolves once it
 * accepts queries. `fsync` is off for speed: committed data survives a SIGKILL of the server (the OS
 * page cache keeps it), not a machine crash, which tests never simulate.
 */
export async function startPostgres(options: StartPostgresOptions = {}): Promise<PostgresServer> {
  const binDir = pgBinDir();
  const major = majorOf(binDir);
  const ids = unprivilegedIds();
  const tpl = template(binDir, major, ids);
  const port = options.port ?? (await freePort());
  const dir = mkdtempSync(join(tmpdir(), 'botkit-pg-'));
  if (ids) chownSync(dir, ids.uid, ids.gid);
  const data = join(dir, 'data');
  execFileSync('cp', ['-a', tpl.path, data]);
  let child: ChildProcess | undefined;

  const connection = (database = 'postgres'): pg.ClientConfig => ({
    host: '127.0.0.1',
    port,
    user: 'postgres',
    password: tpl.password,
    database,
  });
  const urlFor = (database: string) =>
    `postgres://postgres:${encodeURIComponent(tpl.password)}@127.0.0.1:${port}/${encodeURIComponent(database)}`;

  const launch = async () => {
    const proc = spawnTracked(
      `${binDir}/postgres`,
      [
        '-D',
        data,
        '-p',
        String(port),
        '-c',
        'listen_addresses=127.0.0.1',
        '-c',
        `unix_socket_directories=${dir}`,
        '-c',
        'fsync=off',
        '-c',
        'full_page_writes=off',
        '-c',
        'max_connections=100',
        '-c',
        'shared_buffers=32MB',
      ],
      { detached: true, ...(ids ?? {}) },
    );
    const output = tailOutput(proc);
    child = proc;
    try {
      await waitFor(
        `postgres on port ${port}`,
        async () => {
          if (proc.exitCode !== null) throw new Error(`postgres exited: ${output()}`);
          const client = new pg.Client({ ...connection(), connectionTimeoutMillis: 1000 });
          try {
            await client.connect();
            await client.query('SELECT 1');
            return true;
          } finally {
            await client.end().catch(() => {});
          }
        },
        30_000,
        25,
      );
    } catch (error) {
      killGroup(proc, 'SIGKILL');
      throw error;
    }
  };
  const killGroup = (proc: ChildProcess, signal: NodeJS.Signals) => {
    try {
      if (proc.pid) process.kill(-proc.pid, signal);
    } catch {
      proc.kill(signal);
    }
  };
  const stopWith = async (signal: NodeJS.Signals) => {
    const proc = child;
    if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
    // SIGINT = PostgreSQL "fast" shutdown; SIGKILL hits the whole process group (postmaster and
    // backends), as a crash or OOM kill would, so the port and shared memory are free at once.
    if (signal === 'SIGKILL') killGroup(proc, 'SIGKILL');
    else proc.kill(signal);
    await exited(proc);
    if (signal === 'SIGKILL') await new Promise((r) => setTimeout(r, 50));
  };

  await launch();
  const fields: Omit<PostgresServer, keyof ServerHandle> = {
    user: 'postgres',
    password: tpl.password,
    database: 'postgres',
    url: urlFor('postgres'),
    binDir,
    majorVersion: major,
    connection,
    urlFor,
    async createDatabase(name) {
      const client = new pg.Client(connection());
      await client.connect();
      try {
        await client.query(`CREATE DATABASE "${name.replaceAll('"', '""')}"`);
      } finally {
        await client.end();
      }
      return urlFor(name);
    },
  };
  return serverHandle(fields, { port, dir, graceful: 'SIGINT', child: () => child, launch, stopWith });
}
