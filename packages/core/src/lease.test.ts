import { type RedisServer, startRedis } from '@botkit/test-harness';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createTestClock } from './clock.js';
import { createRedisLease } from './lease.js';

let server: RedisServer;
let redis: Redis;
let n = 0;
let key: string;

beforeAll(async () => {
  server = await startRedis();
  redis = new Redis(server.url, { maxRetriesPerRequest: 1 });
});
afterAll(async () => {
  redis.disconnect();
  await server.cleanup();
});
beforeEach(() => {
  key = `lease-test-${++n}`;
});

describe('createRedisLease (real Redis)', () => {
  it('lets exactly one of many contenders hold the lease, with an increasing fencing token', async () => {
    const leases = Array.from({ length: 10 }, (_, i) => createRedisLease(redis, { key, ttlMs: 5000, owner: `o${i}` }));
    const results = await Promise.all(leases.map((l) => l.tryAcquire()));
    expect(results.filter(Boolean)).toHaveLength(1);
    const winner = leases[results.indexOf(true)]!;
    expect(winner.isHeld).toBe(true);
    expect(winner.fencingToken).toBe(1);
    expect(leases.filter((l) => l.isHeld)).toHaveLength(1);

    await winner.release();
    expect(winner.isHeld).toBe(false);
    const next = leases.find((l) => l !== winner)!;
    expect(await next.tryAcquire()).toBe(true);
    expect(next.fencingToken).toBe(2);
  });

  it('re-acquiring while held renews and keeps the same fencing token', async () => {
    const lease = createRedisLease(redis, { key, ttlMs: 5000 });
    expect(await lease.tryAcquire()).toBe(true);
    const token = lease.fencingToken;
    expect(await lease.tryAcquire()).toBe(true);
    expect(lease.fencingToken).toBe(token);
    expect(Number(await redis.pttl(key))).toBeGreaterThan(4000);
  });

  it("release never deletes a successor's lease", async () => {
    const a = createRedisLease(redis, { key, ttlMs: 200, owner: 'a' });
    const b = createRedisLease(redis, { key, ttlMs: 5000, owner: 'b' });
    expect(await a.tryAcquire()).toBe(true);
    await new Promise((r) => setTimeout(r, 300)); // a's lease expires in Redis
    expect(await b.tryAcquire()).toBe(true);
    await a.release(); // a believes it may still hold it: must not delete b's key
    expect(await redis.get(key)).toBe(`b|${b.fencingToken}`);
    expect(await a.renew()).toBe(false);
    expect(b.isHeld).toBe(true);
  });

  it('emits lost when another owner took over, and renew() returns false', async () => {
    const a = createRedisLease(redis, { key, ttlMs: 5000, owner: 'a' });
    const lost: string[] = [];
    a.on('lost', (reason) => lost.push(reason));
    await a.tryAcquire();
    await redis.set(key, 'intruder|99', 'PX', 5000);
    expect(await a.renew()).toBe(false);
    expect(a.isHeld).toBe(false);
    expect(lost).toEqual(['taken over or expired in Redis']);
  });

  it('stops claiming the lease ttlMs after the last renewal when Redis is unreachable', async () => {
    const clock = createTestClock(Date.now());
    const lease = createRedisLease(redis, { key, ttlMs: 1000, clock });
    const lost: string[] = [];
    lease.on('lost', (r) => lost.push(r));
    expect(await lease.tryAcquire()).toBe(true);
    await clock.advance(999);
    expect(lease.isHeld).toBe(true);
    await clock.advance(1);
    expect(lease.isHeld).toBe(false);
    expect(lost).toHaveLength(1);
  });

  it('start() acquires, renews in the background and hands over after stop()', async () => {
    const a = createRedisLease(redis, { key, ttlMs: 300, owner: 'a' });
    const b = createRedisLease(redis, { key, ttlMs: 300, owner: 'b', retryEveryMs: 20 });
    const acquiredA = new Promise<number>((r) => a.once('acquired', r));
    a.start();
    expect(await acquiredA).toBe(1);
    b.start();
    await new Promise((r) => setTimeout(r, 700)); // > 2 ttl: only renewal keeps a in place
    expect(a.isHeld).toBe(true);
    expect(b.isHeld).toBe(false);
    const acquiredB = new Promise<number>((r) => b.once('acquired', r));
    await a.stop();
    expect(await acquiredB).toBe(2);
    await b.stop();
    expect(await redis.exists(key)).toBe(0);
  });

  it('a holder that dies without releasing is replaced once its ttl passes', async () => {
    const dead = createRedisLease(redis, { key, ttlMs: 200, owner: 'dead' });
    await dead.tryAcquire(); // never renewed, never released: the process "died"
    const heir = createRedisLease(redis, { key, ttlMs: 5000, owner: 'heir', retryEveryMs: 25 });
    const acquired = new Promise<number>((r) => heir.once('acquired', r));
    heir.start();
    expect(await acquired).toBe(2);
    await heir.stop();
  });

  it('survives Redis being killed: reports errors, loses the lease, reacquires after restart', async () => {
    const own = await startRedis();
    const client = new Redis(own.url, { maxRetriesPerRequest: 0, enableOfflineQueue: false, retryStrategy: () => 20 });
    client.on('error', () => {}); // connection errors while Redis is down are expected here
    try {
      const lease = createRedisLease(client, { key, ttlMs: 300, retryEveryMs: 30, renewEveryMs: 60 });
      const errors: unknown[] = [];
      lease.on('error', (e) => errors.push(e));
      const first = new Promise<number>((r) => lease.once('acquired', r));
      const lost = new Promise<string>((r) => lease.once('lost', r));
      lease.start();
      await first;
      await own.kill();
      expect(await lost).toMatch(/expired/);
      expect(errors.length).toBeGreaterThan(0);
      const again = new Promise<number>((r) => lease.once('acquired', r));
      await own.restart();
      expect(await again).toBeGreaterThanOrEqual(1); // Redis lost its data: the counter restarts
      await lease.stop();
    } finally {
      client.disconnect();
      await own.cleanup();
    }
  });

  it('validates options', () => {
    expect(() => createRedisLease(redis, { key: '', ttlMs: 1000 })).toThrow(/key/);
    expect(() => createRedisLease(redis, { key, ttlMs: 10 })).toThrow(/ttlMs >= 100/);
    expect(() => createRedisLease(redis, { key, ttlMs: 1000, renewEveryMs: 1000 })).toThrow(/renewEveryMs < ttlMs/);
    expect(() => createRedisLease(redis, { key, ttlMs: 1000, owner: 'a|b' })).toThrow(/owner/);
    expect(() => createRedisLease({} as never, { key, ttlMs: 1000 })).toThrow(/eval/);
  });
});
