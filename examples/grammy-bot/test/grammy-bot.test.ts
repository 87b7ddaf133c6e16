import { type RedisServer, startRedis, waitFor } from '@botkit/test-harness';
import { type BotApiEmulator, createBotApiEmulator } from '@botkit/testing';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { App } from '../src/create-bot.js';
import { ADMIN_CHAT, ask, checkTelegramRetries, startApp, tempDir, testConfig } from './helpers.js';

let redisServer: RedisServer;
let emulator: BotApiEmulator;
let tmp: ReturnType<typeof tempDir>;
const apps: App[] = [];

beforeAll(async () => {
  redisServer = await startRedis();
});
afterAll(async () => {
  await redisServer?.cleanup();
});
beforeEach(async () => {
  emulator = await createBotApiEmulator({ setWebhookIntervalMs: 0 });
  tmp = tempDir();
});
afterEach(async () => {
  for (const app of apps.splice(0)) await app.stop('test finished');
  await emulator.close();
  tmp.cleanup();
});

async function start(options: Parameters<typeof testConfig>[3] = {}): Promise<App> {
  const app = await startApp(await testConfig(emulator, redisServer.url, tmp.dir, options));
  apps.push(app);
  return app;
}

describe('the grammY example on the emulator, real Redis and SQLite', () => {
  it('answers /start on the webhook', async () => {
    const app = await start();
    expect(app.mode).toBe('webhook');
    expect(emulator.webhookInfo.url).toMatch(/\/telegram$/);
    expect(await ask(emulator, 42, '/start')).toBe(
      'Hello, Test User! I count (/count), keep notes (/note <text>) and report my health (/status).',
    );
  });

  it('retries Telegram calls: a reply survives a 502 and a 429 (after retry_after); a 403 is not retried', () =>
    checkTelegramRetries(emulator, start));

  it('/status reports the transport mode and every probe', async () => {
    const app = await start();
    await app.monitor.runAll();
    const status = await ask(emulator, 43, '/status');
    expect(status).toMatch(/^Overall: (healthy|degraded), mode: webhook\n/);
    for (const probe of ['database', 'failover', 'redis', 'circuit:redis', 'telegram', 'backup', 'updates']) {
      expect(status).toMatch(new RegExp(`^${probe}: (healthy|degraded)`, 'm'));
    }
  });

  it('/count is kept in Redis and survives a restart of the bot', async () => {
    let app = await start();
    expect(await ask(emulator, 7, '/count')).toBe('Count: 1');
    expect(await ask(emulator, 7, '/count')).toBe('Count: 2');
    expect(await ask(emulator, 8, '/count')).toBe('Count: 1'); // per user
    await app.stop('restart');
    app = await start();
    expect(await ask(emulator, 7, '/count')).toBe('Count: 3');
  });

  it('/note is stored in SQLite and listed after a restart', async () => {
    let app = await start();
    expect(await ask(emulator, 5, '/note buy milk')).toBe('Saved note #1 (you have 1).');
    expect(await ask(emulator, 5, '/note call mum')).toBe('Saved note #2 (you have 2).');
    await app.stop('restart');
    app = await start({ webhook: false });
    expect(app.mode).toBe('polling');
    expect(await ask(emulator, 5, '/note')).toBe('Your latest notes:\n#2 call mum\n#1 buy milk');
    expect(await app.notes.countAll()).toBe(2);
  });

  it('/ready is 200 while serving and 503 from the moment shutdown starts, while an update drains', async () => {
    const app = await start();
    await app.monitor.runAll();
    const ready = () => fetch(`${app.healthServer.url}/ready`).then((r) => r.status);
    await waitFor('ready', async () => (await ready()) === 200);
    const metrics = await fetch(`${app.healthServer.url}/metrics`);
    expect(metrics.status).toBe(200);
    expect(await metrics.text()).toMatch(/^botkit_health_probe_up\{probe="database",critical="true"\} 1$/m);
    // Make the next answer slow, so the update is still in flight when shutdown starts.
    emulator.faults.inject('sendMessage', { kind: 'delay', delayMs: 1_500 }, { times: 1 });
    emulator.sendMessage(11, '/start');
    await waitFor('update in flight', async () => app.shutdown.tracked > 0);
    const stopping = app.stop('test');
    expect(await ready()).toBe(503);
    expect(emulator.sentMessages.filter((m) => m.chat.id === 11)).toHaveLength(0);
    const report = await stopping;
    expect(report.exitCode).toBe(0);
    expect(emulator.sentMessages.filter((m) => m.chat.id === 11)).toHaveLength(1); // drained, answered
    // In phase order (hooks of one phase run in parallel).
    const order = ['intake', 'drain', 'services', 'connections', 'flush'];
    const hooks = report.hooks.map((h) => `${h.phase}:${h.name}:${h.outcome}`);
    expect(hooks.map((h) => order.indexOf(h.split(':')[0]!))).toEqual(
      hooks.map((h) => order.indexOf(h.split(':')[0]!)).sort(),
    );
    expect(
      hooks.sort((a, b) => order.indexOf(a.split(':')[0]!) - order.indexOf(b.split(':')[0]!) || a.localeCompare(b)),
    ).toEqual([
      'intake:transport:ok',
      'services:backups:ok',
      'services:health-monitor:ok',
      'connections:database:ok',
      'connections:redis:ok',
      'flush:health-server:ok',
    ]);
  });

  it('answers in degraded mode while Redis is SIGKILLed, with one alert to the admin chat each way', async () => {
    const app = await start();
    const adminMessages = () => emulator.sentMessages.filter((m) => m.chat.id === ADMIN_CHAT).map((m) => m.text);
    expect(await ask(emulator, 61, '/count')).toBe('Count: 1');
    await redisServer.kill();
    try {
      // The breaker opens when the connection drops; the in-memory fallback still knows this session.
      expect(await ask(emulator, 61, '/count')).toBe('Count: 2 (Redis is away: counting in memory for now)');
      await waitFor('failure alert', async () => adminMessages().length >= 1);
    } finally {
      await redisServer.restart();
    }
    await waitFor('breaker closed', async () => app.circuit.state === 'closed');
    await waitFor('recovery alert', async () => adminMessages().length >= 2);
    expect(adminMessages()).toEqual([
      expect.stringMatching(/🔴 redis is unhealthy/),
      expect.stringMatching(/🟢 redis recovered/),
    ]);
    expect(await ask(emulator, 61, '/count')).toMatch(/^Count: \d+$/); // Redis is the truth again (restarted empty)
  });

  for (const webhook of [true, false]) {
    it(`a graceful stop (${webhook ? 'webhook' : 'polling'}) leaves nothing to redeliver, and a restart handles nothing twice`, async () => {
      const handled: number[] = [];
      const app = await start({ webhook, handled });
      for (let i = 0; i < 10; i++) emulator.sendMessage(100 + (i % 3), `/count`);
      emulator.faults.inject('sendMessage', { kind: 'delay', delayMs: 500 }, { times: 1 });
      await waitFor('some handled', async () => handled.length >= 3);
      await app.stop('test');
      // Whatever was handled is confirmed (the last webhook answers may still be on the wire);
      // only updates never handled may still wait.
      const handledButPending = () => emulator.pendingUpdates.filter((u) => handled.includes(u.update_id));
      await waitFor('handled updates confirmed', async () => handledButPending().length === 0).catch(() => {});
      expect(handledButPending().map((u) => u.update_id)).toEqual([]);
      const again = await start({ webhook, handled });
      await waitFor('all handled', async () => handled.length >= 10);
      await again.stop('test');
      expect([...handled].sort((a, b) => a - b)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
      expect(emulator.pendingUpdates).toEqual([]);
    });
  }
});
