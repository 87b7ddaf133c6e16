import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '@botkit/test-harness';
import type { BotApiEmulator } from '@botkit/testing';
import { type App, type AppConfig, createApp } from '../src/create-bot.js';

/** Short intervals so the tests take seconds; thresholds keep their production meaning. */
export const FAST = {
  healthIntervalMs: 200,
  healthTimeoutMs: 2_000,
  failureThreshold: 2,
  recoveryThreshold: 2,
  detectionIntervalMs: 200,
  failuresToSwitch: 2,
  minPollingDwellMs: 1_500,
  probationMs: 1_000,
  pollTimeoutSeconds: 1,
  redisCommandTimeoutMs: 300,
  redisResetAfterMs: 300,
  redisMaxReconnectDelayMs: 200,
  maxIdleMs: 60_000,
  alertWindowMs: 60_000,
} as const;

export const ADMIN_CHAT = 999;

/** A temporary directory holding the SQLite database and the backups of one test. */
export function tempDir(): { dir: string; cleanup(): void } {
  const dir = mkdtempSync(join(tmpdir(), 'botkit-example-'));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** The example's configuration against the emulator, Redis and an SQLite file in `dir`. */
export async function testConfig(
  emulator: BotApiEmulator,
  redisUrl: string,
  dir: string,
  options: { webhook?: boolean; handled?: number[] } = {},
): Promise<AppConfig> {
  const webhookPort = await freePort();
  return {
    token: emulator.token,
    apiRoot: emulator.apiRoot,
    redisUrl,
    databaseUrl: join(dir, 'bot.db'),
    webhook:
      options.webhook === false
        ? undefined
        : {
            url: `http://127.0.0.1:${webhookPort}/telegram`,
            secretToken: 'test_secret_token',
            port: webhookPort,
            host: '127.0.0.1',
          },
    adminChatId: ADMIN_CHAT,
    health: { port: 0, host: '127.0.0.1' },
    backup: { dir: join(dir, 'backups'), cron: '0 * * * *', retention: { keepLast: 5 }, maxAgeMs: 3_600_000 },
    shutdownTimeoutMs: 15_000,
    timings: FAST,
    ...(options.handled ? { onUpdateHandled: (id: number) => options.handled?.push(id) } : {}),
  };
}

/** Creates and starts the app; `stop()` in afterEach is safe to call twice. */
export async function startApp(config: AppConfig): Promise<App> {
  const app = await createApp(config);
  await app.start();
  return app;
}

/** Sends a message as a user and waits for the bot's answer in that chat. */
export async function ask(emulator: BotApiEmulator, chatId: number, text: string, timeoutMs = 10_000): Promise<string> {
  const before = emulator.sentMessages.length;
  emulator.sendMessage(chatId, text);
  const reply = await emulator.waitForMessage(
    (m) => m.chat.id === chatId && emulator.sentMessages.indexOf(m) >= before,
    { timeoutMs },
  );
  return reply.text ?? '';
}
