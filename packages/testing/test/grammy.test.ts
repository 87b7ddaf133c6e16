import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Bot, webhookCallback } from 'grammy';
import { afterEach, describe, expect, it } from 'vitest';
import { type BotApiEmulator, createBotApiEmulator } from '../src/index.js';
import { WAIT } from './helpers.js';

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
    await expect.poll(() => emulator!.webhookInfo.pending_update_count, WAIT).toBe(0);
    expect(emulator.webhookInfo.last_error_message).toBeUndefined();
  });

  it('handles a callback query: answers it and edits the message with the button', async () => {
    emulator = await createBotApiEmulator();
    const bot = new Bot(emulator.token, { client: { apiRoot: emulator.apiRoot } });
    bot.command('menu', (ctx) =>
      ctx.reply('Pick one', { reply_markup: { inline_keyboard: [[{ text: 'Yes', callback_data: 'yes' }]] } }),
    );
    bot.callbackQuery('yes', async (ctx) => {
      await ctx.answerCallbackQuery({ text: 'Noted' });
      await ctx.editMessageText('You picked yes');
    });
    const running = bot.start();
    try {
      emulator.sendMessage(9, '/menu');
      const menu = await emulator.waitForMessage((m) => m.text === 'Pick one');
      const query = emulator.callbackQuery(9, 'yes', { message: menu });
      await emulator.waitForMessage((m) => m.message_id === menu.message_id && m.text === 'You picked yes');
      expect(emulator.callbackAnswers).toMatchObject([{ callbackQueryId: query.id, text: 'Noted' }]);
      expect(emulator.sentMessages).toHaveLength(1);
    } finally {
      await bot.stop();
      await running;
    }
  });

  it('a second instance polling with the same token stops the first with 409 Conflict', async () => {
    emulator = await createBotApiEmulator();
    const first = makeBot(emulator);
    const firstRun = first.start({ timeout: 30 }).then(
      () => undefined,
      (error: unknown) => error,
    );
    await emulator.waitForRequest((r) => r.method === 'getUpdates' && r.params.timeout === 30);
    await expect.poll(() => emulator!.isPolling, WAIT).toBe(true);
    const second = makeBot(emulator);
    const secondRun = second.start({ timeout: 30 });
    expect(await firstRun).toMatchObject({
      error_code: 409,
      description: 'Conflict: terminated by other getUpdates request; make sure that only one bot instance is running',
    });
    emulator.sendMessage(3, '/start');
    await emulator.waitForMessage((m) => m.chat.id === 3);
    await second.stop();
    await secondRun;
  });
});
