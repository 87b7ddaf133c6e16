import { type Clock, systemClock } from '@botkit/core';

/**
 * Remembers which update_ids were handled, so an update delivered twice (by the webhook and
 * by polling around a switch, or by two replicas) reaches the bot's handlers once. Membership,
 * not a high-water mark: Telegram may restart update_id at a random value after a week of silence.
 *
 * `claim` marks an update as being handled and says whether the caller won; `complete` marks it
 * handled for good; `release` forgets a claim whose handling must be retried.
 *
 * @example
 * ```ts
 * import { createMemoryDedupeStore } from '@botkit/failover';
 *
 * const store = createMemoryDedupeStore();
 * if (await store.claim(42)) {
 *   // handle update 42
 *   await store.complete(42);
 * }
 * ```
 */
export interface DedupeStore {
  /**
   * Claims an update for handling.
   *
   * @param updateId - the update's `update_id`
   * @returns true when this caller should handle it, false when it is (being) handled already
   */
  claim(updateId: number): Promise<boolean>;
  /**
   * Tells where an update stands: `claimed` while some instance handles it, `done` once handled,
   * `none` when unknown (never seen, forgotten, or a claim that expired after a crash).
   *
   * @param updateId - the update's `update_id`
   * @returns the update's state
   */
  state(updateId: number): Promise<'none' | 'claimed' | 'done'>;
  /**
   * Marks a claimed update as handled.
   *
   * @param updateId - the update's `update_id`
   */
  complete(updateId: number): Promise<void>;
  /**
   * Forgets an unfinished claim so a redelivery is handled again.
   *
   * @param updateId - the update's `update_id`
   */
  release(updateId: number): Promise<void>;
}

/**
 * Options of {@link createMemoryDedupeStore}.
 */
export interface MemoryDedupeStoreOptions {
  /** Most update_ids remembered; the oldest are forgotten first. @defaultValue `100000` */
  maxEntries?: number | undefined;
  /** How long an update_id is remembered, in milliseconds. @defaultValue `90000000` (25 h) */
  ttlMs?: number | undefined;
  /** Clock for the TTL. @defaultValue `systemClock` */
  clock?: Clock | undefined;
}

const DAY_PLUS_MS = 25 * 60 * 60 * 1000;

function positiveInteger(name: string, value: number | undefined, fallback: number): number {
  const v = value ?? fallback;
  if (!Number.isInteger(v) || v < 1) throw new TypeError(`Expected ${name} to be an integer >= 1, got ${v}`);
  return v;
}

/**
 * An in-process {@link DedupeStore} with bounded memory (`maxEntries`, oldest evicted first) and a
 * TTL. Enough for one replica; use {@link createRedisDedupeStore} when several replicas receive updates.
 *
 * @param options - size bound, TTL, clock
 * @returns a {@link DedupeStore}
 * @throws TypeError when an option is invalid
 *
 * @example
 * ```ts
 * import { createFailover, createMemoryDedupeStore } from '@botkit/failover';
 *
 * const dedupe = createMemoryDedupeStore({ maxEntries: 10_000 });
 * ```
 */
export function createMemoryDedupeStore(
  options: MemoryDedupeStoreOptions = {},
): DedupeStore & { readonly size: number } {
  const maxEntries = positiveInteger('maxEntries', options.maxEntries, 100_000);
  const ttlMs = positiveInteger('ttlMs', options.ttlMs, DAY_PLUS_MS);
  const clock = options.clock ?? systemClock;
  // Insertion-ordered: the first entries are the oldest.
  const seen = new Map<number, { at: number; done: boolean }>();
  const expire = (now: number) => {
    for (const [id, entry] of seen) {
      if (now - entry.at < ttlMs && seen.size <= maxEntries) break;
      seen.delete(id);
    }
  };
  return {
    get size() {
      return seen.size;
    },
    async claim(updateId) {
      const now = clock.now();
      expire(now);
      const entry = seen.get(updateId);
      if (entry && now - entry.at < ttlMs) return false;
      seen.delete(updateId);
      seen.set(updateId, { at: now, done: false });
      expire(now);
      return true;
    },
    async state(updateId) {
      const entry = seen.get(updateId);
      if (!entry || clock.now() - entry.at >= ttlMs) return 'none';
      return entry.done ? 'done' : 'claimed';
    },
    async complete(updateId) {
      const entry = seen.get(updateId);
      if (entry) entry.done = true;
    },
    async release(updateId) {
      const entry = seen.get(updateId);
      if (entry && !entry.done) seen.delete(updateId);
    },
  };
}

