import { createRequire } from 'node:module';
import { PHASES, type ShutdownReport } from '@botkit/shutdown';
import { type RedisServer, startRedis, waitFor } from '@botkit/test-harness';
import { type BotApiEmulator, createBotApiEmulator } from '@botkit/testing';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ADMIN_CHAT, ask, checkTelegramRetries, tempDir, testConfig } from '../../grammy-bot/test/helpers.js';

/** The parts of the CommonJS example's app these tests use. */
interface TelegrafApp {
  readonly mode: string;
  readonly healthServer: { url: string };
  readonly monitor: { runAll(): Promise<unknown> };
  readonly shutdown: { tracked: number };
  readonly notes: { countAll(): Promise<number> };
  readonly circuit: { state: string };
  start(): Promise<void>;
  stop(reason?: string): Promise<ShutdownReport>;
}

// Loaded through Node's own require(): the example and @botkit/* CommonJS builds (dist/*.cjs).
const { createApp } = createRequire(import.meta.url)('../src/create-bot.cjs') as {
  createApp(config: unknown): Promise<TelegrafApp>;
};

let redisServer: RedisServer;
let emulator: BotApiEmulator;
let tmp: ReturnType<typeof tempDir>;
const apps: TelegrafApp[] = [];

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

async function start(options: Parameters<typeof testConfig>[3] = {}): Promise<TelegrafApp> {
  const app = await createApp(await testConfig(emulator, redisServer.url, tmp.dir, options));
  apps.push(app);
  await app.start();
  return app;
}

describe('the Telegraf example (CommonJS, on the CJS builds) on the emulator, real Redis and SQLite', () => {
  it('answers /start, keeps /count in Redis and /note in SQLite across a restart', async () => {
    let app = await start();
    expect(app.mode).toBe('webhook');
    expect(await ask(emulator, 42, '/start')).toBe(
      'Hello, Test User! I count (/count), keep notes (/note <text>) and report my health (/status).',
    );
    expect(await ask(emulator, 42, '/count')).toBe('Count: 1');
    expect(await ask(emulator, 42, '/count')).toBe('Count: 2');
    expect(await ask(emulator, 42, '/note buy milk')).toBe('Saved note #1 (you have 1).');
    await app.stop('restart');
    app = await start({ webhook: false });
    expect(app.mode).toBe('polling');
    expect(await ask(emulator, 42, '/count')).toBe('Count: 3');
    expect(await ask(emulator, 42, '/note')).toBe('Your latest notes:\n#1 buy milk');
  });

  it('retries Telegram calls: a reply survives a 502 and a 429 (after retry_after); a 403 is not retried', () =>
    checkTelegramRetries(emulator, start));

  it('/ready is 200 while serving and 503 from the moment shutdown starts, while an update drains', async () => {
    const app = await start();
    await app.monitor.runAll();
    const ready = () => fetch(`${app.healthServer.url}/ready`).then((r) => r.status);
    await waitFor('ready', async () => (await ready()) === 200);
    emulator.faults.inject('sendMessage', { kind: 'delay', delayMs: 1_500 }, { times: 1 });
    emulator.sendMessage(11, '/start');
    await waitFor('update in flight', async () => app.shutdown.tracked > 0);
    const stopping = app.stop('test');
    expect(await ready()).toBe(503);
    const report = await stopping;
    expect(report.exitCode).toBe(0);
    expect(emulator.sentMessages.filter((m) => m.chat.id === 11)).toHaveLength(1);
  });

  it('answers in degraded mode while Redis is SIGKILLed, with one alert to the admin chat each way', async () => {
    const app = await start();
    const adminMessages = () => emulator.sentMessages.filter((m) => m.chat.id === ADMIN_CHAT).map((m) => m.text);
    expect(await ask(emulator, 61, '/count')).toBe('Count: 1');
    await redisServer.kill();
    try {
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
    expect(await ask(emulator, 61, '/count')).toMatch(/^Count: \d+$/);
  });

  it('logs the teardown: every shutdown phase in order, then the report', async () => {
    const lines: { msg: string; fields: Record<string, unknown> }[] = [];
    const log = (fields: unknown, msg?: string) =>
      lines.push(
        typeof fields === 'string' ? { msg: fields, fields: {} } : { msg: msg ?? '', fields: fields as never },
      );
    const logger = { debug: () => {}, info: log, warn: log, error: log };
    const app = await createApp({ ...(await testConfig(emulator, redisServer.url, tmp.dir)), logger });
    apps.push(app);
    await app.start();
    const report = await app.stop('test');
    expect(report.exitCode).toBe(0);
    const phases = lines.filter((l) => l.msg === 'shutdown phase');
    expect(phases.map((l) => l.fields.phase)).toEqual([...PHASES]);
    // The report (with tasks and hooks; the manager logs its own shorter line too) after the last phase.
    const finished = lines.find((l) => l.msg === 'shutdown finished' && 'hooks' in l.fields);
    expect(finished?.fields).toMatchObject({ exitCode: 0, timedOut: false, hooks: report.hooks.length });
    expect(lines.indexOf(finished!)).toBeGreaterThan(lines.indexOf(phases.at(-1)!));
  });

  for (const webhook of [true, false]) {
    it(`a graceful stop (${webhook ? 'webhook' : 'polling'}) leaves nothing to redeliver, and a restart handles nothing twice`, async () => {
      const handled: number[] = [];
      const app = await start({ webhook, handled });
      for (let i = 0; i < 10; i++) emulator.sendMessage(100 + (i % 3), '/count');
      emulator.faults.inject('sendMessage', { kind: 'delay', delayMs: 500 }, { times: 1 });
      await waitFor('some handled', async () => handled.length >= 3);
      await app.stop('test');
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
