import { hostname } from 'node:os';
import { type ProbeStatus, worstStatus } from '@botkit/core';
import type { HealthMonitor } from './monitor.js';
import type { HealthStatus } from './types.js';

/**
 * The Redis commands the cluster heartbeat uses (ioredis and node-redis v4+ `legacyMode` both
 * provide them).
 *
 * @example
 * ```ts
 * import { Redis } from 'ioredis';
 * import type { RedisHashClient } from '@botkit/health';
 *
 * const client: RedisHashClient = new Redis();
 * ```
 */
export interface RedisHashClient {
  /** HSET key field value. */
  hset(key: string, field: string, value: string): Promise<number>;
  /** HGETALL key. */
  hgetall(key: string): Promise<Record<string, string>>;
  /** HDEL key field. */
  hdel(key: string, field: string): Promise<number>;
  /** PEXPIRE key ms. */
  pexpire(key: string, ms: number): Promise<number>;
}

/**
 * Options of {@link publishToRedis}.
 *
 * @example
 * ```ts
 * import type { PublishToRedisOptions } from '@botkit/health';
 *
 * const options: PublishToRedisOptions = { key: 'shop-bot:health', ttlMs: 90_000, instanceId: 'pod-a' };
 * ```
 */
export interface PublishToRedisOptions {
  /** The hash every replica writes to. @defaultValue `'botkit:health'` */
  key?: string | undefined;
  /**
   * How long a published status stays valid; a replica that has not published for this long is
   * considered gone. Make it a few heartbeat intervals. @defaultValue `90000`
   */
  ttlMs?: number | undefined;
  /** This replica's id. @defaultValue `<hostname>-<pid>` */
  instanceId?: string | undefined;
  /** Called when a publish fails (Redis down); publishing never throws. */
  onError?: ((error: unknown) => void) | undefined;
}

/**
 * One replica's entry in {@link ClusterHealth}.
 *
 * @example
 * ```ts
 * const { replicas } = await readClusterHealth(redis, 'botkit:health');
 * for (const r of replicas) console.log(r.instanceId, r.status, r.publishedAt);
 * ```
 */
export interface ReplicaHealth {
  /** The replica's id. */
  instanceId: string;
  /** Its overall status. */
  status: ProbeStatus;
  /** Its readiness. */
  ready: boolean;
  /** When it published (ISO 8601). */
  publishedAt: string;
  /** Its per-probe statuses. */
  probes: Record<string, ProbeStatus>;
}

/**
 * What {@link readClusterHealth} returns: every live replica and the worst status among them.
 *
 * @example
 * ```ts
 * const cluster = await readClusterHealth(redis);
 * if (cluster.status === 'unhealthy') console.warn(cluster.replicas.filter((r) => r.status === 'unhealthy'));
 * ```
 */
export interface ClusterHealth {
  /** Worst status over the live replicas; `unknown` when none published. */
  status: ProbeStatus;
  /** Live replicas, sorted by id. */
  replicas: ReplicaHealth[];
}

/**
 * A running publication (see {@link publishToRedis}).
 *
 * @example
 * ```ts
 * const publication = publishToRedis(monitor, redis);
 * await publication.stop(); // on shutdown: removes this replica's entry
 * ```
 */
export interface RedisPublication {
  /** Publishes the current status now. @returns resolves when written (never rejects) */
  publish(): Promise<void>;
  /** Stops publishing and removes this replica's entry. @returns resolves when removed */
  stop(): Promise<void>;
}

interface Stored extends ReplicaHealth {
  expiresAt: number;
}

function entryFor(instanceId: string, status: HealthStatus, ttlMs: number): Stored {
  const probes: Record<string, ProbeStatus> = {};
  for (const [name, p] of Object.entries(status.probes)) probes[name] = p.status;
  const now = Date.now();
  return {
    instanceId,
    status: status.status,
    ready: status.ready,
    publishedAt: new Date(now).toISOString(),
    probes,
    expiresAt: now + ttlMs,
  };
}

