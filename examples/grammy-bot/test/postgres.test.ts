import { type PostgresServer, type RedisServer, startPostgres, startRedis } from '@botkit/test-harness';
import { type BotApiEmulator, createBotApiEmulator } from '@botkit/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../src/create-bot.js';
import { ask, startApp, tempDir, testConfig } from './helpers.js';

let postgres: PostgresServer;
let redisServer: RedisServer;
let emulator: BotApiEmulator;
let tmp: ReturnType<typeof tempDir>;
let app: App | undefined;

beforeAll(async () => {
  [postgres, redisServer] = await Promise.all([startPostgres(), startRedis()]);
  emulator = await createBotApiEmulator({ setWebhookIntervalMs: 0 });
  tmp = tempDir();
});
afterAll(async () => {
  await app?.stop('test finished');
  await emulator?.close();
  await Promise.all([postgres?.cleanup(), redisServer?.cleanup()]);
  tmp?.cleanup();
});

describe('the grammY example with DATABASE_URL=postgres://', () => {
  it('stores /note in PostgreSQL, reports it healthy, and backs it up (pg_dump) and restores it', {
    timeout: 60_000,
  }, async () => {
    const config = await testConfig(emulator, redisServer.url, tmp.dir);
    app = await startApp({ ...config, databaseUrl: postgres.url });
    expect(app.notes.kind).toBe('postgres');
    expect(await ask(emulator, 9, '/note kept in postgres')).toBe('Saved note #1 (you have 1).');
    const status = await app.monitor.runAll();
    expect(status.probes.database?.status).toBe('healthy');
    expect(status.ready).toBe(true);

    const backup = await app.backups.backup({ label: 'test' });
    expect(backup.driver).toBe('postgres');
    expect((await app.backups.verify(backup.id, { deep: true })).ok).toBe(true);
    expect(await ask(emulator, 9, '/note rolled back')).toBe('Saved note #2 (you have 2).');
    await app.backups.restore(backup.id);
    expect(await app.notes.countAll()).toBe(1);
    expect(await ask(emulator, 9, '/note')).toBe('Your latest notes:\n#1 kept in postgres');
  });
});
