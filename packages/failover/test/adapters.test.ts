import { BotkitError } from '@botkit/core';
import {
  createFailover,
  createMemoryDedupeStore,
  type DedupeStore,
  type FailoverError,
  grammyAdapter,
  telegrafAdapter,
  toAdapter,
} from '@botkit/failover';
import { Bot } from 'grammy';
import { Telegraf } from 'telegraf';
import { afterEach, describe, expect, it } from 'vitest';
import { botInfo, listen, SECRET, send, TOKEN, textUpdate } from './helpers.js';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()?.();
});

async function serve(adapter: Parameters<typeof createFailover>[0]['adapter'], dedupe?: DedupeStore) {
  const failover = createFailover({
    token: TOKEN,
    adapter,
    webhook: { url: 'https://x.example/tg', secretToken: SECRET },
    ...(dedupe ? { dedupe } : {}),
  });
  const errors: FailoverError[] = [];
  failover.on('error', (e) => errors.push(e));
  const server = await listen(failover.handler);
  cleanups.push(server.close);
  const post = (u: unknown) =>
    send(`${server.url}/tg`, { body: JSON.stringify(u), headers: { 'x-telegram-bot-api-secret-token': SECRET } });
  return { post, errors };
}

describe('grammyAdapter (real grammY bot)', () => {
  it('runs the middleware of the bot and routes its errors to bot.catch', async () => {
    const bot = new Bot(TOKEN, { botInfo });
    const texts: string[] = [];
    const caught: number[] = [];
    bot.on('message:text', (ctx) => {
      texts.push(ctx.message.text);
      if (ctx.message.text === 'boom') throw new Error('boom');
    });
    bot.catch((err) => {
      caught.push(err.ctx.update.update_id);
    });
    const { post, errors } = await serve(grammyAdapter(bot));
    expect((await post(textUpdate(1, 1, 'hello'))).status).toBe(200);
    expect((await post(textUpdate(2, 1, 'boom'))).status).toBe(200);
    expect(texts).toEqual(['hello', 'boom']);
    expect(caught).toEqual([2]);
    expect(errors).toEqual([]);
  });

  it('without bot.catch, reports the failure on the error event and counts the update as handled', async () => {
    const bot = new Bot(TOKEN, { botInfo });
    let calls = 0;
    bot.on('message', () => {
      calls += 1;
      throw new Error('boom');
    });
    // grammY's default error handler prints to the console; silence it for this test.
    bot.errorHandler = undefined as never;
    const { post, errors } = await serve(grammyAdapter(bot));
    expect((await post(textUpdate(3))).status).toBe(200);
    expect((await post(textUpdate(3))).status).toBe(200);
    expect(calls).toBe(1);
    expect(errors.map((e) => [e.code, e.updateId])).toEqual([['BOTKIT_FAILOVER_HANDLER_FAILED', 3]]);
  });

  it('rejects something that is not a grammY bot', () => {
    expect(() => grammyAdapter({} as never)).toThrow(TypeError);
  });
});

describe('telegrafAdapter (real Telegraf bot)', () => {
  it('runs the middleware of the bot and routes its errors to bot.catch', async () => {
    const bot = new Telegraf(TOKEN);
    bot.botInfo = botInfo;
    const texts: string[] = [];
    const caught: number[] = [];
    bot.on('text', (ctx) => {
      texts.push(ctx.message.text);
      if (ctx.message.text === 'boom') throw new Error('boom');
    });
    bot.catch((_err, ctx) => {
      caught.push(ctx.update.update_id);
    });
    const { post, errors } = await serve(telegrafAdapter(bot));
    expect((await post(textUpdate(1, 1, 'hello'))).status).toBe(200);
    expect((await post(textUpdate(2, 1, 'boom'))).status).toBe(200);
    expect(texts).toEqual(['hello', 'boom']);
    expect(caught).toEqual([2]);
    expect(errors).toEqual([]);
  });
});

/** What `@botkit/shutdown`'s middleware throws for an update that arrives while the process stops. */
const refusal = () => new BotkitError('BOTKIT_SHUTTING_DOWN', 'shutting down (SIGTERM)');

