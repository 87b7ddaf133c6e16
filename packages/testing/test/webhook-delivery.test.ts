import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createTestClock, type TestClock } from '@botkit/core';
import type { Update } from '@grammyjs/types';
import { afterEach, describe, expect, it } from 'vitest';
import { type BotApiEmulator, createBotApiEmulator } from '../src/index.js';
import { call, type HookServer, settle, startHookServer, eventually } from './helpers.js';

let emulator: BotApiEmulator;
let hook: HookServer;
let clock: TestClock;

async function setup(options: { maxConnections?: number; secret?: string } = {}) {
  clock = createTestClock();
  emulator = await createBotApiEmulator({ clock, random: () => 0 });
  hook = await startHookServer();
  const set = await call(emulator, 'setWebhook', {
    url: hook.url,
    ...(options.maxConnections ? { max_connections: options.maxConnections } : {}),
    ...(options.secret ? { secret_token: options.secret } : {}),
  });
  expect(set.body.ok).toBe(true);
}

afterEach(async () => {
  await emulator?.close();
  await hook?.close();
});

const deliveries = (n: number) => eventually(() => expect(emulator.webhookDeliveries.length).toBeGreaterThanOrEqual(n));

describe('webhook delivery', () => {
  it('POSTs the update as JSON with the X-Telegram-Bot-Api-Secret-Token header and confirms it on 2xx', async () => {
    await setup({ secret: 'my_secret-42' });
    emulator.sendMessage(10, 'hi');
    await deliveries(1);
    expect(hook.requests).toHaveLength(1);
    const [request] = hook.requests;
    expect(request?.headers['x-telegram-bot-api-secret-token']).toBe('my_secret-42');
    expect(request?.headers['content-type']).toBe('application/json');
    expect(request?.update.update_id).toBe(1);
    expect(request?.update.message?.text).toBe('hi');
    expect(emulator.webhookInfo.pending_update_count).toBe(0);
    expect(emulator.webhookDeliveries[0]).toMatchObject({ updateId: 1, attempt: 1, ok: true, statusCode: 200 });
  });

  it('sends no secret header when no secret_token was set', async () => {
    await setup();
    emulator.sendMessage(10, 'hi');
    await deliveries(1);
    expect(hook.requests[0]?.headers['x-telegram-bot-api-secret-token']).toBeUndefined();
  });

  it('retries a failing update on the real schedule: at once, then 2, 4, 8, 16, 32 s, capped at 60-120 s', async () => {
    await setup();
    hook.reply = () => ({ status: 502 });
    emulator.sendMessage(10, 'hi');
    const delaysSeconds = [0, 2, 4, 8, 16, 32, 60, 60];
    for (const [index, delay] of delaysSeconds.entries()) {
      await deliveries(index + 1);
      const attempt = emulator.webhookDeliveries[index]!;
      expect(attempt).toMatchObject({ attempt: index + 1, ok: false, statusCode: 502 });
      expect(attempt.nextAttemptAt! - attempt.finishedAt).toBe(delay * 1000);
      if (delay > 0) {
        await clock.advance(delay * 1000 - 1);
        await settle();
        expect(hook.requests).toHaveLength(index + 1); // not a millisecond early
        await clock.advance(1);
      }
    }
    const info = emulator.webhookInfo;
    expect(info.last_error_message).toBe('Wrong response from the webhook: 502 Bad Gateway');
    expect(info.last_error_date).toBe(Math.floor(emulator.webhookDeliveries.at(-1)!.finishedAt / 1000));
    expect(info.pending_update_count).toBe(1);
  });

  it('picks the retry cap at random between 60 and 120 s', async () => {
    clock = createTestClock();
    emulator = await createBotApiEmulator({ clock, random: () => 0.5 });
    emulator.faults.webhookUnreachable();
    hook = await startHookServer();
    await call(emulator, 'setWebhook', { url: hook.url });
    emulator.sendMessage(1, 'x');
    for (let i = 0; i < 12; i++) {
      await settle();
      await clock.next();
    }
    const gaps = emulator.webhookDeliveries.map((d) => (d.nextAttemptAt ?? 0) - d.finishedAt);
    expect(gaps.slice(0, 9)).toEqual([0, 2000, 4000, 8000, 16000, 32000, 64000, 90000, 90000]);
  });

  it('honours Retry-After from the webhook instead of the backoff', async () => {
    await setup();
    hook.reply = () => ({ status: 429, headers: { 'retry-after': '7' } });
    emulator.sendMessage(10, 'hi');
    await deliveries(1);
    expect(emulator.webhookDeliveries[0]).toMatchObject({ retryAfterSeconds: 7, statusCode: 429 });
    expect(emulator.webhookDeliveries[0]!.nextAttemptAt! - emulator.webhookDeliveries[0]!.finishedAt).toBe(7000);
    hook.reply = () => ({ status: 200 });
    await clock.advance(6_999);
    await settle();
    expect(hook.requests).toHaveLength(1);
    await clock.advance(1);
    await deliveries(2);
    expect(emulator.webhookDeliveries[1]?.ok).toBe(true);
    expect(emulator.webhookInfo.last_error_message).toBe('Wrong response from the webhook: 429 Too Many Requests');
  });

  it('reports "Read timeout expired" when the webhook does not answer within webhookTimeoutMs (60 s)', async () => {
    await setup();
    hook.reply = () => ({ hang: true });
    emulator.sendMessage(10, 'hi');
    await eventually(() => expect(hook.open).toBe(1));
    await clock.advance(59_999);
    await settle();
    expect(emulator.webhookDeliveries).toHaveLength(0);
    await clock.advance(1);
    await deliveries(1);
    expect(emulator.webhookDeliveries[0]?.error).toBe('Read timeout expired');
    expect(emulator.webhookInfo.last_error_message).toBe('Read timeout expired');
  });

  it('reports "Connection refused" when nothing listens at the URL', async () => {
    clock = createTestClock();
    emulator = await createBotApiEmulator({ clock });
    hook = await startHookServer();
    const closed = http.createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const { port } = closed.address() as AddressInfo;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    await call(emulator, 'setWebhook', { url: `http://127.0.0.1:${port}/hook` });
    emulator.sendMessage(10, 'hi');
    await deliveries(1);
    expect(emulator.webhookInfo.last_error_message).toBe('Connection refused');
  });

  it('delivers updates of one chat in order; a failing update blocks only its own chat', async () => {
    await setup();
    let chatOneFails = true;
    hook.reply = ({ update }) => ({ status: update.message?.chat.id === 1 && chatOneFails ? 500 : 200 });
    emulator.sendMessage(1, 'a');
    emulator.sendMessage(1, 'b');
    emulator.sendMessage(2, 'c');
    await eventually(() => expect(hook.requests.map((r) => r.update.message?.text)).toEqual(['a', 'a', 'c']));
    await settle(20);
    expect(hook.requests).toHaveLength(3); // b waits behind a
    chatOneFails = false;
    await clock.advance(2_000);
    await eventually(() => expect(hook.requests.map((r) => r.update.message?.text)).toEqual(['a', 'a', 'c', 'a', 'b']));
    expect(emulator.webhookInfo.pending_update_count).toBe(0);
  });

  it('runs up to max_connections deliveries at once (after a first success), one per chat', async () => {
    await setup({ maxConnections: 3 });
    emulator.sendMessage(100, 'warm-up');
    await deliveries(1);
    const release: Array<() => void> = [];
    hook.reply = () => new Promise((resolve) => release.push(() => resolve({ status: 200 })));
    for (let chat = 1; chat <= 5; chat++) emulator.sendMessage(chat, `to ${chat}`);
    emulator.sendMessage(1, 'second in chat 1');
    await eventually(() => expect(hook.open).toBe(3));
    await settle(20);
    expect(hook.open).toBe(3);
    expect(hook.requests.slice(1).map((r) => r.update.message?.chat.id)).toEqual([1, 2, 3]);
    while (hook.requests.length < 7 || release.length > 0) {
      await eventually(() => expect(release.length).toBeGreaterThan(0));
      release.shift()?.();
      await settle();
    }
    const chatOne = hook.requests.filter((r) => r.update.message?.chat.id === 1).map((r) => r.update.message?.text);
    expect(chatOne).toEqual(['to 1', 'second in chat 1']);
    await eventually(() => expect(emulator.webhookInfo.pending_update_count).toBe(0));
  });

  it('sends only one update at a time until a delivery succeeds', async () => {
    await setup({ maxConnections: 5 });
    hook.reply = () => ({ hang: true });
    for (let chat = 1; chat <= 3; chat++) emulator.sendMessage(chat, 'x');
    await eventually(() => expect(hook.open).toBe(1));
    await settle(20);
    expect(hook.open).toBe(1);
  });

  it('drops an update that would expire before its next attempt (callback query: 150 s) and keeps messages', async () => {
    await setup();
    emulator.faults.webhookUnreachable();
    emulator.callbackQuery(1, 'press');
    emulator.sendMessage(2, 'message');
    for (let i = 0; i < 30 && clock.now() < Date.UTC(2026, 0, 1) + 300_000; i++) {
      await settle();
      await clock.next();
    }
    const dropped = emulator.webhookDeliveries.find((d) => d.dropped);
    expect(dropped?.updateId).toBe(1);
    expect(emulator.pendingUpdates.map((u: Update) => u.message?.text)).toEqual(['message']);
    expect(hook.requests).toHaveLength(0);
  });

  it('webhookUnreachable: Telegram cannot reach a running webhook until webhookReachable()', async () => {
    await setup();
    emulator.faults.webhookUnreachable('Failed to resolve host: Name or service not known');
    emulator.sendMessage(1, 'x');
    await deliveries(2);
    expect(hook.requests).toHaveLength(0);
    expect(emulator.webhookInfo.last_error_message).toBe('Failed to resolve host: Name or service not known');
    emulator.faults.webhookReachable();
    await clock.advance(2_000);
    await eventually(() => expect(hook.requests).toHaveLength(1));
    await eventually(() => expect(emulator.webhookInfo.pending_update_count).toBe(0));
  });

  it('runs a method the webhook answers with (webhook reply), but never get* or setWebhook', async () => {
    await setup();
    hook.reply = ({ update }) => ({
      status: 200,
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(
        update.message?.text === 'get'
          ? { method: 'setWebhook', url: '' }
          : { method: 'sendMessage', chat_id: update.message?.chat.id, text: 'via reply' },
      ),
    });
    emulator.sendMessage(5, 'hello');
    const reply = await emulator.waitForMessage((m) => m.chat.id === 5);
    expect(reply.text).toBe('via reply');
    emulator.sendMessage(6, 'get');
    await deliveries(2);
    expect(emulator.webhookInfo.url).toBe(hook.url);
  });

  it('deleteWebhook aborts a delivery in flight and the update stays pending for getUpdates', async () => {
    await setup();
    hook.reply = () => ({ hang: true });
    emulator.sendMessage(1, 'in flight');
    await eventually(() => expect(hook.open).toBe(1));
    await call(emulator, 'deleteWebhook');
    await eventually(() => expect(hook.open).toBe(0));
    const updates = (await call(emulator, 'getUpdates')).body.result as Update[];
    expect(updates.map((u) => u.message?.text)).toEqual(['in flight']);
  });

  it('setWebhook to a new URL aborts the delivery in flight and delivers the update to the new URL', async () => {
    await setup();
    hook.reply = () => ({ hang: true });
    emulator.sendMessage(1, 'moving');
    await eventually(() => expect(hook.open).toBe(1));
    const second = await startHookServer();
    try {
      await clock.advance(1000); // setWebhook is allowed once a second
      expect((await call(emulator, 'setWebhook', { url: second.url })).body.description).toBe('Webhook was set');
      await eventually(() => expect(second.requests.map((r) => r.update.message?.text)).toEqual(['moving']));
      await eventually(() => expect(hook.open).toBe(0));
      await eventually(() => expect(emulator.webhookInfo.pending_update_count).toBe(0));
    } finally {
      await second.close();
    }
  });

  it('deletes the webhook after it answered 410 Gone for more than 23 hours, so getUpdates works again', async () => {
    clock = createTestClock();
    // A 1 h retry cap keeps the number of attempts in 23 h small; a long read timeout stays out of the way.
    emulator = await createBotApiEmulator({
      clock,
      random: () => 0,
      webhookMaxRetryDelayMs: 3_600_000,
      webhookTimeoutMs: 30 * 24 * 3_600_000,
    });
    hook = await startHookServer();
    hook.reply = () => ({ status: 410 });
    await call(emulator, 'setWebhook', { url: hook.url });
    const start = clock.now();
    emulator.sendMessage(1, 'gone?');
    for (let i = 0; i < 100 && emulator.webhookInfo.url !== ''; i++) {
      await deliveries(i + 1);
      await settle();
      const last = emulator.webhookDeliveries[i]!;
      if (emulator.webhookInfo.url !== '' && last.nextAttemptAt! > clock.now()) {
        await clock.advance(last.nextAttemptAt! - clock.now());
      }
    }
    expect(emulator.webhookInfo.url).toBe('');
    const last = emulator.webhookDeliveries.at(-1)!;
    expect(last.error).toBe('Wrong response from the webhook: 410 Gone');
    expect(last.finishedAt - start).toBeGreaterThan(23 * 3_600_000);
    expect(emulator.webhookDeliveries.at(-2)!.finishedAt - start).toBeLessThanOrEqual(23 * 3_600_000);
    // The message could not outlive the next attempt (its 24 h lifetime): dropped at the same time.
    expect(last.dropped).toBe(true);
    emulator.sendMessage(2, 'polling now');
    const updates = (await call(emulator, 'getUpdates')).body.result as Update[];
    expect(updates.map((u) => u.message?.text)).toEqual(['polling now']);
  });
});
