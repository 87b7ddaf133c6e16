import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { EventEmitter } from 'eventemitter3';
import { type Clock, type ClockTimer, systemClock } from './clock.js';
import { type Logger, noopLogger } from './logger.js';
import { redact } from './redact.js';

/**
 * The part of a Redis client the lease needs: `EVAL`. An ioredis `Redis` or `Cluster` fits.
 *
 * @example
 * ```ts
 * import { Redis } from 'ioredis';
 * import type { LeaseRedis } from '@botkit/core';
 *
 * const redis: LeaseRedis = new Redis(process.env.REDIS_URL!);
 * ```
 */
export interface LeaseRedis {
  /**
   * Runs a Lua script.
   *
   * @param script - Lua source
   * @param numKeys - how many of `args` are keys
   * @param args - keys, then arguments
   * @returns the script's reply
   */
  eval(script: string, numKeys: number, ...args: (string | number)[]): Promise<unknown>;
}

/**
 * Options of {@link createRedisLease}.
 */
export interface RedisLeaseOptions {
  /** Redis key of the lease, e.g. `mybot:poller`. The fencing counter lives at `<key>:fence`. */
  key: string;
  /** How long the lease lives without renewal, in milliseconds (>= 100). */
  ttlMs: number;
  /** How often `start()` renews a held lease. @defaultValue `ttlMs / 3` */
  renewEveryMs?: number | undefined;
  /** How often `start()` tries to acquire a lease it does not hold. @defaultValue `ttlMs / 3` */
  retryEveryMs?: number | undefined;
  /** Identity of this holder, stored in Redis. @defaultValue `<hostname>:<pid>:<random>` */
  owner?: string | undefined;
  /** Clock for renewal timers and validity. @defaultValue {@link systemClock} */
  clock?: Clock | undefined;
  /** Logger for acquisitions and losses. @defaultValue silent */
  logger?: Logger | undefined;
}

/**
 * Events of a {@link RedisLease}.
 */
export interface RedisLeaseEvents {
  /** The lease was acquired, with its fencing token. */
  acquired: [fencingToken: number];
  /** The lease was lost: taken over, expired while Redis was unreachable, or deleted. */
  lost: [reason: string];
  /** The lease was released by `release()` or `stop()`. */
  released: [];
  /** A Redis call failed (the loop keeps going). */
  error: [error: unknown];
}

/**
 * A Redis lease: "exactly one instance does X" (one poller, one scheduled backup). See
 * {@link createRedisLease}.
 */
export interface RedisLease extends EventEmitter<RedisLeaseEvents> {
  /** The Redis key. */
  readonly key: string;
  /** This holder's identity. */
  readonly owner: string;
  /**
   * Whether this instance holds the lease right now: acquired or renewed less than `ttlMs` ago
   * (measured from before the Redis call, so a slow reply never extends it) and not lost.
   */
  readonly isHeld: boolean;
  /**
   * The fencing token of the current (or last) holding: it increases every time anyone acquires
   * the lease. Pass it with writes so a resource can refuse a stale holder.
   */
  readonly fencingToken: number | undefined;
  /**
   * One attempt to acquire (or, when already held, renew) the lease.
   *
   * @returns true when this instance holds the lease afterwards
   */
  tryAcquire(): Promise<boolean>;
  /**
   * Extends a held lease by `ttlMs` if it is still ours.
   *
   * @returns false (and emits `lost`) when the lease is no longer ours
   */
  renew(): Promise<boolean>;
  /** Gives the lease up if it is ours (compare-and-delete); never deletes another holder's lease. */
  release(): Promise<void>;
  /** Keeps acquiring and renewing in the background (unref'd timers) until `stop()`. */
  start(): void;
  /** Stops the background loop and releases the lease. */
  stop(): Promise<void>;
  /** Same as `stop()`. */
  [Symbol.asyncDispose](): Promise<void>;
}

// KEYS[1] lease key, KEYS[2] fence counter; ARGV[1] owner, ARGV[2] ttl ms.
// Returns the fencing token when held by us afterwards, 0 otherwise.
const ACQUIRE = `
local current = redis.call('GET', KEYS[1])
if not current then
  local fence = redis.call('INCR', KEYS[2])
  redis.call('SET', KEYS[1], ARGV[1] .. '|' .. fence, 'PX', ARGV[2])
  return fence
end
local prefix = ARGV[1] .. '|'
if string.sub(current, 1, #prefix) == prefix then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return tonumber(string.sub(current, #prefix + 1))
end
return 0`;

// KEYS[1] lease key; ARGV[1] owner|fence, ARGV[2] ttl ms. 1 when renewed.
const RENEW = `
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 0`;

// KEYS[1] lease key; ARGV[1] owner|fence. 1 when deleted.
const RELEASE = `
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0`;

function positive(name: string, value: number | undefined, min: number): void {
  if (value !== undefined && !(Number.isFinite(value) && value >= min)) {
    throw new TypeError(`Expected ${name} >= ${min}, got ${value}`);
  }
}

