import { createTestClock } from '@botkit/core';
import { createMemoryDedupeStore, createRedisDedupeStore, type DedupeStore } from '@botkit/failover';
import { type RedisServer, startRedis } from '@botkit/test-harness';
import fc from 'fast-check';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

describe('memory dedupe store', () => {
  it('lets exactly one claim of each update_id win, whatever the order and repetition', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.integer({ min: 0, max: 2 ** 31 - 1 }), { maxLength: 200 }), async (ids) => {
        const store = createMemoryDedupeStore();
        const winners: number[] = [];
        for (const id of ids) if (await store.claim(id)) winners.push(id);
        expect(winners.sort((a, b) => a - b)).toEqual([...new Set(ids)].sort((a, b) => a - b));
      }),
    );
  });

  it('dedupes by membership, not by a high-water mark (update_id may jump backwards)', async () => {
    const store = createMemoryDedupeStore();
    expect(await store.claim(900_000_000)).toBe(true);
    expect(await store.claim(12)).toBe(true);
    expect(await store.claim(900_000_000)).toBe(false);
  });

  it('stays within maxEntries, forgetting the oldest first', async () => {
    const store = createMemoryDedupeStore({ maxEntries: 100 });
    for (let id = 0; id < 10_000; id++) await store.claim(id);
    expect(store.size).toBe(100);
    expect(await store.claim(9_999)).toBe(false);
    expect(await store.claim(0)).toBe(true);
  });

  it('forgets update_ids after ttlMs', async () => {
    const clock = createTestClock();
    const store = createMemoryDedupeStore({ ttlMs: 1000, clock });
    expect(await store.claim(1)).toBe(true);
    await clock.advance(999);
    expect(await store.claim(1)).toBe(false);
    await clock.advance(1);
    expect(await store.claim(1)).toBe(true);
  });

  it('reports none / claimed / done', async () => {
    const store = createMemoryDedupeStore();
    expect(await store.state(1)).toBe('none');
    await store.claim(1);
    expect(await store.state(1)).toBe('claimed');
    await store.complete(1);
    expect(await store.state(1)).toBe('done');
  });

  it('release() forgets an unfinished claim but not a completed one', async () => {
    const store = createMemoryDedupeStore();
    await store.claim(1);
    await store.release(1);
    expect(await store.claim(1)).toBe(true);
    await store.complete(1);
    await store.release(1);
    expect(await store.claim(1)).toBe(false);
  });

  it('validates options eagerly', () => {
    expect(() => createMemoryDedupeStore({ maxEntries: 0 })).toThrow(/maxEntries/);
    expect(() => createMemoryDedupeStore({ ttlMs: -1 })).toThrow(/ttlMs/);
  });
});

describe('redis dedupe store (real redis-server)', () => {
  let server: RedisServer;
  let a: Redis;
  let b: Redis;
  beforeAll(async () => {
    server = await startRedis();
    a = new Redis(server.url);
    b = new Redis(server.url);
  });
  afterAll(async () => {
    a?.disconnect();
    b?.disconnect();
    await server?.cleanup();
  });

  it('lets exactly one of two replicas win each update_id under concurrent claims', async () => {
    const prefix = `t1:${Math.random()}:`;
    const ra: DedupeStore = createRedisDedupeStore(a, { prefix });
    const rb: DedupeStore = createRedisDedupeStore(b, { prefix });
    const ids = Array.from({ length: 500 }, (_, i) => i * 7919);
    const results = await Promise.all(ids.flatMap((id) => [ra.claim(id), rb.claim(id)]));
    for (let i = 0; i < ids.length; i++) expect(Number(results[2 * i]) + Number(results[2 * i + 1])).toBe(1);
  });

  it('keeps a handled update_id for more than 24 h, and an unfinished claim only for claimTtlMs', async () => {
    const prefix = `t2:${Math.random()}:`;
    const store = createRedisDedupeStore(a, { prefix, claimTtlMs: 5000 });
    expect(await store.state(1)).toBe('none');
    await store.claim(1);
    expect(await store.state(1)).toBe('claimed');
    const claimTtl = await a.pttl(`${prefix}1`);
    expect(claimTtl).toBeGreaterThan(0);
    expect(claimTtl).toBeLessThanOrEqual(5000);
    await store.complete(1);
    expect(await a.pttl(`${prefix}1`)).toBeGreaterThan(24 * 3600 * 1000);
    expect(await store.state(1)).toBe('done');
    expect(await store.claim(1)).toBe(false);
  });

  it('release() lets a redelivery be handled again, unless the update was completed', async () => {
    const prefix = `t3:${Math.random()}:`;
    const store = createRedisDedupeStore(a, { prefix });
    await store.claim(1);
    await store.release(1);
    expect(await store.claim(1)).toBe(true);
    await store.complete(1);
    await store.release(1);
    expect(await store.claim(1)).toBe(false);
  });

  it('validates options eagerly', () => {
    expect(() => createRedisDedupeStore(a, { ttlMs: 0 })).toThrow(/ttlMs/);
    expect(() => createRedisDedupeStore({} as never)).toThrow(/redis/);
  });
});