/**
 * The subset of an ioredis client the Redis dedupe store uses.
 *
 * @example
 * ```ts
 * import Redis from 'ioredis';
 * import type { RedisDedupeClient } from '@botkit/failover';
 *
 * const client: RedisDedupeClient = new Redis(process.env.REDIS_URL!);
 * ```
 */
export interface RedisDedupeClient {
  /** `SET key value PX ms NX` / `SET key value PX ms`. */
  set(...args: [key: string, value: string, px: 'PX', ms: number, nx: 'NX']): Promise<'OK' | null>;
  /** `GET key`. */
  get(key: string): Promise<string | null>;
  /** `EVAL script numkeys key arg`. */
  eval(script: string, numKeys: number, ...args: (string | number)[]): Promise<unknown>;
}

/**
 * Options of {@link createRedisDedupeStore}.
 */
export interface RedisDedupeStoreOptions {
  /** Key prefix; include the bot id when several bots share a Redis. @defaultValue `'botkit:failover:update:'` */
  prefix?: string | undefined;
  /**
   * How long a handled update_id is remembered, in milliseconds; above 24 h, since Telegram keeps
   * undelivered updates for 24 h. @defaultValue `90000000` (25 h)
   */
  ttlMs?: number | undefined;
  /**
   * How long a claim lasts while the update is being handled, in milliseconds; if the replica
   * dies mid-handling, a redelivery after this time is handled again. @defaultValue `300000` (5 min)
   */
  claimTtlMs?: number | undefined;
}

const COMPLETE = `if redis.call('GET', KEYS[1]) then return redis.call('SET', KEYS[1], 'done', 'PX', ARGV[1]) end return 0`;
const RELEASE = `if redis.call('GET', KEYS[1]) == 'claimed' then return redis.call('DEL', KEYS[1]) end return 0`;

/**
 * A {@link DedupeStore} shared by every replica through Redis: `SET NX PX` claims (atomic, so two
 * replicas receiving the same update cannot both win) and a TTL above 24 h once handled.
 *
 * @param redis - an ioredis client (or anything with `set` and `eval`)
 * @param options - key prefix and TTLs
 * @returns a {@link DedupeStore}
 * @throws TypeError when an option is invalid
 *
 * @example
 * ```ts
 * import Redis from 'ioredis';
 * import { createRedisDedupeStore } from '@botkit/failover';
 *
 * const dedupe = createRedisDedupeStore(new Redis(process.env.REDIS_URL!), { prefix: 'mybot:update:' });
 * ```
 */
export function createRedisDedupeStore(redis: RedisDedupeClient, options: RedisDedupeStoreOptions = {}): DedupeStore {
  if (typeof redis?.set !== 'function' || typeof redis.get !== 'function' || typeof redis.eval !== 'function') {
    throw new TypeError('Expected redis to be an ioredis client (with set, get and eval)');
  }
  const prefix = options.prefix ?? 'botkit:failover:update:';
  if (typeof prefix !== 'string') throw new TypeError(`Expected prefix to be a string, got ${typeof prefix}`);
  const ttlMs = positiveInteger('ttlMs', options.ttlMs, DAY_PLUS_MS);
  const claimTtlMs = positiveInteger('claimTtlMs', options.claimTtlMs, 300_000);
  return {
    async claim(updateId) {
      return (await redis.set(`${prefix}${updateId}`, 'claimed', 'PX', claimTtlMs, 'NX')) === 'OK';
    },
    async state(updateId) {
      const value = await redis.get(`${prefix}${updateId}`);
      return value === 'done' ? 'done' : value === null ? 'none' : 'claimed';
    },
    async complete(updateId) {
      await redis.eval(COMPLETE, 1, `${prefix}${updateId}`, ttlMs);
    },
    async release(updateId) {
      await redis.eval(RELEASE, 1, `${prefix}${updateId}`);
    },
  };
}
