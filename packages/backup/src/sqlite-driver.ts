import { existsSync } from 'node:fs';
import { chmod, copyFile, rename, rm, stat } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import type { DatabaseSync } from 'node:sqlite';
import { sleep } from '@botkit/core';
import type { BackupDriver, DeepCheckResult } from './driver.js';
import { BackupError, BackupErrorCode } from './errors.js';
import { fsyncDir, fsyncFile, randomId } from './files.js';

/**
 * Options of {@link sqliteDriver}.
 */
export interface SqliteDriverOptions {
  /** Path of the live SQLite database file. */
  path: string;
  /**
   * How to take the snapshot: `backup` (SQLite online backup API, all pages in one step, so a
   * busy database cannot restart it forever) or `vacuum` (`VACUUM INTO`, smaller file, slower).
   * `backup` falls back to `vacuum` when `node:sqlite` has no `backup()`.
   *
   * @defaultValue `'backup'`
   */
  method?: 'backup' | 'vacuum' | undefined;
  /** How long to wait for a lock held by another connection. @defaultValue `5000` */
  busyTimeoutMs?: number | undefined;
}

type SqliteModule = typeof import('node:sqlite');

async function loadSqlite(): Promise<SqliteModule> {
  // getBuiltinModule, not import('node:sqlite'): bundlers strip the `node:` prefix, and
  // `sqlite` without it is not a built-in module.
  let mod: SqliteModule | undefined;
  try {
    mod = process.getBuiltinModule?.('node:sqlite') as SqliteModule | undefined;
  } catch (error) {
    throw new BackupError(BackupErrorCode.Unsupported, `node:sqlite is not available in Node ${process.version}`, {
      cause: error,
    });
  }
  if (!mod)
    throw new BackupError(BackupErrorCode.Unsupported, `node:sqlite is not available in Node ${process.version}`);
  return mod;
}

/** One step of the online backup API copies every page: a writer cannot make it restart. */
const ALL_PAGES = 2 ** 31 - 1;

const RESTORE_ATTEMPTS = 20;
const SQLITE_NOTADB = 26;

/** Copies `source` next to `target` (0600), fsyncs it and renames it over `target`. */
async function replaceFile(source: string, target: string): Promise<void> {
  const temp = `${target}.botkit-restore-${randomId()}`;
  try {
    await copyFile(source, temp);
    await chmod(temp, 0o600);
    await fsyncFile(temp);
    await Promise.all(['-journal', '-wal', '-shm'].map((suffix) => rm(`${target}${suffix}`, { force: true })));
    await rename(temp, target);
    await fsyncDir(dirname(target));
  } finally {
    await rm(temp, { force: true });
  }
}

/** SQLITE_BUSY / SQLITE_LOCKED and their extended codes (and Node's errcode 0 for a busy step). */
function isBusy(error: unknown): boolean {
  const code = (error as { errcode?: unknown } | undefined)?.errcode;
  return typeof code === 'number' && (code === 0 || (code & 0xff) === 5 || (code & 0xff) === 6);
}

async function removeDbFiles(path: string) {
  await Promise.all(['', '-journal', '-wal', '-shm'].map((suffix) => rm(`${path}${suffix}`, { force: true })));
}

function quoteIdent(name: string) {
  return `"${name.replaceAll('"', '""')}"`;
}

/** @internal Integrity check and row counts of an SQLite file. */
export function checkSqliteFile(db: DatabaseSync): DeepCheckResult {
  const rows = db.prepare('PRAGMA integrity_check').all() as Array<Record<string, unknown>>;
  const messages = rows.map((row) => String(Object.values(row)[0]));
  if (messages.length !== 1 || messages[0] !== 'ok') {
    return { ok: false, tables: {}, problem: `integrity_check: ${messages.slice(0, 5).join('; ')}` };
  }
  const tables: Record<string, number> = {};
  const names = db
    .prepare("SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name")
    .all() as Array<{ name: string }>;
  for (const { name } of names) {
    const row = db.prepare(`SELECT count(*) AS n FROM ${quoteIdent(name)}`).get() as { n: number };
    tables[name] = Number(row.n);
  }
  return { ok: true, tables };
}

/**
 * A driver for an SQLite database file, using `node:sqlite` (Node >= 22.5; `backup()` needs
 * Node >= 22.16 or 23.8, else `VACUUM INTO` is used). Snapshots are consistent while the bot
 * keeps writing (one-step online backup). Restore goes through the backup API into the live
 * file, so connections that stay open keep working and see the restored data; it is all or
 * nothing, even if the process is killed half-way.
 *
 * @param options - the database path and snapshot method
 * @returns a {@link BackupDriver} for {@link createBackups}
 * @throws TypeError when `path` is empty or an option is invalid
 *
 * @example
 * ```ts
 * import { createBackups, sqliteDriver } from '@botkit/backup';
 *
 * const backups = createBackups({ driver: sqliteDriver({ path: './bot.db' }), dir: './backups' });
 * await backups.backup();
 * ```
 */
