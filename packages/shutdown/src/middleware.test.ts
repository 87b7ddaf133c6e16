import { testBotInfo } from '@botkit/testing';
import { createTestClock, isBotkitError } from '@botkit/core';
import { Bot, BotError } from 'grammy';
import type { Update } from 'grammy/types';
import { Telegraf } from 'telegraf';
import { describe, expect, it } from 'vitest';
import { createShutdown } from './index.js';

// Real grammY and Telegraf bots, fed with bot.handleUpdate (no network: botInfo is given).
const botInfo = testBotInfo({ id: 42, first_name: 'Test' });

const update = (id: number): Update => ({
  update_id: id,
  message: {
    message_id: id,
    date: 0,
    chat: { id: 7, type: 'private', first_name: 'Ann' },
    from: { id: 7, is_bot: false, first_name: 'Ann' },
    text: `hello ${id}`,
  },
});

function deferred() {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

/** The same update typed for Telegraf (its bundled Bot API types differ slightly from grammY's). */
const telegrafUpdate = (id: number) => update(id) as Parameters<Telegraf['handleUpdate']>[0];

const tick = () => new Promise((r) => setImmediate(r));

describe('middleware()', () => {
  it('grammY: tracks updates in flight, drain waits for them, and updates arriving after intake are refused', async () => {
    const shutdown = createShutdown({ clock: createTestClock(0), exit: () => {} });
    const bot = new Bot('123:TEST', { botInfo });
    bot.use(shutdown.middleware());
    const release = deferred();
    const handled: number[] = [];
    bot.on('message', async (ctx) => {
      await release.promise;
      handled.push(ctx.update.update_id);
    });

    const first = bot.handleUpdate(update(1));
    const second = bot.handleUpdate(update(2));
    await tick();
    expect(shutdown.tracked).toBe(2);

    let finished = false;
    const run = shutdown.shutdown('SIGTERM').then((report) => {
      finished = true;
      return report;
    });
    const refused = bot.handleUpdate(update(3));
    const error = await refused.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(BotError);
    expect(isBotkitError((error as BotError).error, 'BOTKIT_SHUTTING_DOWN')).toBe(true);
    await tick();
    expect(finished).toBe(false);

    release.resolve();
    await Promise.all([first, second]);
    const report = await run;
    expect(handled).toEqual([1, 2]);
    expect(report.tasks).toEqual({ inFlight: 2, completed: 2, failed: 0, aborted: 0, abandoned: 0 });
    expect(report.exitCode).toBe(0);
  });

  it('Telegraf: tracks updates in flight, drain waits for them, and updates arriving after intake are refused', async () => {
    const shutdown = createShutdown({ clock: createTestClock(0), exit: () => {} });
    const bot = new Telegraf('123:TEST');
    bot.botInfo = botInfo;
    // Telegraf's default error handler sets process.exitCode; rethrow instead.
    bot.catch((err) => {
      throw err;
    });
    bot.use(shutdown.middleware());
    const release = deferred();
    const handled: number[] = [];
    bot.on('message', async (ctx) => {
      await release.promise;
      handled.push(ctx.update.update_id);
    });

    const first = bot.handleUpdate(telegrafUpdate(1));
    await tick();
    expect(shutdown.tracked).toBe(1);

    const run = shutdown.shutdown('SIGTERM');
    await expect(bot.handleUpdate(telegrafUpdate(2))).rejects.toMatchObject({ code: 'BOTKIT_SHUTTING_DOWN' });
    expect(shutdown.tracked).toBe(1);

    release.resolve();
    await first;
    const report = await run;
    expect(handled).toEqual([1]);
    expect(report.tasks.completed).toBe(1);
    expect(report.exitCode).toBe(0);
  });

  it('passes a handler error through to the framework without counting it as a shutdown failure', async () => {
    const shutdown = createShutdown({ clock: createTestClock(0), exit: () => {} });
    const bot = new Bot('123:TEST', { botInfo });
    bot.use(shutdown.middleware());
    const failure = new Error('handler failed');
    bot.on('message', () => {
      throw failure;
    });
    await expect(bot.handleUpdate(update(1))).rejects.toMatchObject({ error: failure });
    expect(shutdown.tracked).toBe(0);
    expect((await shutdown.shutdown()).exitCode).toBe(0);
  });
});
