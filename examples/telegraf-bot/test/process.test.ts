import { fileURLToPath } from 'node:url';
import { type RedisServer, startRedis, waitFor } from '@botkit/test-harness';
import { type BotApiEmulator, createBotApiEmulator } from '@botkit/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type BotProcess, spawnBot, tempDir } from '../../grammy-bot/test/helpers.js';

const main = fileURLToPath(new URL('../src/main.cjs', import.meta.url));
let redisServer: RedisServer;
let emulator: BotApiEmulator;
let tmp: ReturnType<typeof tempDir>;
let bot: BotProcess | undefined;

beforeAll(async () => {
  redisServer = await startRedis();
  emulator = await createBotApiEmulator({ setWebhookIntervalMs: 0 });
  tmp = tempDir();
});
afterAll(async () => {
  bot?.kill('SIGKILL');
  await emulator?.close();
  await redisServer?.cleanup();
  tmp?.cleanup();
});

describe('node src/main.cjs (CommonJS, no build step)', () => {
  it('serves on the webhook, is ready, and on SIGTERM drains the update in flight and exits 0', {
    timeout: 60_000,
  }, async () => {
    bot = await spawnBot(main, emulator, redisServer.url, tmp.dir);
    const running = bot;
    const ready = () => fetch(`${running.healthUrl}/ready`).then((r) => r.status);
    await waitFor('ready', async () => (await ready()) === 200, 30_000).catch((error: unknown) => {
      throw new Error(`${String(error)}\n${running.output()}`);
    });
    emulator.sendMessage(31, '/count');
    await emulator.waitForMessage((m) => m.chat.id === 31 && m.text === 'Count: 1');

    emulator.faults.inject('sendMessage', { kind: 'delay', delayMs: 1_500 }, { times: 1 });
    emulator.sendMessage(32, '/note written just before SIGTERM');
    await waitFor('update in flight', async () =>
      emulator.requests.some((r) => r.method === 'sendMessage' && r.params.chat_id === 32),
    );
    running.kill('SIGTERM');
    expect(await running.exited).toBe(0);
    expect(emulator.sentMessages.filter((m) => m.chat.id === 32).map((m) => m.text)).toEqual([
      'Saved note #1 (you have 1).',
    ]);
    expect(emulator.pendingUpdates).toEqual([]);
    expect(running.output()).not.toContain(emulator.token);
  });
});
