import { createTestClock } from '@botkit/core';
import type { Update } from '@grammyjs/types';
import { afterEach, describe, expect, it } from 'vitest';
import { type BotApiEmulator, createBotApiEmulator } from '../src/index.js';
import { call, settle, startHookServer, WAIT } from './helpers.js';

let emulator: BotApiEmulator;
afterEach(async () => {
  await emulator?.close();
});

const ids = (result: unknown) => (result as Update[]).map((u) => u.update_id);

describe('getUpdates', () => {
  it('hands out updates with sequential update_ids and keeps them until an offset confirms them', async () => {
    emulator = await createBotApiEmulator();
    for (const text of ['a', 'b', 'c']) emulator.sendMessage(1, text);
    expect(ids((await call(emulator, 'getUpdates')).body.result)).toEqual([1, 2, 3]);
    // Without an offset nothing is confirmed: the same updates come again.
    expect(ids((await call(emulator, 'getUpdates')).body.result)).toEqual([1, 2, 3]);
    // An offset higher than an update's id confirms and forgets it.
    expect(ids((await call(emulator, 'getUpdates', { offset: 3 })).body.result)).toEqual([3]);
    expect(ids((await call(emulator, 'getUpdates')).body.result)).toEqual([3]);
    expect(emulator.pendingUpdates.map((u) => u.update_id)).toEqual([3]);
    expect(ids((await call(emulator, 'getUpdates', { offset: 4 })).body.result)).toEqual([]);
    expect(emulator.pendingUpdates).toEqual([]);
  });

  it('with a negative offset returns the last -offset updates and forgets every earlier one', async () => {
    emulator = await createBotApiEmulator();
    for (let i = 0; i < 5; i++) emulator.sendMessage(1, `m${i}`);
    expect(ids((await call(emulator, 'getUpdates', { offset: -2 })).body.result)).toEqual([4, 5]);
    expect(ids((await call(emulator, 'getUpdates')).body.result)).toEqual([4, 5]);
    expect(ids((await call(emulator, 'getUpdates', { offset: -1 })).body.result)).toEqual([5]);
    expect(emulator.pendingUpdates.map((u) => u.update_id)).toEqual([5]);
  });

  it('ignores an offset more than 10 past the next update id ("in the future") and confirms nothing', async () => {
    emulator = await createBotApiEmulator();
    for (const text of ['a', 'b']) emulator.sendMessage(1, text);
    expect(ids((await call(emulator, 'getUpdates', { offset: 1000 })).body.result)).toEqual([1, 2]);
    expect(emulator.pendingUpdates).toHaveLength(2);
    // Up to 10 past the next id (3) is still taken as a confirmation of everything.
    expect(ids((await call(emulator, 'getUpdates', { offset: 13 })).body.result)).toEqual([]);
    expect(emulator.pendingUpdates).toHaveLength(0);
  });

  it('answers updates pushed together in one long-poll response', async () => {
    emulator = await createBotApiEmulator();
    const poll = call(emulator, 'getUpdates', { timeout: 30 });
    await emulator.waitForRequest('getUpdates');
    await settle();
    emulator.sendMessage(1, 'a');
    emulator.sendMessage(2, 'b');
    emulator.sendMessage(3, 'c');
    expect(ids((await poll).body.result)).toEqual([1, 2, 3]);
  });

  it('returns at most limit updates and clamps limit to 1-100 like the real server', async () => {
    emulator = await createBotApiEmulator();
    for (let i = 0; i < 120; i++) emulator.sendMessage(1, `m${i}`);
    expect(ids((await call(emulator, 'getUpdates', { limit: 2 })).body.result)).toEqual([1, 2]);
    expect((await call(emulator, 'getUpdates', { limit: 0 })).body.result).toHaveLength(1);
    expect((await call(emulator, 'getUpdates', { limit: 1000 })).body.result).toHaveLength(100);
    expect((await call(emulator, 'getUpdates')).body.result).toHaveLength(100);
  });

  it('long polls: holds the request until an update arrives and answers at once', async () => {
    const clock = createTestClock();
    emulator = await createBotApiEmulator({ clock });
    let answered = false;
    const poll = call(emulator, 'getUpdates', { timeout: 30 }).then((answer) => {
      answered = true;
      return answer;
    });
    await emulator.waitForRequest('getUpdates');
    await settle();
    expect(emulator.isPolling).toBe(true);
    expect(answered).toBe(false);
    emulator.sendMessage(5, 'hello');
    const answer = await poll;
    expect(ids(answer.body.result)).toEqual([1]);
    expect(emulator.isPolling).toBe(false);
  });

  it('long polls until timeout seconds pass on the clock, then answers an empty list', async () => {
    const clock = createTestClock();
    emulator = await createBotApiEmulator({ clock });
    let answered = false;
    const poll = call(emulator, 'getUpdates', { timeout: 10 }).then((answer) => {
      answered = true;
      return answer;
    });
    await emulator.waitForRequest('getUpdates');
    await settle();
    await clock.advance(9_999);
    await settle();
    expect(answered).toBe(false);
    await clock.advance(1);
    expect((await poll).body).toEqual({ ok: true, result: [] });
  });

  it('caps the long-poll timeout at 50 s', async () => {
    const clock = createTestClock();
    emulator = await createBotApiEmulator({ clock });
    const poll = call(emulator, 'getUpdates', { timeout: 3600 });
    await emulator.waitForRequest('getUpdates');
    await settle();
    await clock.advance(50_000);
    expect((await poll).body.result).toEqual([]);
  });

  it('a second waiting getUpdates terminates the first with 409 "terminated by other getUpdates request"', async () => {
    emulator = await createBotApiEmulator();
    const first = call(emulator, 'getUpdates', { timeout: 30 });
    await emulator.waitForRequest('getUpdates');
    await settle();
    // A call that answers at once does not end the waiting one.
    expect((await call(emulator, 'getUpdates', { timeout: 0 })).body.result).toEqual([]);
    expect(emulator.isPolling).toBe(true);
    const second = call(emulator, 'getUpdates', { timeout: 30 });
    const terminated = await first;
    expect(terminated.status).toBe(409);
    expect(terminated.body).toEqual({
      ok: false,
      error_code: 409,
      description: 'Conflict: terminated by other getUpdates request; make sure that only one bot instance is running',
    });
    emulator.sendMessage(1, 'x');
    expect(ids((await second).body.result)).toEqual([1]);
  });

  it('answers 409 while a webhook is set, and setWebhook terminates a waiting long poll', async () => {
    emulator = await createBotApiEmulator();
    const hook = await startHookServer();
    try {
      const poll = call(emulator, 'getUpdates', { timeout: 30 });
      await emulator.waitForRequest('getUpdates');
      await settle();
      expect((await call(emulator, 'setWebhook', { url: hook.url })).body.description).toBe('Webhook was set');
      expect((await poll).body).toEqual({
        ok: false,
        error_code: 409,
        description: 'Conflict: terminated by setWebhook request',
      });
      const blocked = await call(emulator, 'getUpdates');
      expect(blocked.status).toBe(409);
      expect(blocked.body.description).toBe(
        "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to delete the webhook first",
      );
      await call(emulator, 'deleteWebhook');
      expect((await call(emulator, 'getUpdates')).status).toBe(200);
    } finally {
      await hook.close();
    }
  });

  it('stops waiting when the client hangs up', async () => {
    emulator = await createBotApiEmulator();
    const controller = new AbortController();
    const poll = call(emulator, 'getUpdates', { timeout: 30 }, { signal: controller.signal });
    await emulator.waitForRequest('getUpdates');
    await settle();
    expect(emulator.isPolling).toBe(true);
    controller.abort();
    await expect(poll).rejects.toThrow();
    await expect.poll(() => emulator.isPolling, WAIT).toBe(false);
    // The update stays pending for the next poll.
    emulator.sendMessage(1, 'kept');
    expect(ids((await call(emulator, 'getUpdates')).body.result)).toEqual([1]);
  });

  it('allowed_updates: later updates of other types are discarded, an empty list restores the default', async () => {
    emulator = await createBotApiEmulator();
    await call(emulator, 'getUpdates', { allowed_updates: ['callback_query'] });
    emulator.sendMessage(1, 'ignored');
    const query = emulator.callbackQuery(1, 'pressed');
    const result = (await call(emulator, 'getUpdates')).body.result as Update[];
    expect(result).toHaveLength(1);
    expect(result[0]?.callback_query?.id).toBe(query.id);

    await call(emulator, 'getUpdates', { offset: result[0]!.update_id + 1, allowed_updates: [] });
    emulator.sendMessage(1, 'now allowed');
    expect(emulator.pushUpdate({ chat_member: {} } as never)).toBeUndefined(); // opt-in type, not in the default
    const after = (await call(emulator, 'getUpdates')).body.result as Update[];
    expect(after.map((u) => u.message?.text)).toEqual(['now allowed']);
  });

  it('drops an update whose lifetime passed: callback queries after 150 s, inline queries after 30 s, messages after 24 h', async () => {
    const clock = createTestClock();
    emulator = await createBotApiEmulator({ clock });
    emulator.callbackQuery(1, 'old');
    emulator.sendMessage(1, 'message');
    await clock.advance(150_001);
    const result = (await call(emulator, 'getUpdates')).body.result as Update[];
    expect(result.map((u) => (u.message ? 'message' : 'callback'))).toEqual(['message']);
    emulator.pushUpdate({
      inline_query: { id: 'q1', from: { id: 1, is_bot: false, first_name: 'A' }, query: 'cats', offset: '' },
    });
    expect(emulator.pendingUpdates.map((u) => Object.keys(u)[1])).toEqual(['message', 'inline_query']);
    await clock.advance(30_001); // inline queries live 30 s
    expect(emulator.pendingUpdates.map((u) => Object.keys(u)[1])).toEqual(['message']);
    await clock.advance(24 * 3600_000);
    expect((await call(emulator, 'getUpdates')).body.result).toEqual([]);
    expect(emulator.webhookInfo.pending_update_count).toBe(0);
  });
});