describe('updates refused while shutting down (BOTKIT_SHUTTING_DOWN) are handed back to Telegram', () => {
  it('grammY: answers 503, bot.catch() does not see it, and the redelivery is handled later', async () => {
    const dedupe = createMemoryDedupeStore();
    let stopping = false;
    const caught: unknown[] = [];
    const texts: string[] = [];
    const bot = new Bot(TOKEN, { botInfo });
    bot.use((_ctx, next) => {
      if (stopping) throw refusal();
      return next();
    });
    bot.on('message:text', (ctx) => {
      texts.push(ctx.message.text);
    });
    bot.catch((err) => {
      caught.push(err.error);
    });
    const { post, errors } = await serve(grammyAdapter(bot), dedupe);
    expect((await post(textUpdate(1, 1, 'before'))).status).toBe(200);
    stopping = true;
    expect((await post(textUpdate(2, 1, 'during'))).status).toBe(503);
    expect(texts).toEqual(['before']);
    expect(caught).toEqual([]);
    expect(errors).toEqual([]);
    // The next instance (same dedupe store) handles the redelivery: the claim was released.
    stopping = false;
    expect((await post(textUpdate(2, 1, 'during'))).status).toBe(200);
    expect(texts).toEqual(['before', 'during']);
  });

  it('Telegraf: the same, also with bot.catch() installed after the adapter was created', async () => {
    const dedupe = createMemoryDedupeStore();
    let stopping = false;
    const caught: unknown[] = [];
    const texts: string[] = [];
    const bot = new Telegraf(TOKEN);
    bot.botInfo = botInfo;
    bot.use((_ctx, next) => {
      if (stopping) throw refusal();
      return next();
    });
    bot.on('text', (ctx) => {
      texts.push(ctx.message.text);
      if (ctx.message.text === 'boom') throw new Error('boom');
    });
    const adapter = telegrafAdapter(bot);
    bot.catch((error) => {
      caught.push(error);
    });
    const { post, errors } = await serve(adapter, dedupe);
    expect((await post(textUpdate(1, 1, 'boom'))).status).toBe(200); // other errors still reach bot.catch()
    expect(caught).toHaveLength(1);
    stopping = true;
    expect((await post(textUpdate(2, 1, 'during'))).status).toBe(503);
    expect(caught).toHaveLength(1);
    expect(errors).toEqual([]);
    stopping = false;
    expect((await post(textUpdate(2, 1, 'during'))).status).toBe(200);
    expect(texts).toEqual(['boom', 'during']);
  });
});

describe('plain function adapter', () => {
  it('receives each update once', async () => {
    const ids: number[] = [];
    const { post } = await serve(async (u) => {
      ids.push(u.update_id);
    });
    await post(textUpdate(10));
    await post(textUpdate(11));
    await post(textUpdate(10));
    expect(ids).toEqual([10, 11]);
  });

  it('rejects anything else', () => {
    expect(() => toAdapter(42 as never)).toThrow(/adapter/);
  });
});

describe('createFailover options', () => {
  const base = { token: TOKEN, adapter: async () => {}, webhook: { url: 'https://x.example/tg', secretToken: SECRET } };
  it.each([
    [{ ...base, token: 'nope' }, /token/],
    [{ ...base, webhook: { ...base.webhook, url: 'not a url' } }, /webhook\.url/],
    [{ ...base, webhook: { ...base.webhook, secretToken: 'bad secret!' } }, /webhook\.secretToken/],
    [{ ...base, webhook: { ...base.webhook, port: 70000 } }, /webhook\.port/],
    [{ ...base, webhook: { ...base.webhook, handlerTimeoutMs: 60_000 } }, /webhook\.handlerTimeoutMs/],
    [{ ...base, detection: { intervalMs: 0 } }, /detection\.intervalMs/],
    [{ ...base, detection: { failuresToSwitch: 0 } }, /detection\.failuresToSwitch/],
    [{ ...base, switching: { probationMs: -1 } }, /switching\.probationMs/],
    [{ ...base, polling: { timeoutSeconds: 99 } }, /polling\.timeoutSeconds/],
    [{ ...base, adapter: 1 }, /adapter/],
  ])('throws a TypeError naming the bad option (%#)', (options, pattern) => {
    expect(() => createFailover(options as never)).toThrow(pattern);
  });

  it('never puts the token or the secret in a validation error', () => {
    try {
      createFailover({ ...base, webhook: { ...base.webhook, secretToken: `${SECRET}!` } });
    } catch (error) {
      expect(String(error)).not.toContain(SECRET);
    }
    expect(() => createFailover({ ...base, token: `${TOKEN}!` })).toThrow(/token/);
    try {
      createFailover({ ...base, token: `${TOKEN}!` });
    } catch (error) {
      expect(String(error)).not.toContain(TOKEN);
    }
  });
});
