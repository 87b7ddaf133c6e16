import type { StorageAdapter } from 'grammy';

/** The Redis commands the session storage uses (an ioredis client, wrapped by `withCircuit`). */
export interface SessionRedis {
  get(key: string): Promise<string | null>;
  set(key: string, value: string): Promise<unknown>;
  del(key: string): Promise<number>;
}

/**
 * A grammY session storage over a Redis client: one JSON string per session key.
 *
 * It uses only GET, SET and DEL on purpose: those are the commands `memoryFallback()` of
 * `@botkit/circuit` serves while the breaker is open, so sessions keep working (in memory, for
 * this process) while Redis is away, and Redis is the truth again once it returns.
 */
export class RedisSessionStorage<T> implements StorageAdapter<T> {
  readonly #redis: SessionRedis;
  readonly #prefix: string;

  constructor(redis: SessionRedis, prefix = 'session:') {
    this.#redis = redis;
    this.#prefix = prefix;
  }

  async read(key: string): Promise<T | undefined> {
    const raw = await this.#redis.get(this.#prefix + key);
    return raw === null ? undefined : (JSON.parse(raw) as T);
  }

  async write(key: string, value: T): Promise<void> {
    await this.#redis.set(this.#prefix + key, JSON.stringify(value));
  }

  async delete(key: string): Promise<void> {
    await this.#redis.del(this.#prefix + key);
  }
}
