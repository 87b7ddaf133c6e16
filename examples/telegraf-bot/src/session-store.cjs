'use strict';

/**
 * A Telegraf session store over a Redis client (wrapped by `withCircuit`): one JSON string per
 * session key, through GET/SET/DEL only, the commands `memoryFallback()` serves while Redis is away.
 */
class RedisSessionStore {
  /** @param {{ get(k: string): Promise<string|null>, set(k: string, v: string): Promise<unknown>, del(k: string): Promise<number> }} redis */
  constructor(redis, prefix = 'session:') {
    this.redis = redis;
    this.prefix = prefix;
  }

  async get(name) {
    const raw = await this.redis.get(this.prefix + name);
    return raw === null ? undefined : JSON.parse(raw);
  }

  async set(name, value) {
    await this.redis.set(this.prefix + name, JSON.stringify(value));
  }

  async delete(name) {
    await this.redis.del(this.prefix + name);
  }
}

module.exports = { RedisSessionStore };
