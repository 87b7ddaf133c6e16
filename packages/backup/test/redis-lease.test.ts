import { join } from 'node:path';
import { createRedisLease, isBotkitError } from '@botkit/core';
import { startRedis } from '@botkit/test-harness';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { createBackups, sqliteDriver } from '../src/index.js';
import { createSqlite, tempDir } from './helpers.js';

const tmp = tempDir();
afterAll(() => tmp.cleanup());

describe('lock: a @botkit/core Redis lease', () => {
  it('lets exactly one replica run the backup; the other is refused with BOTKIT_BACKUP_LOCKED until release', async () => {
    const server = await startRedis();
    const clients = [new Redis(server.url), new Redis(server.url)];
    try {
      const dbPath = join(tmp.path, 'bot.db');
      createSqlite(dbPath, 50, 2000).close();
      const [leaseA, leaseB] = clients.map((redis) =>
        createRedisLease(redis, { key: 'bot:backup', ttlMs: 30_000 }),
      ) as [ReturnType<typeof createRedisLease>, ReturnType<typeof createRedisLease>];
      const replicaA = createBackups({
        driver: sqliteDriver({ path: dbPath }),
        dir: join(tmp.path, 'a'),
        lock: leaseA,
      });
      const replicaB = createBackups({
        driver: sqliteDriver({ path: dbPath }),
        dir: join(tmp.path, 'b'),
        lock: leaseB,
      });

      // Both replicas fire at the same moment (e.g. the same cron minute): exactly one runs.
      const results = await Promise.allSettled([replicaA.backup(), replicaB.backup()]);
      const done = results.filter((r) => r.status === 'fulfilled');
      const refused = results.filter((r) => r.status === 'rejected');
      expect(done).toHaveLength(1);
      expect(refused).toHaveLength(1);
      expect(isBotkitError((refused[0] as PromiseRejectedResult).reason, 'BOTKIT_BACKUP_LOCKED')).toBe(true);

      // The winner released the lease: the next run of either replica can take it.
      expect(leaseA.isHeld || leaseB.isHeld).toBe(false);
      await expect(replicaB.backup()).resolves.toMatchObject({ driver: 'sqlite' });
      expect(await leaseA.tryAcquire()).toBe(true);
      await expect(replicaB.backup()).rejects.toMatchObject({ code: 'BOTKIT_BACKUP_LOCKED' });
      await leaseA.release();
    } finally {
      for (const c of clients) c.disconnect();
      await server.cleanup();
    }
  });
});