export function sqliteDriver(options: SqliteDriverOptions): BackupDriver {
  if (typeof options !== 'object' || options === null) throw new TypeError('Expected an options object');
  if (typeof options.path !== 'string' || options.path.length === 0) {
    throw new TypeError(`Expected path to be a non-empty string, got ${String(options.path)}`);
  }
  const method = options.method ?? 'backup';
  if (method !== 'backup' && method !== 'vacuum') {
    throw new TypeError(`Expected method to be 'backup' or 'vacuum', got ${String(method)}`);
  }
  const busyTimeoutMs = options.busyTimeoutMs ?? 5000;
  if (!Number.isInteger(busyTimeoutMs) || busyTimeoutMs < 0) {
    throw new TypeError(`Expected busyTimeoutMs to be an integer >= 0, got ${busyTimeoutMs}`);
  }
  const path = resolve(options.path);

  const openLive = async (): Promise<DatabaseSync> => {
    if (!existsSync(path)) throw new BackupError(BackupErrorCode.Failed, `SQLite database ${path} does not exist`);
    const { DatabaseSync } = await loadSqlite();
    try {
      return new DatabaseSync(path, { timeout: busyTimeoutMs });
    } catch (error) {
      throw new BackupError(BackupErrorCode.Failed, `Cannot open SQLite database ${path}`, { cause: error });
    }
  };

  return {
    name: 'sqlite',
    extension: 'sqlite',
    database: path,
    async describe({ signal }) {
      signal.throwIfAborted();
      const { DatabaseSync } = await loadSqlite();
      const db = new DatabaseSync(':memory:');
      try {
        const row = db.prepare('SELECT sqlite_version() AS v').get() as { v: string };
        return { database: path, serverVersion: row.v };
      } finally {
        db.close();
      }
    },
    async exists({ signal }) {
      signal.throwIfAborted();
      try {
        return (await stat(path)).size > 0;
      } catch {
        return false;
      }
    },
    async dump({ signal, scratchDir }) {
      signal.throwIfAborted();
      const sqlite = await loadSqlite();
      const target = join(scratchDir, `snapshot-${randomId()}.sqlite`);
      const db = await openLive();
      try {
        if (method === 'backup' && typeof sqlite.backup === 'function') {
          await sqlite.backup(db, target, { rate: ALL_PAGES });
        } else {
          db.prepare('VACUUM INTO ?').run(target);
        }
        signal.throwIfAborted();
        return { kind: 'file', path: target };
      } catch (error) {
        await removeDbFiles(target);
        if (signal.aborted) throw signal.reason;
        throw new BackupError(BackupErrorCode.Failed, `SQLite snapshot of ${path} failed: ${String(error)}`, {
          cause: error,
        });
      } finally {
        db.close();
        await Promise.all(['-journal', '-wal', '-shm'].map((s) => rm(`${target}${s}`, { force: true })));
      }
    },
    async restore({ signal, dump }) {
      signal.throwIfAborted();
      const sqlite = await loadSqlite();
      const file = await dump.toFile();
      const source = new sqlite.DatabaseSync(file, { timeout: busyTimeoutMs });
      try {
        signal.throwIfAborted();
        if (typeof sqlite.backup !== 'function') {
          throw new BackupError(
            BackupErrorCode.Unsupported,
            `Online restore needs node:sqlite backup() (Node >= 22.16)`,
          );
        }
        // The backup API writes the live file inside one write transaction: connections that
        // stay open see the new content, and a crash half-way leaves the old content. When a
        // writer holds the lock at the wrong moment it fails without writing anything (Node
        // reports SQLITE_BUSY as errcode 0, "not an error"): try again.
        for (let attempt = 1; ; attempt++) {
          try {
            await sqlite.backup(source, path, { rate: ALL_PAGES });
            break;
          } catch (error) {
            if ((error as { errcode?: unknown }).errcode === SQLITE_NOTADB) {
              // The live file is not a database at all (destroyed): nobody can be using it, so
              // replace it atomically with a copy of the dump instead.
              await replaceFile(file, path);
              break;
            }
            if (attempt >= RESTORE_ATTEMPTS || !isBusy(error)) throw error;
            await sleep(25 * attempt, { signal });
          }
        }
      } catch (error) {
        if (signal.aborted) throw signal.reason;
        throw new BackupError(
          BackupErrorCode.RestoreFailed,
          `Restoring SQLite database ${path} failed: ${String(error)}`,
          {
            cause: error,
          },
        );
      } finally {
        source.close();
        await Promise.all(['-journal', '-wal', '-shm'].map((s) => rm(`${file}${s}`, { force: true })));
      }
    },
    async check({ signal, dump }) {
      signal.throwIfAborted();
      const sqlite = await loadSqlite();
      const file = await dump.toFile();
      let db: DatabaseSync;
      try {
        db = new sqlite.DatabaseSync(file, { readOnly: false });
      } catch (error) {
        return { ok: false, tables: {}, problem: `cannot open: ${String(error)}` };
      }
      try {
        return checkSqliteFile(db);
      } catch (error) {
        return { ok: false, tables: {}, problem: String(error) };
      } finally {
        db.close();
        await Promise.all(['-journal', '-wal', '-shm'].map((s) => rm(`${file}${s}`, { force: true })));
      }
    },
  };
}