/**
 * Creates a Redis lease with `SET NX PX` semantics, compare-and-renew and compare-and-delete in
 * Lua, and a fencing token (a counter incremented on every acquisition). Use it so that exactly
 * one replica polls Telegram or runs the backup schedule.
 *
 * Safety: `isHeld` turns false as soon as `ttlMs` has passed since the last successful
 * acquire/renew *request was sent*, even when Redis cannot be reached, so a partitioned holder
 * stops acting no later than the lease expires in Redis.
 *
 * @param redis - an ioredis client (anything with `eval`)
 * @param options - key, ttl, timers
 * @returns a {@link RedisLease}; call `start()` or `tryAcquire()`
 * @throws TypeError when an option is invalid
 *
 * @example
 * ```ts
 * import { Redis } from 'ioredis';
 * import { createRedisLease } from '@botkit/core';
 *
 * const lease = createRedisLease(new Redis(), { key: 'mybot:poller', ttlMs: 15_000 });
 * lease.on('acquired', (token) => console.log('I am the poller, fencing token', token));
 * lease.on('lost', (reason) => console.warn('stop polling:', reason));
 * lease.start();
 * ```
 */
export function createRedisLease(redis: LeaseRedis, options: RedisLeaseOptions): RedisLease {
  if (!redis || typeof redis.eval !== 'function') throw new TypeError('Expected redis to be a client with eval()');
  if (typeof options?.key !== 'string' || options.key.length === 0) {
    throw new TypeError('Expected key to be a non-empty string');
  }
  positive('ttlMs', options.ttlMs, 100);
  if (options.ttlMs === undefined) throw new TypeError('Expected ttlMs >= 100, got undefined');
  positive('renewEveryMs', options.renewEveryMs, 1);
  positive('retryEveryMs', options.retryEveryMs, 1);
  const { key, ttlMs, clock = systemClock, logger = noopLogger } = options;
  if ((options.renewEveryMs ?? 0) >= ttlMs) {
    throw new TypeError(`Expected renewEveryMs < ttlMs (${ttlMs}), got ${options.renewEveryMs}`);
  }
  const renewEveryMs = options.renewEveryMs ?? Math.max(1, Math.floor(ttlMs / 3));
  const retryEveryMs = options.retryEveryMs ?? Math.max(1, Math.floor(ttlMs / 3));
  const owner = options.owner ?? `${hostname()}:${process.pid}:${randomBytes(6).toString('hex')}`;
  if (owner.includes('|')) throw new TypeError('Expected owner without "|"');
  const fenceKey = `${key}:fence`;

  let held = false;
  let validUntil = 0;
  let fencingToken: number | undefined;
  let running = false;
  let timer: ClockTimer | undefined;
  let inFlight: Promise<unknown> = Promise.resolve();

  const emitter = new EventEmitter<RedisLeaseEvents>();
  const value = () => `${owner}|${fencingToken}`;
  const loseIt = (reason: string) => {
    if (!held) return;
    held = false;
    logger.warn({ key, reason }, 'lease lost');
    emitter.emit('lost', reason);
  };
  const isHeld = () => {
    if (held && clock.now() >= validUntil) loseIt('expired: not renewed within ttlMs');
    return held;
  };
  const onError = (error: unknown) => {
    const clean = error instanceof Error ? new Error(redact(error.message)) : error;
    if (emitter.listenerCount('error') > 0) emitter.emit('error', clean);
    logger.debug?.({ key, error: String(clean) }, 'lease redis call failed');
  };

  async function tryAcquire(): Promise<boolean> {
    const sentAt = clock.now();
    const reply = Number(await redis.eval(ACQUIRE, 2, key, fenceKey, owner, ttlMs));
    if (reply > 0) {
      const fresh = !held || fencingToken !== reply;
      fencingToken = reply;
      held = true;
      validUntil = sentAt + ttlMs;
      if (fresh) {
        logger.info({ key, fencingToken: reply }, 'lease acquired');
        emitter.emit('acquired', reply);
      }
      return true;
    }
    loseIt('held by another owner');
    return false;
  }

  async function renew(): Promise<boolean> {
    if (!isHeld()) return false;
    const sentAt = clock.now();
    const reply = Number(await redis.eval(RENEW, 1, key, value(), ttlMs));
    if (reply === 1) {
      validUntil = sentAt + ttlMs;
      return true;
    }
    loseIt('taken over or expired in Redis');
    return false;
  }

  async function release(): Promise<void> {
    if (fencingToken === undefined || !held) {
      held = false;
      return;
    }
    held = false;
    await redis.eval(RELEASE, 1, key, value());
    emitter.emit('released');
  }

  const schedule = (ms: number) => {
    if (!running) return;
    timer = clock.setTimeout(tick, ms).unref();
  };
  function tick() {
    timer = undefined;
    if (!running) return;
    const step = isHeld() ? renew() : tryAcquire();
    inFlight = step.then(
      () => schedule(held ? renewEveryMs : retryEveryMs),
      (error: unknown) => {
        onError(error);
        isHeld();
        schedule(held ? renewEveryMs : retryEveryMs);
      },
    );
  }

  const lease = Object.assign(emitter, {
    key,
    owner,
    tryAcquire,
    renew,
    release,
    start() {
      if (running) return;
      running = true;
      tick();
    },
    async stop() {
      running = false;
      if (timer) clock.clearTimeout(timer);
      timer = undefined;
      await inFlight.catch(() => {});
      await release().catch(onError);
    },
    [Symbol.asyncDispose]: () => lease.stop(),
  });
  Object.defineProperties(lease, {
    isHeld: { get: isHeld, enumerable: true },
    fencingToken: { get: () => fencingToken, enumerable: true },
  });
  return lease as unknown as RedisLease;
}
