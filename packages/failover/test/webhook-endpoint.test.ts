import { createTestClock } from '@botkit/core';
import { createFailover, grammyAdapter } from '@botkit/failover';
import { Bot } from 'grammy';
import { afterEach, describe, expect, it } from 'vitest';
import { botInfo, listen, SECRET, send, TOKEN, textUpdate } from './helpers.js';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()?.();
});

async function endpoint(
  options: {
    handlerTimeoutMs?: number;
    onHandlerTimeout?: 'respond' | 'fail';
    clock?: ReturnType<typeof createTestClock>;
  } = {},
) {
  const bot = new Bot(TOKEN, { botInfo });
  const seen: number[] = [];
  let release: (() => void) | undefined;
  let block = false;
  bot.on('message', async (ctx) => {
    seen.push(ctx.update.update_id);
    if (block) await new Promise<void>((resolve) => (release = resolve));
  });
  const failover = createFailover({
    token: TOKEN,
    adapter: grammyAdapter(bot),
    webhook: {
      url: 'https://bot.example.com/tg',
      secretToken: SECRET,
      maxBodyBytes: 4096,
      ...(options.handlerTimeoutMs ? { handlerTimeoutMs: options.handlerTimeoutMs } : {}),
      ...(options.onHandlerTimeout ? { onHandlerTimeout: options.onHandlerTimeout } : {}),
    },
    ...(options.clock ? { clock: options.clock } : {}),
  });
  const errors: string[] = [];
  failover.on('error', (e) => errors.push(e.code));
  const server = await listen(failover.handler);
  cleanups.push(server.close);
  const url = `${server.url}/tg`;
  const post = (body: unknown, headers: Record<string, string> = {}) =>
    send(url, {
      body: typeof body === 'string' ? body : JSON.stringify(body),
      headers: { 'content-type': 'application/json', 'x-telegram-bot-api-secret-token': SECRET, ...headers },
    });
  return {
    failover,
    url,
    post,
    seen,
    errors,
    blockHandlers: () => {
      block = true;
    },
    releaseHandler: () => release?.(),
  };
}

describe('webhook endpoint', () => {
  it('answers 200 only after the bot handled the update', async () => {
    const ep = await endpoint();
    const res = await ep.post(textUpdate(1));
    expect(res.status).toBe(200);
    expect(ep.seen).toEqual([1]);
  });

  it('rejects a wrong or missing secret with 401 and never calls the handler', async () => {
    const ep = await endpoint();
    expect((await ep.post(textUpdate(1), { 'x-telegram-bot-api-secret-token': 'wrong' })).status).toBe(401);
    expect((await ep.post(textUpdate(2), { 'x-telegram-bot-api-secret-token': `${SECRET}x` })).status).toBe(401);
    expect((await ep.post(textUpdate(3), { 'x-telegram-bot-api-secret-token': '' })).status).toBe(401);
    const missing = await send(ep.url, {
      body: JSON.stringify(textUpdate(4)),
      headers: { 'content-type': 'application/json' },
    });
    expect(missing.status).toBe(401);
    expect(ep.seen).toEqual([]);
  });

  it('rejects non-POST methods with 405', async () => {
    const ep = await endpoint();
    for (const method of ['GET', 'PUT', 'DELETE']) {
      const res = await send(ep.url, { method, headers: { 'x-telegram-bot-api-secret-token': SECRET } });
      expect(res.status).toBe(405);
    }
    expect(ep.seen).toEqual([]);
  });

  it('rejects oversized bodies with 413, declared or streamed', async () => {
    const ep = await endpoint();
    const big = JSON.stringify({ ...textUpdate(1), pad: 'x'.repeat(10_000) });
    expect((await ep.post(big)).status).toBe(413);
    const streamed = await send(ep.url, {
      headers: { 'x-telegram-bot-api-secret-token': SECRET, 'transfer-encoding': 'chunked' },
      chunks: [Buffer.from(big.slice(0, 3000)), Buffer.from(big.slice(3000))],
    });
    expect(streamed.status).toBe(413);
    expect(ep.seen).toEqual([]);
    // The endpoint keeps working.
    expect((await ep.post(textUpdate(2))).status).toBe(200);
    expect(ep.seen).toEqual([2]);
  });

  it('rejects malformed JSON and non-updates with 400', async () => {
    const ep = await endpoint();
    expect((await ep.post('{"update_id": 1,')).status).toBe(400);
    expect((await ep.post('[1,2,3]')).status).toBe(400);
    expect((await ep.post('{"message": {}}')).status).toBe(400);
    expect((await ep.post('{"update_id": -5}')).status).toBe(400);
    expect((await ep.post('')).status).toBe(400);
    expect(ep.seen).toEqual([]);
  });

  it('survives clients that disconnect mid-body', async () => {
    const ep = await endpoint();
    const { request } = await import('node:http');
    await new Promise<void>((resolve) => {
      const req = request(ep.url, {
        method: 'POST',
        headers: { 'x-telegram-bot-api-secret-token': SECRET, 'content-length': '1000' },
      });
      req.on('error', () => resolve());
      req.write('{"update_id": 1, "mess');
      setTimeout(() => {
        req.destroy();
        resolve();
      }, 20);
    });
    expect((await ep.post(textUpdate(9))).status).toBe(200);
    expect(ep.seen).toEqual([9]);
  });

  it('hands an update delivered twice to the bot once', async () => {
    const ep = await endpoint();
    expect((await ep.post(textUpdate(5))).status).toBe(200);
    expect((await ep.post(textUpdate(5))).status).toBe(200);
    expect(ep.seen).toEqual([5]);
  });

  it('answers 200 on handlerTimeoutMs and keeps the handler running (respond)', async () => {
    const clock = createTestClock();
    const ep = await endpoint({ clock, handlerTimeoutMs: 1000 });
    ep.blockHandlers();
    const pending = ep.post(textUpdate(7));
    await expect.poll(() => ep.seen).toEqual([7]);
    await clock.advance(1000);
    expect((await pending).status).toBe(200);
    expect(ep.errors).toEqual(['BOTKIT_FAILOVER_HANDLER_TIMEOUT']);
    ep.releaseHandler();
  });

  it('answers 500 on handlerTimeoutMs with onHandlerTimeout: fail; a retry gets 500 while the first run is alive, 200 after', async () => {
    const clock = createTestClock();
    const ep = await endpoint({ clock, handlerTimeoutMs: 1000, onHandlerTimeout: 'fail' });
    ep.blockHandlers();
    const pending = ep.post(textUpdate(8));
    await expect.poll(() => ep.seen).toEqual([8]);
    await clock.advance(1000);
    expect((await pending).status).toBe(500);
    expect((await ep.post(textUpdate(8))).status).toBe(500);
    ep.releaseHandler();
    await expect.poll(async () => (await ep.post(textUpdate(8))).status).toBe(200);
    expect(ep.seen).toEqual([8]);
  });

  it('after stop() answers 503 (Telegram delivers later) and never calls the handler', async () => {
    const ep = await endpoint();
    await ep.failover.stop();
    expect((await ep.post(textUpdate(11))).status).toBe(503);
    expect(ep.seen).toEqual([]);
  });
});
