import { createTestClock } from '@botkit/core';
import { type RedisServer, startRedis, waitFor } from '@botkit/test-harness';
import { type BotApiEmulator, createBotApiEmulator } from '@botkit/testing';
import { Bot } from 'grammy';
import { Redis } from 'ioredis';
import { Telegraf } from 'telegraf';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  createHealthMonitor,
  type HealthAlert,
  redisProbe,
  telegramAlerts,
  telegramProbe,
  updateMetrics,
  updatesProbe,
} from '../src/index.js';

let emulator: BotApiEmulator;
let redisServer: RedisServer;

beforeAll(async () => {
  redisServer = await startRedis();
});
afterAll(async () => {
  await redisServer?.cleanup();
});
beforeEach(async () => {
  emulator = await createBotApiEmulator();
});
afterEach(async () => {
  await emulator.close();
});

const getMeCalls = () => emulator.requests.filter((r) => r.method.toLowerCase() === 'getme').length;

describe('telegramProbe on the Bot API emulator', () => {
  it('healthy with the bot identity; the token never appears in status', async () => {
    const monitor = createHealthMonitor({
      probes: [telegramProbe({ token: emulator.token, apiRoot: emulator.apiRoot })],
    });
    const s = await monitor.runAll();
    expect(s.probes.telegram).toMatchObject({ status: 'healthy', details: { username: emulator.botInfo.username } });
    expect(JSON.stringify(s)).not.toContain(emulator.token);
  });

  it('a revoked token (401) is unhealthy at once, with one alert, without leaking the token', async () => {
    const revoked = `${emulator.botInfo.id}:AAE_revoked_revoked_revoked_revoked_x`;
    const monitor = createHealthMonitor({ failureThreshold: 5 });
    monitor.addProbe(telegramProbe({ token: revoked, apiRoot: emulator.apiRoot }));
    const alerts: HealthAlert[] = [];
    monitor.on('alert', (a) => alerts.push(a));
    const s = await monitor.runAll();
    expect(s.probes.telegram?.status).toBe('unhealthy');
    expect(s.probes.telegram?.message).toMatch(/401/);
    expect(JSON.stringify(s)).not.toContain(revoked);
    expect(alerts.map((a) => a.kind)).toEqual(['failed']);
  });

  it('409 conflict is unhealthy at once', async () => {
    emulator.faults.inject('getMe', { kind: 'error', errorCode: 409 });
    const monitor = createHealthMonitor({ failureThreshold: 5 });
    monitor.addProbe(telegramProbe({ token: emulator.token, apiRoot: emulator.apiRoot }));
    expect((await monitor.runAll()).probes.telegram?.status).toBe('unhealthy');
  });

  it('429 is degraded and no getMe reaches Telegram before retry_after has passed', async () => {
    const clock = createTestClock();
    emulator.faults.inject('getMe', { kind: 'error', errorCode: 429, retryAfterSeconds: 10 }, { times: 1 });
    const monitor = createHealthMonitor({ failureThreshold: 1 });
    monitor.addProbe(telegramProbe({ token: emulator.token, apiRoot: emulator.apiRoot, clock }));
    expect((await monitor.runAll()).probes.telegram?.status).toBe('degraded');
    expect(getMeCalls()).toBe(1);
    await clock.advance(9_999);
    expect((await monitor.runAll()).probes.telegram?.status).toBe('degraded');
    expect(getMeCalls()).toBe(1);
    await clock.advance(1);
    expect((await monitor.runAll()).probes.telegram?.status).toBe('healthy');
    expect(getMeCalls()).toBe(2);
  });

  it('502s count as ordinary failures: unhealthy only after the threshold', async () => {
    emulator.faults.inject('getMe', { kind: 'error', errorCode: 502 });
    const monitor = createHealthMonitor({ failureThreshold: 2 });
    monitor.addProbe(telegramProbe({ token: emulator.token, apiRoot: emulator.apiRoot }));
    expect((await monitor.runAll()).probes.telegram?.status).toBe('unknown');
    expect((await monitor.runAll()).probes.telegram?.status).toBe('unhealthy');
  });
});

