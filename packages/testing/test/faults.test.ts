import { createBotApi, createTestClock, isBotkitError, type TelegramError } from '@botkit/core';
import type { Update } from '@grammyjs/types';
import { afterEach, describe, expect, it } from 'vitest';
import { type BotApiEmulator, createBotApiEmulator } from '../src/index.js';
import { call, settle } from './helpers.js';

let emulator: BotApiEmulator;
afterEach(async () => {
  await emulator?.close();
});

describe('fault injection', () => {
  it('answers 429 with retry_after in parameters and a Retry-After header, `times` calls only', async () => {
    emulator = await createBotApiEmulator();
    const fault = emulator.faults.inject(
      'sendMessage',
      { kind: 'error', errorCode: 429, retryAfterSeconds: 5 },
      { times: 1 },
    );
    const limited = await call(emulator, 'sendMessage', { chat_id: 1, text: 'x' });
    expect(limited.status).toBe(429);
    expect(limited.headers.get('retry-after')).toBe('5');
    expect(limited.body).toEqual({
      ok: false,
      error_code: 429,
      description: 'Too Many Requests: retry after 5',
      parameters: { retry_after: 5 },
    });
    expect(fault.hits).toBe(1);
    expect(fault.active).toBe(false);
    expect((await call(emulator, 'sendMessage', { chat_id: 1, text: 'x' })).status).toBe(200);
    expect(emulator.sentMessages).toHaveLength(1); // the failed call did nothing
  });

  it('a 429 is classified by @botkit/core as rate limited with retryAfterMs', async () => {
    emulator = await createBotApiEmulator();
    emulator.faults.inject('getMe', { kind: 'error', errorCode: 429, retryAfterSeconds: 3 });
    const api = createBotApi({ token: emulator.token, apiRoot: emulator.apiRoot });
    const error = await api.call('getMe').catch((e: unknown) => e);
    expect(isBotkitError(error, 'BOTKIT_TELEGRAM_RATE_LIMITED')).toBe(true);
    expect((error as TelegramError).retryAfterMs).toBe(3000);
  });

  it('answers 5xx errors for any method with "*", until removed', async () => {
    emulator = await createBotApiEmulator();
    const fault = emulator.faults.inject('*', { kind: 'error', errorCode: 502 });
    expect((await call(emulator, 'getMe')).body).toEqual({ ok: false, error_code: 502, description: 'Bad Gateway' });
    expect((await call(emulator, 'getUpdates')).status).toBe(502);
    expect(emulator.faults.active).toEqual([fault]);
    fault.remove();
    expect((await call(emulator, 'getMe')).status).toBe(200);
    expect(emulator.requests.map((r) => r.fault)).toEqual(['error', 'error', undefined]);
  });

  it('drop closes the connection without an answer; afterProcessing makes the call take effect first', async () => {
    emulator = await createBotApiEmulator();
    emulator.faults.inject('sendMessage', { kind: 'drop' }, { times: 1 });
    await expect(call(emulator, 'sendMessage', { chat_id: 1, text: 'lost' })).rejects.toThrow();
    expect(emulator.sentMessages).toHaveLength(0);
    emulator.faults.inject('sendMessage', { kind: 'drop', afterProcessing: true }, { times: 1 });
    await expect(call(emulator, 'sendMessage', { chat_id: 1, text: 'sent, answer lost' })).rejects.toThrow();
    expect(emulator.sentMessages.map((m) => m.text)).toEqual(['sent, answer lost']);
  });

  it('delay holds the answer for delayMs of clock time', async () => {
    const clock = createTestClock();
    emulator = await createBotApiEmulator({ clock });
    emulator.faults.inject('getMe', { kind: 'delay', delayMs: 5000 });
    let answered = false;
    const pending = call(emulator, 'getMe').then((a) => {
      answered = true;
      return a;
    });
    await emulator.waitForRequest('getMe');
    await settle();
    await clock.advance(4999);
    await settle();
    expect(answered).toBe(false);
    await clock.advance(1);
    expect((await pending).status).toBe(200);
  });

  it('refuseConnections makes the Bot API unreachable (ECONNREFUSED) until acceptConnections', async () => {
    emulator = await createBotApiEmulator();
    const api = createBotApi({ token: emulator.token, apiRoot: emulator.apiRoot });
    emulator.sendMessage(1, 'waiting');
    await emulator.faults.refuseConnections();
    expect(emulator.faults.refusingConnections).toBe(true);
    const error = await api.call('getMe').catch((e: unknown) => e);
    expect(isBotkitError(error, 'BOTKIT_TELEGRAM_NETWORK')).toBe(true);
    expect(String((error as Error).message)).toContain('ECONNREFUSED');
    await emulator.faults.acceptConnections();
    const updates = (await call(emulator, 'getUpdates')).body.result as Update[];
    expect(updates.map((u) => u.message?.text)).toEqual(['waiting']);
  });

  it('refuseConnections ends a waiting long poll (the server went away)', async () => {
    emulator = await createBotApiEmulator();
    const poll = call(emulator, 'getUpdates', { timeout: 30 });
    await emulator.waitForRequest('getUpdates');
    await settle();
    await emulator.faults.refuseConnections();
    await expect(poll).rejects.toThrow();
    expect(emulator.isPolling).toBe(false);
  });

  it('validates faults eagerly with a TypeError naming the field', async () => {
    emulator = await createBotApiEmulator();
    expect(() => emulator.faults.inject('getMe', { kind: 'error', errorCode: 200 })).toThrow(/errorCode/);
    expect(() => emulator.faults.inject('getMe', { kind: 'delay', delayMs: -1 })).toThrow(/delayMs/);
    expect(() => emulator.faults.inject('getMe', { kind: 'drop' }, { times: 0 })).toThrow(/times/);
    expect(() => emulator.faults.inject('', { kind: 'drop' })).toThrow(/method/);
    expect(() => emulator.faults.inject('getMe', { kind: 'explode' } as never)).toThrow(/kind/);
    expect(() => emulator.faults.inject('getMe', { kind: 'error', errorCode: 429, retryAfterSeconds: 1.5 })).toThrow(
      /retryAfterSeconds/,
    );
  });
});
