/**
 * @botkit/shutdown's middleware and @botkit/failover together: an update the failover already
 * received, but that reaches shutdown.middleware() after the shutdown began, is refused. The
 * failover must hand it back to Telegram (503 on the webhook) instead of confirming it, so the
 * next instance handles it: nothing lost, nothing handled twice.
 */
import { sleep } from '@botkit/core';
import { createFailover, type Failover, grammyAdapter } from '@botkit/failover';
import { createShutdown } from '@botkit/shutdown';
import { freePort, waitFor } from '@botkit/test-harness';
import { createBotApiEmulator } from '@botkit/testing';
import { Bot } from 'grammy';
import { expect, it } from 'vitest';

const SECRET = 'shutdown_failover_secret';

it('updates refused by shutdown.middleware() during the intake stop are delivered to the next instance', async () => {
  await using emulator = await createBotApiEmulator({ setWebhookIntervalMs: 0 });
  const port = await freePort();
  const handled: { instance: number; updateId: number }[] = [];
  const refusedBy: number[] = [];

  // A session-like middleware that is still loading when SIGTERM arrives (released right after it).
  let release!: () => void;
  const loading = new Promise<void>((resolve) => {
    release = resolve;
  });

  /** One bot process: the session-like middleware, then shutdown.middleware(). */
  const instance = (n: number) => {
    const shutdown = createShutdown({ timeoutMs: 10_000, exit: () => {} });
    const bot = new Bot(emulator.token, { client: { apiRoot: emulator.apiRoot } });
    bot.use(async (ctx, next) => {
      if (n === 1 && ctx.message?.text !== 'warm-up') await loading; // e.g. loading the session from Redis
      await next();
    });
    bot.use(shutdown.middleware());
    bot.on('message', (ctx) => {
      handled.push({ instance: n, updateId: ctx.update.update_id });
    });
    bot.catch((err) => {
      refusedBy.push(err.ctx.update.update_id); // only reached if the adapter swallowed a refusal
    });
    const failover: Failover = createFailover({
      token: emulator.token,
      apiRoot: emulator.apiRoot,
      adapter: grammyAdapter(bot),
      webhook: { url: `http://127.0.0.1:${port}/tg`, secretToken: SECRET, port, host: '127.0.0.1' },
    });
    shutdown.add('transport', () => failover.stop(), { phase: 'intake' });
    return { shutdown, failover };
  };

  const first = instance(1);
  await first.failover.start();
  const received: number[] = [];
  first.failover.on('updateReceived', (info) => received.push(info.updateId));
  // Telegram delivers one update at a time until a delivery succeeded, then up to max_connections.
  emulator.sendMessage(100, 'warm-up');
  await waitFor('the warm-up handled', () => handled.length === 1, 10_000);
  handled.length = 0;
  received.length = 0;
  const sent = [1, 2, 3, 4, 5].map((i) => {
    emulator.sendMessage(100 + i, `message ${i}`);
    return emulator.pendingUpdates.at(-1)!.update_id;
  });
  // All five are inside the bot (in the session middleware) when SIGTERM arrives.
  await waitFor('all five received', () => received.length === 5, 10_000);
  const stopping = first.shutdown.shutdown('SIGTERM');
  release();
  const report = await stopping;
  expect(report.exitCode).toBe(0);
  expect(handled).toEqual([]); // refused, not handled
  expect(refusedBy).toEqual([]); // and not reported as a handler failure
  expect(emulator.pendingUpdates.map((u) => u.update_id)).toEqual(sent); // Telegram still has them

  const second = instance(2);
  await second.failover.start();
  try {
    await waitFor('the redeliveries handled', () => handled.length >= 5, 20_000);
    await sleep(200);
    expect(handled.map((h) => h.updateId).sort((a, b) => a - b)).toEqual(sent);
    expect(handled.every((h) => h.instance === 2)).toBe(true);
  } finally {
    await second.failover.stop();
  }
});
