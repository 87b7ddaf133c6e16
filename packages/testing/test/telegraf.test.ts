import { freePort } from '@botkit/test-harness';
import { readFileSync } from 'node:fs';
import { Telegraf } from 'telegraf';
import { afterEach, describe, expect, it } from 'vitest';
import { type BotApiEmulator, createBotApiEmulator } from '../src/index.js';
import { WAIT } from './helpers.js';

// A self-signed certificate for 127.0.0.1, for tests only: Telegraf's webhook always uses https,
// and, as with the real Bot API, the bot uploads its self-signed certificate with setWebhook.
const cert = readFileSync(new URL('./fixtures/webhook-cert.pem', import.meta.url));
const key = readFileSync(new URL('./fixtures/webhook-key.pem', import.meta.url));

let emulator: BotApiEmulator;
afterEach(async () => {
  await emulator?.close();
});

function makeBot(e: BotApiEmulator, handled: number[] = []) {
  const bot = new Telegraf(e.token, { telegram: { apiRoot: e.apiRoot } });
  bot.use((ctx, next) => {
    handled.push(ctx.update.update_id);
    return next();
  });
  bot.start((ctx) => ctx.reply(`Hello from Telegraf, ${ctx.from.first_name}!`));
  return bot;
}

describe('Telegraf against the emulator', () => {
  it('answers /start with bot.launch() polling, and bot.stop() confirms the offset so a restart sees no duplicate', async () => {
    emulator = await createBotApiEmulator();
    const handled: number[] = [];
    const first = makeBot(emulator, handled);
    const running = first.launch();
    emulator.sendMessage(42, '/start');
    const reply = await emulator.waitForMessage((m) => m.chat.id === 42);
    expect(reply.text).toBe('Hello from Telegraf, Test User!');
    first.stop('test');
    await running;
    expect(emulator.pendingUpdates).toEqual([]);

    const second = makeBot(emulator, handled);
    const again = second.launch();
    emulator.sendMessage(43, '/start');
    await emulator.waitForMessage((m) => m.chat.id === 43);
    second.stop('test');
    await again;
    expect(handled).toEqual([1, 2]);
    expect(emulator.sentMessages.map((m) => m.chat.id)).toEqual([42, 43]);
  });

  it('answers /start with bot.launch({ webhook }) over https with the uploaded self-signed certificate', async () => {
    emulator = await createBotApiEmulator();
    const bot = makeBot(emulator);
    const port = await freePort();
    await bot.launch({
      webhook: {
        domain: `127.0.0.1:${port}`,
        host: '127.0.0.1',
        port,
        path: '/telegraf',
        secretToken: 'telegraf_secret',
        tlsOptions: { key, cert },
        certificate: { source: cert },
      },
    });
    try {
      expect(emulator.webhookInfo).toMatchObject({
        url: `https://127.0.0.1:${port}/telegraf`,
        has_custom_certificate: true,
      });
      emulator.sendMessage(77, '/start');
      // Telegraf answers through the webhook response (webhookReply), which the emulator runs.
      const reply = await emulator.waitForMessage((m) => m.chat.id === 77);
      expect(reply.text).toBe('Hello from Telegraf, Test User!');
      await expect.poll(() => emulator.webhookInfo.pending_update_count, WAIT).toBe(0);
      expect(emulator.webhookInfo.last_error_message).toBeUndefined();
    } finally {
      bot.stop('test');
    }
  });

  it('a webhook whose certificate Telegram does not trust fails with an SSL error and keeps the update', async () => {
    emulator = await createBotApiEmulator();
    const bot = makeBot(emulator);
    const port = await freePort();
    await bot.launch({
      webhook: { domain: `127.0.0.1:${port}`, host: '127.0.0.1', port, path: '/t', tlsOptions: { key, cert } },
    });
    try {
      emulator.sendMessage(78, '/start');
      await expect.poll(() => emulator.webhookInfo.last_error_message, WAIT).toMatch(/^SSL error/);
      expect(emulator.webhookInfo.pending_update_count).toBe(1);
      expect(emulator.sentMessages).toHaveLength(0);
    } finally {
      bot.stop('test');
    }
  });

  it('sendDocument from Telegraf (its own multipart encoder) records the file name and size', async () => {
    emulator = await createBotApiEmulator();
    const bot = new Telegraf(emulator.token, { telegram: { apiRoot: emulator.apiRoot } });
    const message = await bot.telegram.sendDocument(5, {
      source: Buffer.alloc(4321, 1),
      filename: 'report.csv',
    });
    expect(message.document).toMatchObject({ file_name: 'report.csv', file_size: 4321 });
    expect(emulator.sentMessages.at(-1)?.document?.file_size).toBe(4321);
  });
});
