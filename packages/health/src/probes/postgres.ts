import type { Probe } from '@botkit/core';
import type { HealthProbeResult } from '../types.js';

/**
 * The part of a `pg` Pool or Client {@link postgresProbe} uses: `query()` and, for a pool, its
 * connection counts.
 *
 * @example
 * ```ts
 * import pg from 'pg';
 * import type { PgQueryable } from '@botkit/health';
 *
 * const pool: PgQueryable = new pg.Pool();
 * ```
 */
export interface PgQueryable {
  /**
   * Runs a query.
   *
   * @param text - SQL text
   * @returns the query result
   */
  query(text: string): Promise<unknown>;
  /** Connections in the pool (pg.Pool). */
  readonly totalCount?: number;
  /** Idle connections in the pool (pg.Pool). */
  readonly idleCount?: number;
  /** Queued requests waiting for a connection (pg.Pool). */
  readonly waitingCount?: number;
}

/**
 * Options of {@link postgresProbe}.
 *
 * @example
 * ```ts
 * import type { PostgresProbeOptions } from '@botkit/health';
 *
 * const options: PostgresProbeOptions = { name: 'db', maxWaiting: 10 };
 * ```
 */
export interface PostgresProbeOptions {
  /** Probe name. @defaultValue `'postgres'` */
  name?: string | undefined;
  /** Degraded when more requests than this wait for a pool connection. @defaultValue `Infinity` */
  maxWaiting?: number | undefined;
}

/**
 * A probe that runs `SELECT 1` through the application's `pg` Pool or Client and reports the
 * pool's counts (total, idle, waiting). Unhealthy when the query fails; degraded when the pool's
 * wait queue exceeds `maxWaiting`.
 *
 * @param db - the application's pg Pool or Client
 * @param options - name and wait-queue limit
 * @returns a `Probe`
 *
 * @example
 * ```ts
 * import pg from 'pg';
 * import { createHealthMonitor, postgresProbe } from '@botkit/health';
 *
 * const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL });
 * const monitor = createHealthMonitor({ probes: [postgresProbe(pool)] });
 * ```
 */
export function postgresProbe(db: PgQueryable, options: PostgresProbeOptions = {}): Probe {
  if (typeof db?.query !== 'function') throw new TypeError('Expected db to be a pg Pool or Client');
  const maxWaiting = options.maxWaiting ?? Number.POSITIVE_INFINITY;
  if (!(maxWaiting >= 0)) throw new TypeError(`Expected maxWaiting >= 0, got ${options.maxWaiting}`);
  const pool = () =>
    typeof db.totalCount === 'number'
      ? { total: db.totalCount, idle: db.idleCount ?? 0, waiting: db.waitingCount ?? 0 }
      : undefined;
  return {
    name: options.name ?? 'postgres',
    async check({ signal }): Promise<HealthProbeResult> {
      signal.throwIfAborted();
      await db.query('SELECT 1');
      const counts = pool();
      if (!counts) return { status: 'healthy' };
      if (counts.waiting > maxWaiting) {
        return {
          status: 'degraded',
          message: `${counts.waiting} queries wait for a connection`,
          details: { pool: counts },
        };
      }
      return { status: 'healthy', details: { pool: counts } };
    },
  };
}
