import { type BotApiEmulator, createBotApiEmulator } from '@botkit/testing';
import { createFailover, grammyAdapter } from '@botkit/failover';
import { Bot } from 'grammy';
import { afterEach, describe, expect, it } from 'vitest';
import { SECRET, TOKEN } from './helpers.js';

let emulator: BotApiEmulator | undefined;
afterEach(async () => {
  await emulator?.close();
  emulator = undefined;
});

const settledWithin = <T>(promise: Promise<T>, ms: number) =>
  Promise.race([
    promise.then(
      () => 'resolved',
      () => 'rejected',
    ),
    new Promise<string>((resolve) => setTimeout(() => resolve('pending'), ms)),
  ]);

describe('start() while Telegram is unreachable', () => {
  it('stop() ends a start() stuck in grammY bot.init() retries: both settle, start rejects', async () => {
    emulator = await createBotApiEmulator({ token: TOKEN });
    emulator.faults.refuseConnections(); // grammY retries getMe network errors forever
    const bot = new Bot(TOKEN, { client: { apiRoot: emulator.apiRoot } }); // no botInfo: init() must call getMe
    const failover = createFailover({
      token: TOKEN,
      apiRoot: emulator.apiRoot,
      adapter: grammyAdapter(bot),
      webhook: { url: 'http://127.0.0.1:9/telegram', secretToken: SECRET },
    });
    const starting = failover.start();
    expect(await settledWithin(starting, 300)).toBe('pending'); // still retrying getMe
    const stopping = failover.stop();
    expect(await settledWithin(stopping, 5_000)).toBe('resolved');
    expect(await settledWithin(starting, 1_000)).toBe('rejected');
    expect(failover.mode).toBe('stopped');
  });
});
