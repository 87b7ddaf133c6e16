import { type Clock, isBotkitError, systemClock } from '@botkit/core';
import { CircuitErrorCode, CircuitOpenError } from './errors.js';
import { checkNumber } from './validate.js';

/**
 * Options of {@link memoryFallback}.
 *
 * @example
 * ```ts
 * import { memoryFallback, type MemoryFallbackOptions } from '@botkit/circuit';
 *
 * const options: MemoryFallbackOptions = { maxEntries: 5000, maxAgeMs: 60_000, onMiss: 'null' };
 * const cache = memoryFallback(options);
 * ```
 */
export interface MemoryFallbackOptions {
  /** Most keys kept; the least recently used is evicted first. @defaultValue `10000` */
  maxEntries?: number | undefined;
  /**
   * Longest time a value read from Redis (or written without a TTL) is served, in milliseconds;
   * values written with `EX`/`PX` expire at their own TTL. @defaultValue `300000` (5 minutes)
   */
  maxAgeMs?: number | undefined;
  /**
   * What a read of a key the cache does not hold returns while degraded: `'reject'` throws the
   * breaker error, `'null'` answers as if the key did not exist (a new grammY session, for
   * example). @defaultValue `'reject'`
   */
  onMiss?: 'reject' | 'null' | undefined;
  /** Source of time for TTLs. @defaultValue `systemClock` */
  clock?: Clock | undefined;
}

interface Entry {
  value: unknown;
  expiresAt: number;
}

/** Commands whose successful results the cache learns from while the breaker is closed. */
const OBSERVED = new Set(['get', 'mget', 'set', 'setex', 'psetex', 'del', 'unlink', 'expire', 'pexpire']);

/**
 * The degraded mode created by {@link memoryFallback}: a bounded LRU of recent values.
 *
 * @example
 * ```ts
 * import { memoryFallback, withCircuit } from '@botkit/circuit';
 *
 * const cache = memoryFallback({ maxEntries: 5000 });
 * const redis = withCircuit(new Redis(), { fallback: cache });
 * console.log(cache.size);
 * ```
 */
export class MemoryFallback {
  readonly #entries = new Map<string, Entry>();
  readonly #maxEntries: number;
  readonly #maxAgeMs: number;
  readonly #onMiss: 'reject' | 'null';
  readonly #clock: Clock;

  /**
   * Use {@link memoryFallback}.
   *
   * @param options - see {@link MemoryFallbackOptions}
   */
  constructor(options: MemoryFallbackOptions = {}) {
    checkNumber('maxEntries', options.maxEntries, 1, { integer: true });
    checkNumber('maxAgeMs', options.maxAgeMs, 1);
    if (options.onMiss !== undefined && options.onMiss !== 'reject' && options.onMiss !== 'null') {
      throw new TypeError(`Expected onMiss to be 'reject' or 'null', got ${String(options.onMiss)}`);
    }
    this.#maxEntries = options.maxEntries ?? 10_000;
    this.#maxAgeMs = options.maxAgeMs ?? 300_000;
    this.#onMiss = options.onMiss ?? 'reject';
    this.#clock = options.clock ?? systemClock;
  }

  /** Number of keys held (expired keys included until they are read or evicted). */
  get size(): number {
    return this.#entries.size;
  }

  /**
   * Whether the cache wants to see results of `command` (lower-case) while closed.
   *
   * @param command - lower-case command name
   * @returns true for GET, MGET, SET, SETEX, PSETEX, DEL, UNLINK, EXPIRE, PEXPIRE
   */
  observes(command: string): boolean {
    return OBSERVED.has(command);
  }

  /**
   * Learns from a command that Redis answered successfully (called by the wrapper while closed).
   *
   * @param command - lower-case command name
   * @param args - the command's arguments
   * @param result - Redis' reply
   */
  observe(command: string, args: readonly unknown[], result: unknown): void {
    switch (command) {
      case 'get':
        if (typeof args[0] !== 'string') return;
        if (result === null) this.#entries.delete(args[0]);
        else this.#put(args[0], result, this.#maxAgeMs);
        return;
      case 'mget': {
        const keys = flatKeys(args);
        if (!keys || !Array.isArray(result)) return;
        keys.forEach((key, i) => {
          if (result[i] === null || result[i] === undefined) this.#entries.delete(key);
          else this.#put(key, result[i], this.#maxAgeMs);
        });
        return;
      }
      case 'set':
      case 'setex':
      case 'psetex': {
        const write = parseWrite(command, args);
        if (write === undefined) {
          if (typeof args[0] === 'string') this.#entries.delete(args[0]);
          return;
        }
        if (result === 'OK') this.#put(write.key, write.value, write.ttlMs ?? this.#maxAgeMs);
        else this.#entries.delete(write.key);
        return;
      }
      default:
        this.#apply(command, args);
    }
  }