/**
 * Publishes this replica's health to a Redis hash after every monitor run (a distributed
 * heartbeat), so one call to {@link readClusterHealth} shows every replica. Entries expire after
 * `ttlMs` without a publish, so a crashed replica disappears on its own. Only statuses are
 * published, never messages or details.
 *
 * @param monitor - this replica's monitor (publishes on its `checked` event)
 * @param redis - the application's Redis client
 * @param options - key, TTL, instance id, error callback
 * @returns a {@link RedisPublication}; call `stop()` on shutdown
 * @throws TypeError when an option is invalid
 *
 * @example
 * ```ts
 * import { Redis } from 'ioredis';
 * import { createHealthMonitor, publishToRedis } from '@botkit/health';
 *
 * const redis = new Redis(process.env.REDIS_URL!);
 * const monitor = createHealthMonitor({ probes: [], intervalMs: 30_000 });
 * const publication = publishToRedis(monitor, redis, { key: 'shop-bot:health', ttlMs: 90_000 });
 * monitor.start();
 * ```
 */
export function publishToRedis(
  monitor: HealthMonitor,
  redis: RedisHashClient,
  options: PublishToRedisOptions = {},
): RedisPublication {
  const key = options.key ?? 'botkit:health';
  const ttlMs = options.ttlMs ?? 90_000;
  if (!(ttlMs > 0) || !Number.isFinite(ttlMs)) throw new TypeError(`Expected ttlMs > 0, got ${options.ttlMs}`);
  if (typeof key !== 'string' || key.length === 0) throw new TypeError('Expected key to be a non-empty string');
  if (typeof redis?.hset !== 'function')
    throw new TypeError('Expected redis to be a client with hset/hgetall/hdel/pexpire');
  const instanceId = options.instanceId ?? `${hostname()}-${process.pid}`;
  let stopped = false;
  const publish = async () => {
    if (stopped) return;
    try {
      await redis.hset(key, instanceId, JSON.stringify(entryFor(instanceId, monitor.status(), ttlMs)));
      await redis.pexpire(key, ttlMs);
    } catch (error) {
      options.onError?.(error);
    }
  };
  const onChecked = () => {
    void publish();
  };
  monitor.on('checked', onChecked);
  return {
    publish,
    async stop() {
      if (stopped) return;
      stopped = true;
      monitor.off('checked', onChecked);
      try {
        await redis.hdel(key, instanceId);
      } catch (error) {
        options.onError?.(error);
      }
    },
  };
}

/**
 * Reads every replica's published health (see {@link publishToRedis}), drops and deletes
 * expired entries, and aggregates the worst status.
 *
 * @param redis - a Redis client
 * @param key - the hash replicas publish to
 * @returns the live replicas and the cluster status
 *
 * @example
 * ```ts
 * import { Redis } from 'ioredis';
 * import { readClusterHealth } from '@botkit/health';
 *
 * const cluster = await readClusterHealth(new Redis(process.env.REDIS_URL!), 'shop-bot:health');
 * console.log(cluster.status, cluster.replicas.length);
 * ```
 */
export async function readClusterHealth(redis: RedisHashClient, key = 'botkit:health'): Promise<ClusterHealth> {
  const all = await redis.hgetall(key);
  const now = Date.now();
  const replicas: ReplicaHealth[] = [];
  const expired: string[] = [];
  for (const [field, raw] of Object.entries(all)) {
    let entry: Stored | undefined;
    try {
      entry = JSON.parse(raw) as Stored;
    } catch {
      entry = undefined;
    }
    if (!entry || typeof entry.expiresAt !== 'number' || entry.expiresAt <= now) {
      expired.push(field);
      continue;
    }
    const { expiresAt: _expiresAt, ...replica } = entry;
    replicas.push(replica);
  }
  await Promise.all(expired.map((field) => redis.hdel(key, field).catch(() => 0)));
  replicas.sort((a, b) => a.instanceId.localeCompare(b.instanceId));
  return {
    status: replicas.length ? worstStatus(replicas.map((r) => r.status)) : 'unknown',
    replicas,
  };
}
