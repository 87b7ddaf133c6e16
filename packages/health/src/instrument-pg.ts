import { type Clock, redact, systemClock } from '@botkit/core';
import type { StatsSource } from './types.js';

/**
 * A slow query reported by {@link instrumentPg}.
 *
 * @example
 * ```ts
 * instrumentPg(pool, { onSlowQuery: (q: SlowQuery) => console.warn(q.durationMs, q.text) });
 * ```
 */
export interface SlowQuery {
  /** The SQL text (first 500 characters, secrets redacted; parameter values are never included). */
  text: string;
  /** How long it took, in milliseconds. */
  durationMs: number;
}

/**
 * Options of {@link instrumentPg}.
 *
 * @example
 * ```ts
 * import type { InstrumentPgOptions } from '@botkit/health';
 *
 * const options: InstrumentPgOptions = { slowQueryMs: 500 };
 * ```
 */
export interface InstrumentPgOptions {
  /** Queries slower than this count as slow. @defaultValue `1000` */
  slowQueryMs?: number | undefined;
  /** Called for every slow query. */
  onSlowQuery?: ((query: SlowQuery) => void) | undefined;
  /** Stats source name (metric prefix `botkit_<name>_`). @defaultValue `'pg'` */
  name?: string | undefined;
  /** Clock timing the queries. @defaultValue `systemClock` */
  clock?: Clock | undefined;
}

/**
 * Query counters returned by {@link instrumentPg}; register them with `monitor.addStats()`.
 */
export interface PgInstrumentation extends StatsSource {
  /** Restores the original `query` methods. */
  uninstall(): void;
}

type QueryFn = (...args: unknown[]) => unknown;
interface Queryable {
  query: QueryFn;
}
/** A pg Pool (emits `connect` with each new client) or a pg Client. */
type PgTarget = Queryable & { on?: (event: 'connect', listener: (client: Queryable) => void) => unknown };

function textOf(arg: unknown): string {
  if (typeof arg === 'string') return arg;
  if (typeof arg === 'object' && arg !== null && typeof (arg as { text?: unknown }).text === 'string') {
    return (arg as { text: string }).text;
  }
  return '';
}

/**
 * Counts the queries of a `pg` Pool (every client it creates from now on) or Client: total,
 * slow, failed, total and average time. Register the result with `monitor.addStats()` to see it in
 * `status().stats.pg` and `/metrics` (`botkit_pg_queries_total`, `botkit_pg_slow_queries_total`...),
 * the slow-query visibility SQLAlchemy event listeners give Python bots. Call it right after
 * creating the pool.
 *
 * @param pool - a pg Pool (or Client)
 * @param options - slow threshold, callback, name, clock
 * @returns a {@link PgInstrumentation}
 * @throws TypeError when `pool` has no `query` method or an option is invalid
 *
 * @example
 * ```ts
 * import pg from 'pg';
 * import { createHealthMonitor, instrumentPg, postgresProbe } from '@botkit/health';
 *
 * const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL });
 * const stats = instrumentPg(pool, { slowQueryMs: 500, onSlowQuery: (q) => console.warn(q) });
 * const monitor = createHealthMonitor({ probes: [postgresProbe(pool)] }).addStats(stats);
 * ```
 */
export function instrumentPg(pool: object, options: InstrumentPgOptions = {}): PgInstrumentation {
  const target = pool as PgTarget;
  if (typeof target?.query !== 'function') throw new TypeError('Expected pool to be a pg Pool or Client');
  const slowQueryMs = options.slowQueryMs ?? 1000;
  if (!(slowQueryMs >= 0)) throw new TypeError(`Expected slowQueryMs >= 0, got ${options.slowQueryMs}`);
  const name = options.name ?? 'pg';
  if (!/^[a-z][a-z0-9_]*$/.test(name)) throw new TypeError(`Expected name to match /^[a-z][a-z0-9_]*$/, got ${name}`);
  const clock = options.clock ?? systemClock;
  const counts = { queries: 0, slow: 0, errors: 0, totalMs: 0 };
  const wrapped: Array<{ client: Queryable; original: QueryFn }> = [];

  const record = (text: string, started: number, failed: boolean) => {
    const ms = clock.now() - started;
    counts.queries++;
    counts.totalMs += ms;
    if (failed) counts.errors++;
    if (ms >= slowQueryMs) {
      counts.slow++;
      try {
        options.onSlowQuery?.({ text: redact(text).slice(0, 500), durationMs: ms });
      } catch {
        // A faulty callback must not break the application's query.
      }
    }
  };

  const wrap = (client: Queryable) => {
    const original = client.query;
    if ((original as { __botkitInstrumented?: boolean }).__botkitInstrumented) return;
    const query: QueryFn = function (this: unknown, ...args: unknown[]) {
      const started = clock.now();
      const text = textOf(args[0]);
      const last = args.length - 1;
      const callback = args[last];
      if (typeof callback === 'function') {
        args[last] = (error: unknown, ...rest: unknown[]) => {
          record(text, started, Boolean(error));
          return (callback as QueryFn)(error, ...rest);
        };
        return original.apply(this, args);
      }
      const result = original.apply(this, args);
      if (result && typeof (result as Promise<unknown>).then === 'function') {
        (result as Promise<unknown>).then(
          () => record(text, started, false),
          () => record(text, started, true),
        );
      }
      return result;
    };
    Object.defineProperty(query, '__botkitInstrumented', { value: true });
    client.query = query;
    wrapped.push({ client, original });
  };

  const onConnect = (client: Queryable) => wrap(client);
  const isPool = typeof target.on === 'function' && 'totalCount' in target;
  if (isPool) target.on?.('connect', onConnect);
  else wrap(target);

  return {
    name,
    stats: () => ({
      queries_total: counts.queries,
      slow_queries_total: counts.slow,
      errors_total: counts.errors,
      query_ms_total: Math.round(counts.totalMs * 100) / 100,
      query_ms_avg: counts.queries ? Math.round((counts.totalMs / counts.queries) * 100) / 100 : 0,
    }),
    uninstall() {
      if (isPool) (target as unknown as { off(e: string, l: unknown): void }).off?.('connect', onConnect);
      for (const { client, original } of wrapped.splice(0)) client.query = original;
    },
  };
}
