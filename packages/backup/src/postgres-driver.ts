import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync } from 'node:fs';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Transform } from 'node:stream';
import { promisify } from 'node:util';
import { redact } from '@botkit/core';
import type pg from 'pg';
import type { BackupDriver, DeepCheckResult } from './driver.js';
import { BackupError, BackupErrorCode } from './errors.js';
import { pidAlive } from './lock.js';

const execFileAsync = promisify(execFile);

/**
 * Connection settings of {@link postgresDriver} when not given as a URL.
 *
 * @example
 * ```ts
 * const connection: PostgresConnection = { host: 'db', port: 5432, user: 'bot', password: process.env.PGPW, database: 'bot' };
 * ```
 */
export interface PostgresConnection {
  /** Host name or IP. @defaultValue `'localhost'` */
  host?: string | undefined;
  /** Port. @defaultValue `5432` */
  port?: number | undefined;
  /** User name. @defaultValue `'postgres'` */
  user?: string | undefined;
  /** Password; only ever handed to pg_dump/pg_restore through a temporary 0600 PGPASSFILE. */
  password?: string | undefined;
  /** Database name. */
  database: string;
  /** libpq `sslmode` (`disable`, `require`, `verify-full`...). @defaultValue libpq's default */
  sslmode?: string | undefined;
}

/**
 * Options of {@link postgresDriver}: a `connectionString` or a `connection`.
 *
 * @example
 * ```ts
 * const options: PostgresDriverOptions = { connectionString: process.env.DATABASE_URL ?? '' };
 * ```
 */
export interface PostgresDriverOptions {
  /** `postgres://user:password@host:port/database?sslmode=...` */
  connectionString?: string | undefined;
  /** Connection settings, when not using `connectionString`. */
  connection?: PostgresConnection | undefined;
  /**
   * Directory with `pg_dump` and `pg_restore`. By default the newest installed version whose
   * major version is >= the server's is used (`/usr/lib/postgresql/N/bin`, `/usr/pgsql-N/bin`, `PATH`).
   */
  binDir?: string | undefined;
}

interface Target {
  host: string;
  port: number;
  user: string;
  password: string | undefined;
  database: string;
  sslmode: string | undefined;
}

