import type { Probe } from '@botkit/core';
import type { HealthProbeResult } from '../types.js';

/**
 * The part of a Redis client {@link redisProbe} uses: `ping()` (ioredis, node-redis, or a
 * circuit-breaker wrapper) and, when present, ioredis' connection `status`.
 *
 * @example
 * ```ts
 * import { Redis } from 'ioredis';
 * import type { RedisPingable } from '@botkit/health';
 *
 * const client: RedisPingable = new Redis();
 * ```
 */
export interface RedisPingable {
  /** Sends PING; resolves `PONG` (anything else is treated as a fallback answer). */
  ping(): Promise<string>;
  /** ioredis connection state (`ready`, `reconnecting`, `end`...). */
  readonly status?: string | undefined;
}

/**
 * Options of {@link redisProbe}.
 *
 * @example
 * ```ts
 * import type { RedisProbeOptions } from '@botkit/health';
 *
 * const options: RedisProbeOptions = { name: 'redis-cache' };
 * ```
 */
export interface RedisProbeOptions {
  /** Probe name. @defaultValue `'redis'` */
  name?: string | undefined;
  /**
   * Tells whether the client is currently serving from a circuit-breaker fallback; when it
   * returns true the probe is `degraded`. A PING answered with anything but `PONG` also counts
   * as a fallback.
   */
  isFallback?: (() => boolean) | undefined;
}

const DOWN_STATES = new Set(['reconnecting', 'end', 'close']);

/**
 * A probe that PINGs Redis through the application's own client (it never opens a connection of
 * its own). Unhealthy when PING fails or the client is disconnected (without waiting for a
 * queued command); degraded when the answer comes from a circuit-breaker fallback.
 *
 * @param redis - the application's client (e.g. an ioredis `Redis`)
 * @param options - name and fallback detection
 * @returns a `Probe`
 *
 * @example
 * ```ts
 * import { Redis } from 'ioredis';
 * import { createHealthMonitor, redisProbe } from '@botkit/health';
 *
 * const redis = new Redis(process.env.REDIS_URL!);
 * const monitor = createHealthMonitor({ probes: [redisProbe(redis)] });
 * ```
 */
export function redisProbe(redis: RedisPingable, options: RedisProbeOptions = {}): Probe {
  if (typeof redis?.ping !== 'function') throw new TypeError('Expected redis to be a client with a ping() method');
  const name = options.name ?? 'redis';
  return {
    name,
    async check({ signal }): Promise<HealthProbeResult> {
      signal.throwIfAborted();
      const connection = redis.status;
      if (connection !== undefined && DOWN_STATES.has(connection)) {
        return { status: 'unhealthy', message: `redis connection is ${connection}`, details: { connection } };
      }
      const reply = await redis.ping();
      if (options.isFallback?.() === true || reply !== 'PONG') {
        return { status: 'degraded', message: 'redis is served by a circuit-breaker fallback' };
      }
      return { status: 'healthy', ...(connection !== undefined ? { details: { connection } } : {}) };
    },
  };
}