describe('telegramAlerts on the emulator with a real Redis killed and restarted', () => {
  it('one Telegram message when Redis fails, one when it recovers, no secrets', async () => {
    const redis = new Redis(redisServer.url, { maxRetriesPerRequest: 1, retryStrategy: () => 50 });
    redis.on('error', () => {});
    const admin = 4242;
    try {
      const monitor = createHealthMonitor({ failureThreshold: 2, recoveryThreshold: 2, timeoutMs: 1000 });
      monitor.addProbe(redisProbe(redis));
      monitor.onAlert(
        telegramAlerts({ token: emulator.token, apiRoot: emulator.apiRoot, chatId: admin, title: 'shop' }),
      );
      await monitor.runAll();
      await redisServer.kill();
      await monitor.runAll();
      await monitor.runAll();
      await monitor.runAll();
      const down = await emulator.waitForMessage((m) => m.chat.id === admin, { timeoutMs: 5000 });
      expect(down.text).toMatch(/^\[shop\] 🔴 redis is unhealthy/);

      await redisServer.restart();
      await waitFor('ioredis to reconnect', async () => redis.status === 'ready', 10_000);
      await monitor.runAll();
      await monitor.runAll();
      await monitor.runAll();
      await monitor.stop(); // waits for alert deliveries
      const texts = emulator.sentMessages.filter((m) => m.chat.id === admin).map((m) => m.text ?? '');
      expect(texts).toHaveLength(2);
      expect(texts[1]).toMatch(/redis recovered/);
      expect(texts.join('\n')).not.toContain(emulator.token);
    } finally {
      redis.disconnect();
    }
  });
});

describe('updatesProbe + updateMetrics with real grammY and Telegraf bots polling the emulator', () => {
  it('grammY: alive but not processing (updates pending, none handled for maxIdleMs) is unhealthy', async () => {
    const clock = createTestClock();
    const metrics = updateMetrics({ clock });
    const bot = new Bot(emulator.token, { client: { apiRoot: emulator.apiRoot } });
    bot.use(metrics.middleware);
    bot.command('start', (ctx) => ctx.reply('hi'));
    const monitor = createHealthMonitor({ failureThreshold: 1, recoveryThreshold: 1 });
    monitor.addProbe(
      updatesProbe({ metrics, token: emulator.token, apiRoot: emulator.apiRoot, maxIdleMs: 60_000, clock }),
    );

    void bot.start();
    emulator.sendMessage(7, '/start');
    await emulator.waitForMessage((m) => m.chat.id === 7);
    await waitFor('the update to be counted', async () => metrics.stats().handled_total === 1, 5000);
    expect((await monitor.runAll()).probes.updates?.status).toBe('healthy');
    await bot.stop();

    // The process is alive, but nothing consumes updates any more.
    emulator.sendMessage(7, 'anyone there?');
    emulator.sendMessage(8, 'hello?');
    await clock.advance(60_001);
    const s = await monitor.runAll();
    expect(s.probes.updates?.status).toBe('unhealthy');
    expect(s.probes.updates?.message).toMatch(/2 updates pending/);
    expect(metrics.series?.().handled_by_type_total).toEqual([
      { labels: { type: 'message', command: '/start' }, value: 1 },
    ]);
  });

  it('Telegraf: the same middleware counts updates and commands', async () => {
    const metrics = updateMetrics();
    const bot = new Telegraf(emulator.token, { telegram: { apiRoot: emulator.apiRoot } });
    bot.use(metrics.middleware);
    bot.command('help', (ctx) => ctx.reply('help'));
    void bot.launch();
    emulator.sendMessage(9, '/help');
    await emulator.waitForMessage((m) => m.chat.id === 9);
    await waitFor('the update to be counted', async () => metrics.stats().handled_total === 1, 5000);
    bot.stop();
    expect(metrics.series?.().handled_by_type_total).toEqual([
      { labels: { type: 'message', command: '/help' }, value: 1 },
    ]);
    expect(metrics.lastHandledAt).not.toBeNull();
  });
});
