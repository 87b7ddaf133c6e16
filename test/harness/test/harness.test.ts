import { Redis } from 'ioredis';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { isListening, type PostgresServer, type RedisServer, startPostgres, startRedis } from '../src/index.js';

describe('startRedis', () => {
  let redis: RedisServer;
  afterAll(() => redis?.cleanup());

  it('starts a real redis-server on a free loopback port, survives kill + restart on the same port', async () => {
    const started = performance.now();
    redis = await startRedis();
    console.log(`[harness] redis-server ready in ${Math.round(performance.now() - started)} ms`);
    expect(redis.host).toBe('127.0.0.1');
    const client = new Redis(redis.url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
    await client.connect();
    await client.set('k', 'v');
    expect(await client.get('k')).toBe('v');
    client.disconnect();

    const pid = redis.pid;
    await redis.kill();
    expect(redis.running).toBe(false);
    expect(await isListening(redis.port)).toBe(false);

    await redis.restart();
    expect(redis.running).toBe(true);
    expect(redis.pid).not.toBe(pid);
    const again = new Redis(redis.url, { maxRetriesPerRequest: 0 });
    expect(await again.ping()).toBe('PONG');
    expect(await again.get('k')).toBeNull(); // no persistence: a killed Redis loses its data, like the real thing
    again.disconnect();

    await redis.stop();
    expect(await isListening(redis.port)).toBe(false);
  });
});

describe('startPostgres', () => {
  let server: PostgresServer;
  afterAll(() => server?.cleanup());

  it('starts a real PostgreSQL with password auth; data survives SIGKILL + restart on the same port', async () => {
    const started = performance.now();
    server = await startPostgres();
    console.log(`[harness] postgres ${server.majorVersion} ready in ${Math.round(performance.now() - started)} ms`);
    const client = new pg.Client(server.connection());
    await client.connect();
    await client.query('CREATE TABLE t (id int)');
    await client.query('INSERT INTO t VALUES (1), (2)');
    await client.end();

    const wrong = new pg.Client({ ...server.connection(), password: 'wrong' });
    await expect(wrong.connect()).rejects.toThrow(/password authentication failed/);

    await server.kill();
    expect(server.running).toBe(false);
    expect(await isListening(server.port)).toBe(false);
    await server.restart();

    const after = new pg.Client({ connectionString: server.url });
    await after.connect();
    const { rows } = await after.query('SELECT count(*)::int AS n FROM t');
    expect(rows[0].n).toBe(2);
    await after.end();

    const url = await server.createDatabase('other db');
    const other = new pg.Client({ connectionString: url });
    await other.connect();
    expect((await other.query('SELECT current_database() AS d')).rows[0].d).toBe('other db');
    await other.end();

    await server.stop();
    expect(await isListening(server.port)).toBe(false);
  });

  it('starts servers concurrently on distinct ports', async () => {
    const [a, b] = await Promise.all([startPostgres(), startPostgres()]);
    try {
      expect(a.port).not.toBe(b.port);
      for (const s of [a, b]) {
        const c = new pg.Client(s.connection());
        await c.connect();
        expect((await c.query('SELECT 1 AS x')).rows[0].x).toBe(1);
        await c.end();
      }
    } finally {
      await Promise.all([a.cleanup(), b.cleanup()]);
    }
  });
});
