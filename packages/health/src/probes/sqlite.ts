import { existsSync } from 'node:fs';
import type { Probe } from '@botkit/core';
import type { HealthProbeResult } from '../types.js';

/**
 * Options of {@link sqliteProbe}.
 *
 * @example
 * ```ts
 * import type { SqliteProbeOptions } from '@botkit/health';
 *
 * const options: SqliteProbeOptions = { quickCheck: true };
 * ```
 */
export interface SqliteProbeOptions {
  /** Probe name. @defaultValue `'sqlite'` */
  name?: string | undefined;
  /** Run `PRAGMA quick_check` (reads the whole file; slower on big databases). @defaultValue `false` */
  quickCheck?: boolean | undefined;
}

interface SqliteModule {
  DatabaseSync: new (
    path: string,
    options: { readOnly: boolean },
  ) => {
    prepare(sql: string): { all(): unknown[] };
    close(): void;
  };
}

/**
 * A probe that opens a SQLite file read-only with `node:sqlite` (Node >= 22.13), runs
 * `SELECT 1` (or `PRAGMA quick_check` when asked) and closes it. Unhealthy when the file is
 * missing, unreadable or corrupt.
 *
 * @param path - path of the database file
 * @param options - name and whether to run `quick_check`
 * @returns a `Probe`
 *
 * @example
 * ```ts
 * import { createHealthMonitor, sqliteProbe } from '@botkit/health';
 *
 * const monitor = createHealthMonitor({ probes: [sqliteProbe('./data/bot.sqlite', { quickCheck: true })] });
 * ```
 */
export function sqliteProbe(path: string, options: SqliteProbeOptions = {}): Probe {
  if (typeof path !== 'string' || path.length === 0) throw new TypeError('Expected path to be a non-empty string');
  return {
    name: options.name ?? 'sqlite',
    async check({ signal }): Promise<HealthProbeResult> {
      signal.throwIfAborted();
      if (!existsSync(path)) return { status: 'unhealthy', message: `database file not found: ${path}` };
      // getBuiltinModule, not import('node:sqlite'): a consumer's bundler may strip the `node:`
      // prefix, and `sqlite` without it is no built-in module (same loading as @botkit/backup).
      const sqlite = process.getBuiltinModule?.('node:sqlite') as SqliteModule | undefined;
      if (!sqlite) return { status: 'unhealthy', message: `node:sqlite is not available in Node ${process.version}` };
      const { DatabaseSync } = sqlite;
      const db = new DatabaseSync(path, { readOnly: true });
      try {
        if (options.quickCheck) {
          const rows = db.prepare('PRAGMA quick_check').all() as Array<Record<string, unknown>>;
          const problems = rows.map((row) => String(Object.values(row)[0])).filter((v) => v !== 'ok');
          if (problems.length > 0) {
            return { status: 'unhealthy', message: `quick_check: ${problems.slice(0, 3).join('; ')}` };
          }
        } else {
          db.prepare('SELECT 1').all();
        }
        return { status: 'healthy' };
      } finally {
        db.close();
      }
    },
  };
}
