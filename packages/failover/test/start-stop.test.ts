import { connect } from 'node:net';
import { freePort, waitFor } from '@botkit/test-harness';
import { type BotApiEmulator, createBotApiEmulator } from '@botkit/testing';
import { createFailover, grammyAdapter } from '@botkit/failover';
import { Bot } from 'grammy';
import { afterEach, describe, expect, it } from 'vitest';
import { botInfo, SECRET, TOKEN } from './helpers.js';

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

describe('stop() with webhook connections that never finish their request', () => {
  it('closes slowloris connections at once, after answering a request received in full', async () => {
    emulator = await createBotApiEmulator({ token: TOKEN });
    const port = await freePort();
    const bot = new Bot(TOKEN, { client: { apiRoot: emulator.apiRoot }, botInfo });
    let release: (() => void) | undefined;
    bot.on('message', () => new Promise<void>((resolve) => (release = resolve)));
    const failover = createFailover({
      token: TOKEN,
      apiRoot: emulator.apiRoot,
      adapter: grammyAdapter(bot),
      webhook: { url: `http://127.0.0.1:${port}/telegram`, secretToken: SECRET, port, host: '127.0.0.1' },
    });
    await failover.start();
    // Two clients trickle a request and never finish it: one inside the headers, one inside the body.
    const trickling = [
      `POST /telegram HTTP/1.1\r\nHost: x\r\nX-Telegram-Bot-Api-Secret-`,
      `POST /telegram HTTP/1.1\r\nHost: x\r\nX-Telegram-Bot-Api-Secret-Token: ${SECRET}\r\nContent-Length: 1000\r\n\r\n{"update_id":`,
    ].map((head) => {
      const socket = connect(port, '127.0.0.1', () => socket.write(head));
      socket.on('error', () => {});
      return { socket, answered: false, closed: new Promise<void>((resolve) => socket.once('close', () => resolve())) };
    });
    for (const t of trickling) t.socket.on('data', () => (t.answered = true));
    try {
      // A real update whose handler is still running when stop() is called.
      emulator.sendMessage(5, 'hello');
      await waitFor('handler running', () => release !== undefined);
      const stopping = failover.stop();
      expect(await settledWithin(stopping, 300)).toBe('pending'); // waits for the handler
      release?.();
      expect(await settledWithin(stopping, 5_000)).toBe('resolved');
      expect(await settledWithin(Promise.all(trickling.map((t) => t.closed)), 1_000)).toBe('resolved');
      expect(trickling.map((t) => t.answered)).toEqual([false, false]);
      // The update handled during the stop was answered 200: Telegram holds nothing more.
      await waitFor('delivery answered', () => emulator!.webhookDeliveries.some((d) => d.ok));
      expect(emulator.webhookDeliveries.map((d) => d.statusCode)).toEqual([200]);
      expect(emulator.pendingUpdates).toEqual([]);
    } finally {
      release?.();
      for (const t of trickling) t.socket.destroy();
      await failover.stop();
    }
  });
});
