import { createRedisLease } from '@botkit/core';
import { createRedisDedupeStore, FailoverErrorCode } from '@botkit/failover';
import { type RedisServer, startRedis } from '@botkit/test-harness';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createRig, type Rig, startRig } from './e2e-helpers.js';

let server: RedisServer;
let redis: Redis;
const rigs: Rig[] = [];

beforeAll(async () => {
  server = await startRedis();
  redis = new Redis(server.url);
});
afterEach(async () => {
  while (rigs.length) await rigs.pop()?.close();
});
afterAll(async () => {
  redis?.disconnect();
  await server?.cleanup();
});

describe('failover with a lease (real Redis, emulator, test clock)', () => {
  it('a 409 while polling rechecks the lease; when another owner holds it, this replica stops polling', async () => {
    const key = `lease-test:${Math.random()}`;
    // The lease runs on real time here: Redis expiry is real time.
    const lease = createRedisLease(redis, { key, ttlMs: 60_000 });
    const r = await createRig('grammy', {
      lease,
      dedupe: createRedisDedupeStore(redis, { prefix: `${key}:update:` }),
    });
    rigs.push(r);
    await startRig(r);
    await r.until(() => r.failover.isLeader && r.failover.mode === 'webhook', 'leadership');
    r.emulator.faults.webhookUnreachable();
    const traffic = () => {
      r.emulator.sendMessage(1, 'x');
      r.clock.setTimeout(traffic, 1000);
    };
    traffic();
    await r.until(() => r.failover.mode === 'polling', 'fall-back');

    // Another replica takes the lease over (e.g. after a partition) and polls.
    await redis.set(key, 'someone-else|999', 'PX', 60_000);
    const conflicted = () => r.errors.some((e) => e.code === FailoverErrorCode.Conflict);
    for (let i = 0; i < 20 && r.failover.isLeader; i++) {
      const foreign = fetch(`${r.emulator.apiRoot}/bot${r.emulator.token}/getUpdates?timeout=1&limit=1`).catch(
        () => undefined,
      );
      await r.run(1500);
      await foreign;
    }
    expect(conflicted()).toBe(true);
    expect(r.failover.isLeader).toBe(false);
    expect(r.failover.mode).toBe('webhook'); // a follower serves the endpoint only
    expect(r.modes.at(-1)?.reason).toMatch(/lease/);
    // It does not poll any more.
    const before = r.emulator.requests.length;
    await r.run(5000);
    expect(r.emulator.requests.slice(before).filter((q) => q.method === 'getUpdates')).toEqual([]);
  });
});