  /**
   * Serves a command while Redis is unavailable: reads from the cache, applies safe writes
   * locally (they are never sent to Redis later), rejects everything else.
   *
   * @param command - lower-case command name
   * @param args - the command's arguments
   * @param error - why Redis was not used (a {@link CircuitOpenError}, a timeout...)
   * @returns the reply Redis would have given
   * @throws {@link CircuitOpenError} (or `error` itself when it is not one) for commands it cannot serve
   */
  serve(command: string, args: readonly unknown[], error: unknown): unknown {
    switch (command) {
      case 'get': {
        if (typeof args[0] !== 'string') break;
        const value = this.#read(args[0]);
        if (value !== undefined) return value;
        if (this.#onMiss === 'null') return null;
        break;
      }
      case 'mget': {
        const keys = flatKeys(args);
        if (!keys) break;
        const values = keys.map((key) => this.#read(key));
        if (values.includes(undefined) && this.#onMiss !== 'null') break;
        return values.map((v) => (v === undefined ? null : v));
      }
      case 'set':
      case 'setex':
      case 'psetex': {
        const write = parseWrite(command, args);
        if (!write) break;
        this.#put(write.key, write.value, write.ttlMs ?? this.#maxAgeMs);
        return 'OK';
      }
      case 'del':
      case 'unlink':
      case 'expire':
      case 'pexpire': {
        const count = this.#apply(command, args);
        if (count !== undefined) return count;
        break;
      }
    }
    throw isBotkitError(error, CircuitErrorCode.Open)
      ? error
      : (error ?? new CircuitOpenError('redis', undefined, `${command} cannot be served while degraded`));
  }

  /** Forgets every key (the wrapper calls it when the breaker closes: Redis is the truth again). */
  clear(): void {
    this.#entries.clear();
  }

  #apply(command: string, args: readonly unknown[]): number | undefined {
    if (command === 'del' || command === 'unlink') {
      const keys = flatKeys(args);
      if (!keys) return undefined;
      let count = 0;
      for (const key of keys) if (this.#read(key) !== undefined && this.#entries.delete(key)) count++;
      return count;
    }
    if (command === 'expire' || command === 'pexpire') {
      const [key, amount] = args;
      const n = Number(amount);
      if (typeof key !== 'string' || !Number.isFinite(n) || args.length !== 2) return undefined;
      const entry = this.#entries.get(key);
      if (!entry || this.#read(key) === undefined) return 0;
      if (n <= 0) {
        this.#entries.delete(key);
        return 1;
      }
      entry.expiresAt = this.#clock.now() + (command === 'expire' ? n * 1000 : n);
      return 1;
    }
    return undefined;
  }

  #read(key: string): unknown {
    const entry = this.#entries.get(key);
    if (!entry) return undefined;
    if (entry.expiresAt <= this.#clock.now()) {
      this.#entries.delete(key);
      return undefined;
    }
    // Refresh recency: a Map iterates in insertion order, so re-inserting moves it last.
    this.#entries.delete(key);
    this.#entries.set(key, entry);
    return entry.value;
  }

  #put(key: string, value: unknown, ttlMs: number): void {
    this.#entries.delete(key);
    if (ttlMs <= 0) return;
    this.#entries.set(key, { value, expiresAt: this.#clock.now() + ttlMs });
    if (this.#entries.size > this.#maxEntries) {
      const oldest = this.#entries.keys().next();
      if (!oldest.done) this.#entries.delete(oldest.value);
    }
  }
}

/** String keys of DEL/UNLINK/MGET (`del(a, b)` or `del([a, b])`); undefined when any is not a string. */
function flatKeys(args: readonly unknown[]): string[] | undefined {
  const keys: readonly unknown[] = args.length === 1 && Array.isArray(args[0]) ? (args[0] as unknown[]) : args;
  if (keys.length === 0 || !keys.every((k): k is string => typeof k === 'string')) return undefined;
  return [...keys];
}

/** Parses SET/SETEX/PSETEX; undefined for forms that are not safe to apply locally (NX, XX, GET...). */
function parseWrite(
  command: string,
  args: readonly unknown[],
): { key: string; value: unknown; ttlMs: number | undefined } | undefined {
  const key = args[0];
  if (typeof key !== 'string') return undefined;
  if (command === 'setex' || command === 'psetex') {
    const n = Number(args[1]);
    if (args.length !== 3 || !Number.isFinite(n) || n <= 0) return undefined;
    return { key, value: args[2], ttlMs: command === 'setex' ? n * 1000 : n };
  }
  if (args.length === 2) return { key, value: args[1], ttlMs: undefined };
  if (args.length === 4) {
    const flag = String(args[2]).toUpperCase();
    const n = Number(args[3]);
    if (!Number.isFinite(n) || n <= 0) return undefined;
    if (flag === 'EX') return { key, value: args[1], ttlMs: n * 1000 };
    if (flag === 'PX') return { key, value: args[1], ttlMs: n };
  }
  return undefined;
}

/**
 * Creates an opt-in degraded mode for {@link withCircuit}: while the breaker is open, reads are
 * served from a bounded LRU of recent values and safe writes (SET with or without EX/PX, SETEX,
 * PSETEX, DEL, UNLINK, EXPIRE, PEXPIRE) update it and honour their TTLs. Any other command
 * (INCR, LPUSH, SET NX...) fails fast with {@link CircuitOpenError}. Nothing written while
 * degraded is ever sent to Redis later; when the breaker closes the cache is cleared.
 *
 * While closed the cache learns from GET, MGET, SET, SETEX, PSETEX, DEL, UNLINK, EXPIRE and
 * PEXPIRE replies. Other commands that change a cached key are not seen: such a key may be
 * served stale for at most `maxAgeMs` during an outage.
 *
 * @param options - size, age limit and miss policy; see {@link MemoryFallbackOptions}
 * @returns a fallback to pass as `withCircuit(redis, { fallback })`
 * @throws TypeError when an option is invalid
 *
 * @example
 * ```ts
 * import { Bot, session } from 'grammy';
 * import { RedisAdapter } from '@grammyjs/storage-redis';
 * import { memoryFallback, withCircuit } from '@botkit/circuit';
 *
 * const redis = withCircuit(new Redis(process.env.REDIS_URL), {
 *   fallback: memoryFallback({ maxEntries: 10_000, onMiss: 'null' }),
 * });
 * bot.use(session({ initial: () => ({}), storage: new RedisAdapter({ instance: redis }) }));
 * ```
 */
export function memoryFallback(options: MemoryFallbackOptions = {}): MemoryFallback {
  return new MemoryFallback(options);
}
