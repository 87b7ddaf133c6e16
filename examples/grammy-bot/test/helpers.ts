import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, waitFor } from '@botkit/test-harness';
import type { BotApiEmulator } from '@botkit/testing';
import { expect } from 'vitest';
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

/** A bot started as a real child process (`node dist/main.js` or `node src/main.cjs`). */
export interface BotProcess {
  readonly output: () => string;
  readonly exited: Promise<number | null>;
  readonly healthUrl: string;
  kill(signal: NodeJS.Signals): void;
}

/** Starts `node <script>` with the example's environment variables pointing at the emulator and Redis. */
export async function spawnBot(
  script: string,
  emulator: BotApiEmulator,
  redisUrl: string,
  dir: string,
): Promise<BotProcess> {
  const { spawn } = await import('node:child_process');
  const healthPort = await freePort();
  const webhookPort = await freePort();
  const child = spawn(process.execPath, [script], {
    env: {
      PATH: process.env.PATH ?? '',
      BOT_TOKEN: emulator.token,
      BOT_API_ROOT: emulator.apiRoot,
      REDIS_URL: redisUrl,
      DATABASE_URL: join(dir, 'bot.db'),
      WEBHOOK_URL: `http://127.0.0.1:${webhookPort}/telegram`,
      WEBHOOK_SECRET: 'process_test_secret',
      WEBHOOK_PORT: String(webhookPort),
      HEALTH_PORT: String(healthPort),
      ADMIN_CHAT_ID: String(ADMIN_CHAT),
      BACKUP_DIR: join(dir, 'backups'),
      SHUTDOWN_TIMEOUT_MS: '15000',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => {
    output += chunk;
  });
  child.stderr.on('data', (chunk: Buffer) => {
    output += chunk;
  });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return {
    output: () => output,
    exited,
    healthUrl: `http://127.0.0.1:${healthPort}`,
    kill: (signal) => child.kill(signal),
  };
}

/**
 * Both examples retry Telegram calls: started polling (through a 502 on deleteWebhook), a reply
 * survives a 502 and a 429 (sent again no sooner than retry_after), and a 403 is not retried.
 */
export async function checkTelegramRetries(
  emulator: BotApiEmulator,
  start: (options: { webhook: false; handled: number[] }) => Promise<unknown>,
): Promise<void> {
  const handled: number[] = [];
  emulator.faults.inject('deleteWebhook', { kind: 'error', errorCode: 502 }, { times: 1 }); // while starting to poll
  await start({ webhook: false, handled });
  emulator.faults.inject('sendMessage', { kind: 'error', errorCode: 429, retryAfterSeconds: 1 }, { times: 1 });
  emulator.faults.inject('sendMessage', { kind: 'error', errorCode: 502 }, { times: 1 });
  expect(await ask(emulator, 77, '/count')).toBe('Count: 1');
  const calls = (chat: number) =>
    emulator.requests.filter((r) => r.method === 'sendMessage' && Number(r.params.chat_id) === chat);
  expect(calls(77).map((r) => r.status)).toEqual([502, 429, 200]);
  expect(calls(77)[2]!.at - calls(77)[1]!.at).toBeGreaterThanOrEqual(1_000);

  emulator.faults.inject(
    'sendMessage',
    { kind: 'error', errorCode: 403, description: 'Forbidden: bot was blocked by the user' },
    { times: 1 },
  );
  emulator.sendMessage(78, '/count');
  await waitFor('the update handled', () => handled.length === 2);
  expect(calls(78).map((r) => r.status)).toEqual([403]);
}
