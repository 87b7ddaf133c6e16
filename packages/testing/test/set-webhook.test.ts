import { createTestClock, type TestClock } from '@botkit/core';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type BotApiEmulator, createBotApiEmulator } from '../src/index.js';
import { call, type HookServer, startHookServer } from './helpers.js';

let emulator: BotApiEmulator;
let hook: HookServer;
let clock: TestClock;
beforeEach(async () => {
  clock = createTestClock();
  emulator = await createBotApiEmulator({ clock });
  hook = await startHookServer();
  hook.reply = () => ({ hang: true }); // keep updates pending while we look at them
});
afterEach(async () => {
  await emulator.close();
  await hook.close();
});

/** setWebhook one second after the previous call (Telegram allows one per second). */
async function setWebhook(params: Record<string, unknown>) {
  await clock.advance(1000);
  return call(emulator, 'setWebhook', params);
}

describe('setWebhook / deleteWebhook / getWebhookInfo', () => {
  it('stores url, max_connections and allowed_updates and reports them in getWebhookInfo', async () => {
    const set = await setWebhook({
      url: hook.url,
      max_connections: 7,
      allowed_updates: ['message', 'callback_query'],
      secret_token: 'abc_DEF-123',
    });
    expect(set.body).toEqual({ ok: true, result: true, description: 'Webhook was set' });
    const info = (await call(emulator, 'getWebhookInfo')).body.result;
    expect(info).toEqual({
      url: hook.url,
      has_custom_certificate: false,
      pending_update_count: 0,
      ip_address: '127.0.0.1',
      max_connections: 7,
      allowed_updates: ['message', 'callback_query'],
    });
    expect(emulator.webhookInfo).toEqual(info);
  });

  it('clamps max_connections to 1-100 and defaults it to 40', async () => {
    await setWebhook({ url: hook.url });
    expect(emulator.webhookInfo.max_connections).toBe(40);
    await setWebhook({ url: hook.url, max_connections: 1000 });
    expect(emulator.webhookInfo.max_connections).toBe(100);
    await setWebhook({ url: hook.url, max_connections: 0 });
    expect(emulator.webhookInfo.max_connections).toBe(1);
  });

  it('answers "Webhook is already set" to identical parameters', async () => {
    await setWebhook({ url: hook.url, secret_token: 's1' });
    const again = await setWebhook({ url: hook.url, secret_token: 's1' });
    expect(again.body).toEqual({ ok: true, result: true, description: 'Webhook is already set' });
    const changed = await setWebhook({ url: hook.url, secret_token: 's2' });
    expect(changed.body.description).toBe('Webhook was set');
  });

  it('validates secret_token: 1-256 characters of A-Za-z0-9_-', async () => {
    for (const bad of ['a b', 'a.b', 'секрет', 'a+b/c=']) {
      const answer = await setWebhook({ url: hook.url, secret_token: bad });
      expect(answer.status).toBe(400);
      expect(answer.body).toEqual({
        ok: false,
        error_code: 400,
        description: 'Bad Request: secret token contains unallowed characters',
      });
    }
    const long = await setWebhook({ url: hook.url, secret_token: 'a'.repeat(257) });
    expect(long.body).toEqual({ ok: false, error_code: 400, description: 'Bad Request: secret token is too long' });
    expect((await setWebhook({ url: hook.url, secret_token: 'a'.repeat(256) })).status).toBe(200);
    expect(emulator.webhookInfo.url).toBe(hook.url);
  });

  it('rejects a URL that is not http(s)', async () => {
    const answer = await setWebhook({ url: 'ftp://example.com/hook' });
    expect(answer.body).toEqual({
      ok: false,
      error_code: 400,
      description: 'Bad Request: invalid webhook URL specified',
    });
    expect(emulator.webhookInfo.url).toBe('');
  });

  it('drop_pending_updates on setWebhook forgets queued updates', async () => {
    emulator.sendMessage(1, 'old');
    await setWebhook({ url: hook.url, drop_pending_updates: true });
    expect(emulator.webhookInfo.pending_update_count).toBe(0);
  });

  it('deleteWebhook keeps pending updates unless asked to drop them', async () => {
    emulator.faults.webhookUnreachable();
    await setWebhook({ url: hook.url });
    emulator.sendMessage(1, 'one');
    emulator.sendMessage(2, 'two');
    expect(emulator.webhookInfo.pending_update_count).toBe(2);
    expect((await call(emulator, 'deleteWebhook')).body).toEqual({
      ok: true,
      result: true,
      description: 'Webhook was deleted',
    });
    expect(emulator.webhookInfo).toEqual({ url: '', has_custom_certificate: false, pending_update_count: 2 });
    expect((await call(emulator, 'deleteWebhook')).body.description).toBe('Webhook is already deleted');
    await call(emulator, 'deleteWebhook', { drop_pending_updates: true });
    expect(emulator.webhookInfo.pending_update_count).toBe(0);
  });

  it('answers 429 "retry after 1" to a second setWebhook within a second', async () => {
    await setWebhook({ url: hook.url });
    const tooSoon = await call(emulator, 'setWebhook', { url: hook.url });
    expect(tooSoon.status).toBe(429);
    expect(tooSoon.body).toEqual({
      ok: false,
      error_code: 429,
      description: 'Too Many Requests: retry after 1',
      parameters: { retry_after: 1 },
    });
    await clock.advance(999);
    expect((await call(emulator, 'setWebhook', { url: hook.url })).status).toBe(429);
    await clock.advance(1);
    expect((await call(emulator, 'setWebhook', { url: hook.url })).body.description).toBe('Webhook is already set');
    // deleteWebhook is never limited.
    expect((await call(emulator, 'deleteWebhook')).status).toBe(200);
  });

  it('drop_pending_updates with identical parameters drops and sets again', async () => {
    await setWebhook({ url: hook.url });
    emulator.faults.webhookUnreachable();
    emulator.sendMessage(1, 'old');
    const again = await setWebhook({ url: hook.url, drop_pending_updates: true });
    expect(again.body.description).toBe('Webhook was set');
    expect(emulator.webhookInfo.pending_update_count).toBe(0);
  });

  it('reports allowed_updates whenever they differ from the default, also without a webhook', async () => {
    expect(emulator.webhookInfo.allowed_updates).toBeUndefined();
    await call(emulator, 'getUpdates', { allowed_updates: ['Callback_Query', 'message', 'no_such_type'] });
    expect(emulator.webhookInfo.allowed_updates).toEqual(['message', 'callback_query']);
    await call(emulator, 'getUpdates', { allowed_updates: [1, 'message'] }); // not a list of strings: unchanged
    expect(emulator.webhookInfo.allowed_updates).toEqual(['message', 'callback_query']);
    await call(emulator, 'getUpdates', { allowed_updates: [] });
    expect(emulator.webhookInfo.allowed_updates).toBeUndefined();
  });

  it('setWebhook with an empty url deletes the webhook', async () => {
    await setWebhook({ url: hook.url });
    expect((await setWebhook({ url: '' })).body.description).toBe('Webhook was deleted');
    expect(emulator.webhookInfo.url).toBe('');
  });
});
