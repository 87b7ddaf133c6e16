import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Bot, webhookCallback } from 'grammy';
import { afterEach, describe, expect, it } from 'vitest';
import { type BotApiEmulator, createBotApiEmulator } from '../src/index.js';

let emulator: BotApiEmulator | undefined;
let server: http.Server | undefined;

afterEach(async () => {
  if (server) await new Promise<void>((resolve) => server!.close(() => resolve()));
  server = undefined;
  await emulator?.close();
  emulator = undefined;
});

function makeBot(e: BotApiEmulator, handled: number[] = []) {
  const bot = new Bot(e.token, { client: { apiRoot: e.apiRoot } });
  bot.use((ctx, next) => {
    handled.push(ctx.update.update_id);
    return next();
  });
  bot.command('start', (ctx) => ctx.reply(`Hello, ${ctx.from?.first_name}!`));
  return bot;
}

describe('grammY against the emulator', () => {
  it('answers /start in polling mode, and a graceful stop confirms the offset so a restart sees no duplicate', async () => {
    emulator = await createBotApiEmulator();
    const first = makeBot(emulator);
    const running = first.start({ timeout: 30 });
    emulator.sendMessage(42, '/start');
    const reply = await emulator.waitForMessage((m) => m.chat.id === 42);
    expect(reply.text).toBe('Hello, Test User!');
    await first.stop();
    await running;
    expect(emulator.pendingUpdates).toEqual([]);

    const handled: number[] = [];
    const second = makeBot(emulator, handled);
    const again = second.start({ timeout: 30 });
    emulator.sendMessage(43, '/start');
    await emulator.waitForMessage((m) => m.chat.id === 43);
    await second.stop();
    await again;
    expect(handled).toEqual([2]);
    expect(emulator.sentMessages.filter((m) => m.chat.id === 42)).toHaveLength(1);
  });

  it('answers /start in webhook mode with the secret token checked by grammY', async () => {
    emulator = await createBotApiEmulator();
    const bot = makeBot(emulator);
    await bot.init();
    server = http.createServer(webhookCallback(bot, 'http', { secretToken: 'top_secret-1' }));
    await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    await bot.api.setWebhook(`http://127.0.0.1:${port}/hook`, { secret_token: 'top_secret-1' });
    emulator.sendMessage(7, '/start');
    const reply = await emulator.waitForMessage((m) => m.chat.id === 7);
    expect(reply.text).toBe('Hello, Test User!');
    await expect.poll(() => emulator!.webhookInfo.pending_update_count).toBe(0);
    expect(emulator.webhookInfo.last_error_message).toBeUndefined();
  });
});
