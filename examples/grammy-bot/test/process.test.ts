import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type RedisServer, startRedis, waitFor } from '@botkit/test-harness';
import { type BotApiEmulator, createBotApiEmulator } from '@botkit/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_CHAT, type BotProcess, spawnBot, tempDir } from './helpers.js';

const exampleDir = fileURLToPath(new URL('..', import.meta.url));
let redisServer: RedisServer;
let emulator: BotApiEmulator;
let tmp: ReturnType<typeof tempDir>;
let bot: BotProcess | undefined;

beforeAll(async () => {
  // What the Dockerfile runs: the tsup build of src/main.ts (on the @botkit/* dist builds).
  const tsup = createRequire(import.meta.url).resolve('tsup/dist/cli-default.js');
  execFileSync(process.execPath, [tsup], { cwd: exampleDir, stdio: 'pipe' });
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

describe('node dist/main.js (the production entry point)', () => {
  it('serves on the webhook, is ready, and on SIGTERM drains the update in flight and exits 0', {
    timeout: 60_000,
  }, async () => {
    bot = await spawnBot(join(exampleDir, 'dist/main.js'), emulator, redisServer.url, tmp.dir);
    const running = bot;
    const ready = () => fetch(`${running.healthUrl}/ready`).then((r) => r.status);
    await waitFor('ready', async () => (await ready()) === 200, 30_000).catch((error: unknown) => {
      throw new Error(`${String(error)}\n${running.output()}`);
    });
    expect(emulator.webhookInfo.url).toMatch(/\/telegram$/);
    emulator.sendMessage(21, '/count');
    await emulator.waitForMessage((m) => m.chat.id === 21 && m.text === 'Count: 1');

    emulator.faults.inject('sendMessage', { kind: 'delay', delayMs: 1_500 }, { times: 1 });
    emulator.sendMessage(22, '/note written just before SIGTERM');
    await waitFor('update in flight', async () =>
      emulator.requests.some((r) => r.method === 'sendMessage' && r.params.chat_id === 22),
    );
    running.kill('SIGTERM');
    expect(await running.exited).toBe(0);
    const replies = emulator.sentMessages.filter((m) => m.chat.id === 22).map((m) => m.text);
    expect(replies).toEqual(['Saved note #1 (you have 1).']);
    expect(emulator.pendingUpdates).toEqual([]);
    const log = running.output();
    expect(log).toMatch(/"msg":"shutdown finished"/);
    expect(log).not.toContain(emulator.token);
    expect(log).not.toContain('process_test_secret');
    // No alert was needed: everything stayed healthy.
    expect(emulator.sentMessages.filter((m) => m.chat.id === ADMIN_CHAT)).toEqual([]);
  });
});
