import http from 'node:http';
import { type Clock, type ClockTimer, createTestClock, systemClock } from '@botkit/core';
import { describe, expect, it } from 'vitest';
import { createBotApiEmulator } from '../src/index.js';
import { call, settle, startHookServer, eventually } from './helpers.js';

describe('options and close()', () => {
  it('rejects invalid options with a TypeError naming the option', async () => {
    await expect(createBotApiEmulator({ token: 'not-a-token' })).rejects.toThrow(/token/);
    await expect(createBotApiEmulator({ port: -1 })).rejects.toThrow(/port/);
    await expect(createBotApiEmulator({ webhookTimeoutMs: 0 })).rejects.toThrow(/webhookTimeoutMs/);
    await expect(createBotApiEmulator({ webhookMaxRetryDelayMs: Number.NaN })).rejects.toThrow(
      /webhookMaxRetryDelayMs/,
    );
    await expect(createBotApiEmulator({ firstUpdateId: 0 })).rejects.toThrow(/firstUpdateId/);
    await expect(createBotApiEmulator({ updateLifetimesMs: { messages: 1 } as never })).rejects.toThrow(
      /updateLifetimesMs/,
    );
    await expect(createBotApiEmulator({ logLimit: 0 })).rejects.toThrow(/logLimit/);
    await expect(createBotApiEmulator({ clock: {} as never })).rejects.toThrow(/clock/);
  });

  it('starts at firstUpdateId and honours updateLifetimesMs overrides', async () => {
    const clock = createTestClock();
    const emulator = await createBotApiEmulator({ clock, firstUpdateId: 500, updateLifetimesMs: { message: 1000 } });
    try {
      emulator.sendMessage(1, 'a');
      expect(emulator.pendingUpdates[0]?.update_id).toBe(500);
      await clock.advance(1001);
      expect(emulator.pendingUpdates).toEqual([]);
    } finally {
      await emulator.close();
    }
  });

  it('close() ends a pending long poll and an in-flight webhook delivery, frees the port, and is idempotent', async () => {
    const clock = createTestClock();
    const emulator = await createBotApiEmulator({ clock });
    const hook = await startHookServer();
    try {
      const poll = call(emulator, 'getUpdates', { timeout: 50 });
      await emulator.waitForRequest('getUpdates');
      await settle();
      const waiting = emulator.waitForMessage(() => false).catch((error: unknown) => error);
      await emulator.close();
      await expect(poll).rejects.toThrow();
      expect(String(await waiting)).toMatch(/closed/);
      await emulator.close();
      expect(clock.pendingTimers).toBe(0);
      // The port is free again.
      const server = http.createServer();
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(emulator.port, '127.0.0.1', resolve);
      });
      await new Promise<void>((resolve) => server.close(() => resolve()));

      const second = await createBotApiEmulator({ clock });
      hook.reply = () => ({ hang: true });
      await call(second, 'setWebhook', { url: hook.url });
      second.sendMessage(1, 'x');
      await eventually(() => expect(hook.open).toBe(1));
      expect(clock.pendingTimers).toBe(1); // the read timeout
      await second.close();
      await eventually(() => expect(hook.open).toBe(0));
      expect(clock.pendingTimers).toBe(0);
      expect(() => second.sendMessage(1, 'late')).toThrow(/closed/);
    } finally {
      await hook.close();
    }
  });

  it('does not start when its signal is already aborted', async () => {
    const controller = new AbortController();
    controller.abort(new Error('cancelled'));
    await expect(createBotApiEmulator({ signal: controller.signal })).rejects.toThrow('cancelled');
  });

  it('supports await using', async () => {
    let port = 0;
    {
      await using emulator = await createBotApiEmulator();
      port = emulator.port;
      expect((await call(emulator, 'getMe')).status).toBe(200);
    }
    await expect(fetch(`http://127.0.0.1:${port}/`)).rejects.toThrow();
  });

  it('leaves no server, socket or timer behind after close() with the system clock', async () => {
    const count = () => {
      const info = process.getActiveResourcesInfo();
      return ['TCPServerWrap', 'TCPSocketWrap', 'Timeout'].map((kind) => info.filter((r) => r === kind).length);
    };
    // The emulator's own timers are unref'd (they never keep a process alive), so count them
    // through a clock that wraps the system clock.
    const pending = new Set<ClockTimer>();
    const clock: Clock = {
      now: () => Date.now(),
      setTimeout(callback, ms) {
        const timer = systemClock.setTimeout(() => {
          pending.delete(timer);
          callback();
        }, ms);
        pending.add(timer);
        return timer;
      },
      clearTimeout(timer) {
        pending.delete(timer);
        systemClock.clearTimeout(timer);
      },
    };
    await settle(10);
    const before = count();
    const emulator = await createBotApiEmulator({ clock, webhookTimeoutMs: 60_000 });
    const hook = await startHookServer();
    hook.reply = () => ({ hang: true });
    const poll = call(emulator, 'getUpdates', { timeout: 50 }).catch(() => undefined);
    await emulator.waitForRequest('getUpdates');
    await call(emulator, 'setWebhook', { url: hook.url }); // ends the poll
    await poll;
    emulator.sendMessage(1, 'stuck');
    await eventually(() => expect(hook.open).toBe(1));
    emulator.faults.inject('getMe', { kind: 'delay', delayMs: 30_000 });
    const delayed = call(emulator, 'getMe').catch(() => undefined);
    await emulator.waitForRequest('getMe');
    expect(pending.size).toBeGreaterThan(0);
    await emulator.close();
    await hook.close();
    await delayed;
    await settle(10);
    expect(pending.size).toBe(0);
    // Sockets close asynchronously: look again for a while (vi.waitFor would count its own timers).
    // Anything left from before (other tests' timers) may go away meanwhile: compare with at most.
    const leaked = () => count().some((n, i) => n > before[i]!);
    for (let i = 0; i < 50 && leaked(); i++) await new Promise((resolve) => setTimeout(resolve, 20));
    expect(count().map((n, i) => Math.max(0, n - before[i]!))).toEqual([0, 0, 0]);
  });
});
