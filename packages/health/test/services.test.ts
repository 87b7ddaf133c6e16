import { type PostgresServer, type RedisServer, startPostgres, startRedis, waitFor } from '@botkit/test-harness';
import { Redis } from 'ioredis';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHealthMonitor, type HealthAlert, postgresProbe, redisProbe } from '../src/index.js';

let redisServer: RedisServer;
let pgServer: PostgresServer;

beforeAll(async () => {
  [redisServer, pgServer] = await Promise.all([startRedis(), startPostgres()]);
});
afterAll(async () => {
  await Promise.all([redisServer?.cleanup(), pgServer?.cleanup()]);
});

describe('built-in probes against real servers killed and restarted', () => {
  it('redisProbe: unhealthy after the failure threshold, recovers after the recovery threshold, one alert each', async () => {
    const redis = new Redis(redisServer.url, { maxRetriesPerRequest: 1, retryStrategy: () => 50 });
    redis.on('error', () => {});
    try {
      const monitor = createHealthMonitor({ failureThreshold: 2, recoveryThreshold: 2, timeoutMs: 1000 });
      monitor.addProbe(redisProbe(redis));
      const alerts: HealthAlert[] = [];
      monitor.on('alert', (a) => alerts.push(a));

      expect((await monitor.runAll()).probes.redis?.status).toBe('healthy');
      await redisServer.kill();
      let s = await monitor.runAll();
      expect(s.probes.redis).toMatchObject({ status: 'healthy', lastResult: 'unhealthy', consecutiveFailures: 1 });
      s = await monitor.runAll();
      expect(s.probes.redis).toMatchObject({ status: 'unhealthy', consecutiveFailures: 2 });
      await monitor.runAll();
      expect(alerts.map((a) => a.kind)).toEqual(['failed']);

      await redisServer.restart();
      await waitFor('ioredis to reconnect', async () => redis.status === 'ready', 10_000);
      s = await monitor.runAll();
      expect(s.probes.redis).toMatchObject({ status: 'unhealthy', lastResult: 'healthy' });
      s = await monitor.runAll();
      expect(s.probes.redis?.status).toBe('healthy');
      expect(alerts.map((a) => `${a.probe}:${a.kind}`)).toEqual(['redis:failed', 'redis:recovered']);
    } finally {
      redis.disconnect();
    }
  });

  it('redisProbe is degraded when a circuit-breaker fallback answers', async () => {
    const fallback = { ping: async () => 'FALLBACK' };
    const monitor = createHealthMonitor({ probes: [redisProbe(fallback)] });
    expect((await monitor.runAll()).probes.redis?.status).toBe('degraded');
  });

  it('postgresProbe: unhealthy after the threshold on a killed server, recovers after restart, reports pool counts, never leaks the password', async () => {
    const pool = new pg.Pool({ connectionString: pgServer.url, max: 2, connectionTimeoutMillis: 2000 });
    pool.on('error', () => {});
    try {
      const monitor = createHealthMonitor({ failureThreshold: 2, recoveryThreshold: 2, timeoutMs: 3000 });
      monitor.addProbe(postgresProbe(pool));
      const alerts: string[] = [];
      monitor.onAlert((a) => {
        alerts.push(a.kind);
      });

      let s = await monitor.runAll();
      expect(s.probes.postgres?.status).toBe('healthy');
      expect(s.probes.postgres?.details).toMatchObject({ pool: { total: 1, idle: 1, waiting: 0 } });

      await pgServer.kill();
      await monitor.runAll();
      s = await monitor.runAll();
      expect(s.probes.postgres?.status).toBe('unhealthy');
      expect(s.probes.postgres?.message).toBeTruthy();
      expect(JSON.stringify(s)).not.toContain(pgServer.password);

      await pgServer.restart();
      s = await monitor.runAll();
      expect(s.probes.postgres?.status).toBe('unhealthy');
      s = await monitor.runAll();
      expect(s.probes.postgres?.status).toBe('healthy');
      expect(alerts).toEqual(['failed', 'recovered']);
    } finally {
      await pool.end();
    }
  });
});
