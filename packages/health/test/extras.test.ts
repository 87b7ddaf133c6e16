import { createTestClock } from '@botkit/core';
import { type PostgresServer, type RedisServer, startPostgres, startRedis, waitFor } from '@botkit/test-harness';
import { Redis } from 'ioredis';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createHealthMonitor,
  type HealthAlert,
  instrumentPg,
  publishToRedis,
  readClusterHealth,
  type SlowQuery,
  telegramAlerts,
} from '../src/index.js';
import { startFakeTelegram } from './fake-telegram.js';

const TOKEN = '123456789:AAHk_fake_token_for_tests_0123456789';
let redisServer: RedisServer;
let pgServer: PostgresServer;

beforeAll(async () => {
  [redisServer, pgServer] = await Promise.all([startRedis(), startPostgres()]);
});
afterAll(async () => {
  await Promise.all([redisServer?.cleanup(), pgServer?.cleanup()]);
});

function alert(probe: string, kind: HealthAlert['kind'], message?: string): HealthAlert {
  return {
    probe,
    kind,
    from: kind === 'failed' ? 'healthy' : 'unhealthy',
    to: kind === 'failed' ? 'unhealthy' : 'healthy',
    message,
    at: new Date().toISOString(),
    consecutiveFailures: kind === 'failed' ? 3 : 0,
  };
}

describe('publishToRedis / readClusterHealth (real Redis)', () => {
  it('each replica publishes after every run; one read shows all; expired replicas drop out', async () => {
    const redis = new Redis(redisServer.url);
    try {
      const key = `health:${Date.now()}`;
      let bStatus: 'healthy' | 'unhealthy' = 'healthy';
      const a = createHealthMonitor({ probes: [{ name: 'db', check: async () => ({ status: 'healthy' }) }] });
      const b = createHealthMonitor({
        failureThreshold: 1,
        probes: [{ name: 'db', check: async () => ({ status: bStatus, message: 'postgres://u:secretpw@h/db' }) }],
      });
      const pa = publishToRedis(a, redis, { key, ttlMs: 60_000, instanceId: 'a' });
      const pb = publishToRedis(b, redis, { key, ttlMs: 60_000, instanceId: 'b' });
      await a.runAll();
      await b.runAll();
      // Published on the monitors' `checked` event, without a manual publish().
      await waitFor('both replicas to publish', async () => (await redis.hlen(key)) === 2, 5000);
      let cluster = await readClusterHealth(redis, key);
      expect(cluster.status).toBe('healthy');
      expect(cluster.replicas.map((r) => `${r.instanceId}:${r.status}:${r.probes.db}`)).toEqual([
        'a:healthy:healthy',
        'b:healthy:healthy',
      ]);

      bStatus = 'unhealthy';
      await b.runAll();
      await pb.publish();
      cluster = await readClusterHealth(redis, key);
      expect(cluster.status).toBe('unhealthy');
      expect(JSON.stringify(await redis.hgetall(key))).not.toContain('secretpw');

      await pb.stop();
      cluster = await readClusterHealth(redis, key);
      expect(cluster.replicas.map((r) => r.instanceId)).toEqual(['a']);

      // A replica that stopped publishing long ago (crashed) is dropped and deleted.
      await redis.hset(
        key,
        'ghost',
        JSON.stringify({ instanceId: 'ghost', status: 'unhealthy', expiresAt: Date.now() - 1 }),
      );
      cluster = await readClusterHealth(redis, key);
      expect(cluster.replicas.map((r) => r.instanceId)).toEqual(['a']);
      expect(await redis.hexists(key, 'ghost')).toBe(0);
      expect(await redis.pttl(key)).toBeGreaterThan(0);
      await pa.stop();
      expect((await readClusterHealth(redis, key)).status).toBe('unknown');
    } finally {
      redis.disconnect();
    }
  });

  it('validates options', () => {
    const monitor = createHealthMonitor();
    expect(() => publishToRedis(monitor, {} as never)).toThrow(/redis/);
    expect(() => publishToRedis(monitor, new Redis({ lazyConnect: true }), { ttlMs: 0 })).toThrow(/ttlMs > 0/);
  });
});