function parseTarget(options: PostgresDriverOptions): Target {
  if (options.connectionString !== undefined) {
    if (typeof options.connectionString !== 'string' || options.connectionString === '') {
      throw new TypeError('Expected connectionString to be a non-empty postgres:// URL');
    }
    let url: URL;
    try {
      url = new URL(options.connectionString);
    } catch {
      throw new TypeError('Expected connectionString to be a valid postgres:// URL');
    }
    if (url.protocol !== 'postgres:' && url.protocol !== 'postgresql:') {
      throw new TypeError(`Expected connectionString to start with postgres://, got ${url.protocol}//`);
    }
    const database = decodeURIComponent(url.pathname.replace(/^\//, ''));
    if (!database) throw new TypeError('Expected connectionString to name a database (postgres://host/dbname)');
    return {
      host: decodeURIComponent(url.hostname) || 'localhost',
      port: url.port ? Number(url.port) : 5432,
      user: decodeURIComponent(url.username) || 'postgres',
      password: url.password ? decodeURIComponent(url.password) : undefined,
      database,
      sslmode: url.searchParams.get('sslmode') ?? undefined,
    };
  }
  const c = options.connection;
  if (typeof c !== 'object' || c === null) throw new TypeError('Expected connectionString or connection');
  if (typeof c.database !== 'string' || c.database === '')
    throw new TypeError('Expected connection.database to be a non-empty string');
  const port = c.port ?? 5432;
  if (!Number.isInteger(port) || port < 1 || port > 65535)
    throw new TypeError(`Expected connection.port to be a TCP port, got ${port}`);
  return {
    host: c.host ?? 'localhost',
    port,
    user: c.user ?? 'postgres',
    password: c.password,
    database: c.database,
    sslmode: c.sslmode,
  };
}

function escapePass(value: string) {
  return value.replaceAll('\\', '\\\\').replaceAll(':', '\\:');
}

function majorOf(versionOutput: string): number {
  const match = /(\d+)(?:\.\d+)?/.exec(versionOutput);
  return Number(match?.[1] ?? 0);
}

/** @internal Candidate directories holding pg_dump, newest version first where known. */
function candidateBinDirs(): string[] {
  const dirs: string[] = [];
  if (process.env.PG_BIN_DIR) dirs.push(process.env.PG_BIN_DIR);
  for (const base of ['/usr/lib/postgresql', '/usr/local/pgsql']) {
    if (!existsSync(base)) continue;
    const versions = readdirSync(base)
      .filter((v) => /^\d+$/.test(v))
      .sort((a, b) => Number(b) - Number(a));
    for (const v of versions) dirs.push(`${base}/${v}/bin`);
  }
  if (existsSync('/usr')) {
    const rh = readdirSync('/usr')
      .filter((v) => /^pgsql-\d+$/.test(v))
      .sort((a, b) => Number(b.slice(6)) - Number(a.slice(6)));
    for (const v of rh) dirs.push(`/usr/${v}/bin`);
  }
  for (const dir of (process.env.PATH ?? '').split(':')) if (dir) dirs.push(dir);
  return [...new Set(dirs)].filter((dir) => existsSync(join(dir, 'pg_dump')));
}

/**
 * Removes password files left by processes that were killed before they could clean up
 * (`botkit-pgpass-<pid>-*` of pids that no longer exist).
 */
async function sweepPassFiles(): Promise<void> {
  let names: string[];
  try {
    names = await readdir(tmpdir());
  } catch {
    return;
  }
  for (const name of names) {
    const match = /^botkit-pgpass-(\d+)-/.exec(name);
    if (match && !pidAlive(Number(match[1]))) await rm(join(tmpdir(), name), { recursive: true, force: true });
  }
}

class ExitChecked extends Transform {
  constructor(private readonly exited: Promise<void>) {
    super();
  }
  override _transform(chunk: Buffer, _e: BufferEncoding, callback: (error?: Error | null, data?: Buffer) => void) {
    callback(null, chunk);
  }
  override _flush(callback: (error?: Error | null) => void) {
    this.exited.then(
      () => callback(),
      (error: Error) => callback(error),
    );
  }
}

function quoteIdent(name: string) {
  return `"${name.replaceAll('"', '""')}"`;
}

/**
 * A driver for a PostgreSQL database: `pg_dump -Fc` (streamed, never held in memory) and
 * `pg_restore --clean --if-exists --single-transaction` (all or nothing). It picks a pg_dump
 * whose major version is >= the server's (asked with `pg`, an optional peer dependency), and
 * hands the password to pg_dump and pg_restore only through a temporary 0600 PGPASSFILE: never
 * in argv (readable by every user in `/proc`), logs or errors.
 *
 * @param options - `connectionString` or `connection`, and optionally `binDir`
 * @returns a {@link BackupDriver} for {@link createBackups}
 * @throws TypeError when the connection settings are invalid
 *
 * @example
 * ```ts
 * import { createBackups, postgresDriver } from '@botkit/backup';
 *
 * const driver = postgresDriver({ connectionString: process.env.DATABASE_URL ?? '' });
 * const backups = createBackups({ driver, dir: '/var/backups/bot', compression: 'zstd' });
 * await backups.backup();
 * ```
 */
export function postgresDriver(options: PostgresDriverOptions): BackupDriver {
  if (typeof options !== 'object' || options === null) throw new TypeError('Expected an options object');
  const target = parseTarget(options);
  if (options.binDir !== undefined && (typeof options.binDir !== 'string' || options.binDir === '')) {
    throw new TypeError('Expected binDir to be a non-empty string');
  }
  const secrets = [target.password];
  const clean = (text: string) => redact(text, secrets);
  const identity = `postgres://${encodeURIComponent(target.user)}@${target.host}:${target.port}/${encodeURIComponent(target.database)}`;
  let tools: Promise<{ dir: string; major: number }> | undefined;

  const client = async (database = target.database): Promise<pg.Client> => {
    let mod: typeof import('pg');
    try {
      mod = await import('pg');
    } catch (error) {
      throw new BackupError(BackupErrorCode.Unsupported, 'postgresDriver needs the `pg` package: npm install pg', {
        cause: error,
      });
    }
    const Client = (mod.default ?? mod).Client;
    const c = new Client({
      host: target.host,
      port: target.port,
      user: target.user,
      ...(target.password !== undefined ? { password: target.password } : {}),
      database,
      connectionTimeoutMillis: 10_000,
      ...(target.sslmode && target.sslmode !== 'disable'
        ? { ssl: { rejectUnauthorized: target.sslmode === 'verify-full' } }
        : {}),
    });
    c.on('error', () => {});
    try {
      await c.connect();
    } catch (error) {
      await c.end().catch(() => {});
      throw new BackupError(
        BackupErrorCode.Failed,
        clean(`Cannot connect to ${identity}: ${(error as Error).message}`),
        {
          cause: error,
        },
      );
    }
    return c;
  };

  const serverInfo = async (): Promise<{ version: string; major: number }> => {
    const c = await client();
    try {
      const res = await c.query<{ server_version: string; server_version_num: string }>(
        "SELECT current_setting('server_version') AS server_version, current_setting('server_version_num') AS server_version_num",
      );
      const row = res.rows[0];
      if (!row) throw new BackupError(BackupErrorCode.Failed, `${identity} did not report its version`);
      return { version: row.server_version, major: Math.floor(Number(row.server_version_num) / 10_000) };
    } finally {
      await c.end().catch(() => {});
    }
  };

  const findTools = async (serverMajor: number) => {
    const dirs = options.binDir ? [options.binDir] : candidateBinDirs();
    const seen: string[] = [];
    for (const dir of dirs) {
      try {
        const { stdout } = await execFileAsync(join(dir, 'pg_dump'), ['--version']);
        const major = majorOf(stdout);
        seen.push(`${dir}: ${major}`);
        if (major >= serverMajor && existsSync(join(dir, 'pg_restore'))) return { dir, major };
      } catch {
        seen.push(`${dir}: unusable`);
      }
    }
    throw new BackupError(
      BackupErrorCode.Unsupported,
      `No pg_dump with major version >= ${serverMajor} (the server's) found${seen.length ? ` (${seen.join(', ')})` : ''}; install postgresql-client-${serverMajor} or set binDir`,
    );
  };

  const getTools = () => {
    tools ??= serverInfo()
      .then((info) => findTools(info.major))
      .catch((error: unknown) => {
        tools = undefined;
        throw error;
      });
    return tools;
  };

  /** Spawns a pg tool with the password in a temporary PGPASSFILE; resolves `exited` on exit code 0. */
  const run = async (
    tool: 'pg_dump' | 'pg_restore',
    args: string[],
    signal: AbortSignal,
    database = target.database,
  ) => {
    const { dir } = await getTools();
    signal.throwIfAborted();
    await sweepPassFiles();
    const passDir = await mkdtemp(join(tmpdir(), `botkit-pgpass-${process.pid}-`));
    const passFile = join(passDir, 'pgpass');
    await writeFile(
      passFile,
      `${escapePass(target.host)}:${target.port}:*:${escapePass(target.user)}:${escapePass(target.password ?? '')}\n`,
      { mode: 0o600 },
    );
    const env: NodeJS.ProcessEnv = { ...process.env, PGPASSFILE: passFile, PGCONNECT_TIMEOUT: '10' };
    delete env.PGPASSWORD;
    if (target.sslmode) env.PGSSLMODE = target.sslmode;
    const conn = ['-h', target.host, '-p', String(target.port), '-U', target.user, '-w', '-d', database];
    const child: ChildProcess = spawn(join(dir, tool), [...args, ...conn], {
      env,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr?.on('data', (chunk: Buffer) => {
      stderr = (stderr + chunk.toString()).slice(-4000);
    });
    // Once pg_dump writes output it is connected and no longer needs the password file.
    if (tool === 'pg_dump') child.stdout?.once('data', () => void rm(passDir, { recursive: true, force: true }));
    const onAbort = () => child.kill('SIGKILL');
    signal.addEventListener('abort', onAbort, { once: true });
    const exited = new Promise<void>((resolve, reject) => {
      child.once('error', (error) =>
        reject(new BackupError(BackupErrorCode.Failed, clean(`${tool} failed to start: ${error.message}`))),
      );
      child.once('close', (code, sig) => {
        if (code === 0) resolve();
        else if (signal.aborted) reject(signal.reason);
        else {
          const detail = clean(stderr.trim()) || `exit ${code ?? sig}`;
          const code_ = tool === 'pg_restore' ? BackupErrorCode.RestoreFailed : BackupErrorCode.Failed;
          reject(new BackupError(code_, `${tool} of ${identity} failed: ${detail}`));
        }
      });
    }).finally(async () => {
      signal.removeEventListener('abort', onAbort);
      await rm(passDir, { recursive: true, force: true });
    });
    exited.catch(() => {});
    return { child, exited };
  };

  const countTables = async (database: string): Promise<Record<string, number>> => {
    const c = await client(database);
    try {
      const res = await c.query<{ s: string; t: string }>(
        "SELECT table_schema AS s, table_name AS t FROM information_schema.tables WHERE table_type = 'BASE TABLE' AND table_schema NOT IN ('pg_catalog', 'information_schema') ORDER BY 1, 2",
      );
      const tables: Record<string, number> = {};
      for (const { s, t } of res.rows) {
        const count = await c.query<{ n: string }>(`SELECT count(*) AS n FROM ${quoteIdent(s)}.${quoteIdent(t)}`);
        tables[s === 'public' ? t : `${s}.${t}`] = Number(count.rows[0]?.n ?? 0);
      }
      return tables;
    } finally {
      await c.end().catch(() => {});
    }
  };

  /** Feeds the dump into a pg tool's stdin; if the dump stream fails, the tool is killed first. */
  const feed = (dump: NodeJS.ReadableStream & { destroy?: (e?: Error) => void }, child: ChildProcess) =>
    new Promise<void>((resolve, reject) => {
      const stdin = child.stdin;
      if (!stdin) return reject(new Error('no stdin'));
      stdin.on('error', () => {});
      dump.once('error', (error) => {
        child.kill('SIGKILL'); // before stdin closes, so a partial dump can never be committed
        reject(error);
      });
      dump.once('end', () => resolve());
      dump.pipe(stdin);
    });

  return {
    name: 'postgres',
    extension: 'pgdump',
    database: identity,
    async describe({ signal }) {
      signal.throwIfAborted();
      const info = await serverInfo();
      return { database: identity, serverVersion: info.version };
    },
    async dump({ signal }) {
      const { child, exited } = await run('pg_dump', ['--format=custom', '--compress=0'], signal);
      child.stdin?.end();
      const out = new ExitChecked(exited);
      child.stdout?.once('error', (error) => out.destroy(error));
      child.stdout?.pipe(out);
      out.once('close', () => {
        if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      });
      return { kind: 'stream', stream: out };
    },
    async restore({ signal, dump }) {
      const { child, exited } = await run(
        'pg_restore',
        ['--clean', '--if-exists', '--single-transaction', '--exit-on-error'],
        signal,
      );
      child.stdout?.resume();
      const input = dump.stream();
      try {
        await Promise.all([feed(input, child), exited]);
      } catch (error) {
        child.kill('SIGKILL');
        input.destroy();
        await exited.catch(() => {});
        if (signal.aborted) throw signal.reason;
        throw error;
      }
    },
    async check({ signal, dump, restoreIntoTemp }): Promise<DeepCheckResult> {
      if (restoreIntoTemp) {
        const temp = `botkit_verify_${randomBytes(6).toString('hex')}`;
        const admin = await client();
        try {
          await admin.query(`CREATE DATABASE ${quoteIdent(temp)}`);
        } finally {
          await admin.end().catch(() => {});
        }
        try {
          const { child, exited } = await run(
            'pg_restore',
            ['--single-transaction', '--exit-on-error', '--no-owner'],
            signal,
            temp,
          );
          child.stdout?.resume();
          try {
            await Promise.all([feed(dump.stream(), child), exited]);
          } catch (error) {
            child.kill('SIGKILL');
            if (signal.aborted) throw signal.reason;
            return { ok: false, tables: {}, problem: (error as Error).message };
          }
          return { ok: true, tables: await countTables(temp) };
        } finally {
          const c = await client();
          try {
            await c.query(`DROP DATABASE IF EXISTS ${quoteIdent(temp)} WITH (FORCE)`);
          } finally {
            await c.end().catch(() => {});
          }
        }
      }
      // Full read: pg_restore turns the whole archive into SQL, which decompresses and reads
      // every data block (unlike `pg_restore -l`, which only reads the table of contents).
      const { dir } = await getTools();
      const child = spawn(join(dir, 'pg_restore'), ['--file=-'], { stdio: ['pipe', 'pipe', 'pipe'] });
      const onAbort = () => child.kill('SIGKILL');
      signal.addEventListener('abort', onAbort, { once: true });
      let stderr = '';
      child.stderr.on('data', (c: Buffer) => {
        stderr = (stderr + c.toString()).slice(-4000);
      });
      const tables: Record<string, number> = {};
      let current: string | undefined;
      let rest = '';
      child.stdout.setEncoding('utf8');
      child.stdout.on('data', (text: string) => {
        const lines = (rest + text).split('\n');
        rest = lines.pop() ?? '';
        for (const line of lines) {
          if (current !== undefined) {
            if (line === '\\.') current = undefined;
            else tables[current] = (tables[current] ?? 0) + 1;
          } else if (line.startsWith('COPY ') && line.endsWith(' FROM stdin;')) {
            const name = line.slice(5, line.indexOf(' ', 5)).replace(/^public\./, '');
            current = name.replaceAll('"', '');
            tables[current] ??= 0;
          }
        }
      });
      const exited = new Promise<number | null>((resolve) => child.once('close', (code) => resolve(code)));
      const input = dump.stream();
      const fed = feed(input, child);
      fed.catch(() => {});
      try {
        const code = await exited;
        signal.throwIfAborted();
        if (code !== 0) {
          input.destroy();
          return { ok: false, tables, problem: `pg_restore could not read the dump: ${clean(stderr.trim())}` };
        }
        await fed;
        if (current !== undefined) return { ok: false, tables, problem: 'dump ends inside table data' };
        return { ok: true, tables };
      } catch (error) {
        child.kill('SIGKILL');
        if (signal.aborted) throw signal.reason;
        return { ok: false, tables, problem: (error as Error).message };
      } finally {
        signal.removeEventListener('abort', onAbort);
      }
    },
  };
}