describe('instrumentPg (real PostgreSQL)', () => {
  it('counts queries, slow queries, errors and time, visible in status() and /metrics stats', async () => {
    const pool = new pg.Pool({ connectionString: pgServer.url, max: 2 });
    pool.on('error', () => {});
    const slow: SlowQuery[] = [];
    const stats = instrumentPg(pool, { slowQueryMs: 150, onSlowQuery: (q) => slow.push(q) });
    try {
      const monitor = createHealthMonitor().addStats(stats);
      await pool.query('SELECT 1');
      await pool.query({ text: 'SELECT $1::int AS n', values: [7] });
      await pool.query("SELECT pg_sleep(0.2), 'password=hunter2' AS x");
      await expect(pool.query('SELECT * FROM no_such_table')).rejects.toThrow();
      const client = await pool.connect();
      await new Promise<void>((resolve, reject) =>
        client.query('SELECT 2', (error) => (error ? reject(error) : resolve())),
      );
      client.release();
      const s = monitor.status().stats.pg;
      expect(s).toMatchObject({ queries_total: 5, slow_queries_total: 1, errors_total: 1 });
      expect(s?.query_ms_total).toBeGreaterThanOrEqual(200);
      expect(slow).toHaveLength(1);
      expect(slow[0]?.text).toContain('pg_sleep');
      expect(slow[0]?.text).not.toContain('hunter2');
      stats.uninstall();
      await pool.query('SELECT 1');
      expect(monitor.status().stats.pg?.queries_total).toBe(5);
    } finally {
      await pool.end();
    }
  });
});

describe('telegramAlerts (Telegram-shaped local server)', () => {
  it('sends one message per change, drops repeats, rate-limits, waits out a 429, never leaks secrets', async () => {
    const tg = await startFakeTelegram(TOKEN);
    const clock = createTestClock();
    try {
      tg.reply('sendMessage', { ok: true, result: { message_id: 1, date: 0, chat: { id: 5, type: 'private' } } });
      const sink = telegramAlerts({
        token: TOKEN,
        apiRoot: tg.apiRoot,
        chatId: 5,
        title: 'shop',
        maxPerWindow: 2,
        clock,
      });
      await sink(alert('redis', 'failed', `ECONNREFUSED redis://:topsecret@cache:6379 bot${TOKEN}`));
      await sink(alert('redis', 'failed')); // duplicate: dropped
      await sink(alert('redis', 'recovered'));
      await sink(alert('db', 'failed')); // third in the window: rate-limited
      const texts = () => tg.calls.filter((c) => c.method === 'sendMessage').map((c) => String(c.body.text));
      expect(texts()).toHaveLength(2);
      expect(texts()[0]).toMatch(/^\[shop\] 🔴 redis is unhealthy: ECONNREFUSED/);
      expect(texts()[1]).toMatch(/redis recovered/);
      expect(texts().join()).not.toContain('topsecret');
      expect(texts().join()).not.toContain(TOKEN);
      expect(tg.calls.every((c) => c.body.chat_id === 5)).toBe(true);
      expect(sink.sent).toBe(2);
      expect(sink.suppressed).toBe(2);

      await clock.advance(60_000);
      tg.reply('sendMessage', {
        ok: false,
        error_code: 429,
        description: 'Too Many Requests',
        parameters: { retry_after: 3 },
      });
      const sending = sink(alert('db', 'recovered'));
      await new Promise((r) => setTimeout(r, 100));
      expect(texts()).toHaveLength(3); // the 429'd attempt
      tg.reply('sendMessage', { ok: true, result: { message_id: 2, date: 0, chat: { id: 5, type: 'private' } } });
      await clock.advance(3000);
      await sending;
      expect(texts()).toHaveLength(4);
      expect(texts()[3]).toMatch(/db recovered[\s\S]*1 more alerts were suppressed/);
    } finally {
      await tg.close();
    }
  });

  it('validates options', () => {
    expect(() => telegramAlerts({ token: TOKEN, chatId: '' })).toThrow(/chatId/);
    expect(() => telegramAlerts({ token: '', chatId: 1 })).toThrow(/token/);
    expect(() => telegramAlerts({ token: TOKEN, chatId: 1, maxPerWindow: 0 })).toThrow(/maxPerWindow/);
  });
});
