import { FailoverErrorCode } from '@botkit/failover';
import { createBotApiEmulator } from '@botkit/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { checkExactlyOnceInOrder, createRig, type Rig, startRig } from './e2e-helpers.js';

const rigs: Rig[] = [];
afterEach(async () => {
  while (rigs.length) await rigs.pop()?.close();
});

async function rig(...args: Parameters<typeof createRig>) {
  const r = await createRig(...args);
  rigs.push(r);
  return r;
}

describe('failover against the Bot API emulator (test clock)', () => {
  it('with default settings: detects an unreachable webhook within 30 s, polls, returns, each update once', async () => {
    const r = await rig('grammy');
    await startRig(r);
    expect(r.failover.mode).toBe('webhook');
    expect(r.emulator.webhookInfo.url).toMatch(/\/tg$/);
    const sent: { updateId: number; chatId: number }[] = [];
    const say = (chatId: number) => {
      const m = r.emulator.sendMessage(chatId, `hello ${sent.length}`);
      sent.push({ updateId: r.emulator.pendingUpdates.at(-1)?.update_id ?? -1, chatId });
      return m;
    };
    // Traffic: one message per second.
    let talking = true;
    const traffic = () => {
      if (!talking) return;
      say(1 + (sent.length % 3));
      r.clock.setTimeout(traffic, 1000);
    };
    traffic();
    await r.run(5000);
    expect(r.received.every((i) => i.source === 'webhook')).toBe(true);
    expect(r.handled.length).toBeGreaterThan(0);

    const downAt = r.clock.now();
    r.emulator.faults.webhookUnreachable();
    await r.until(() => r.failover.mode === 'polling', 'fall-back to polling');
    const detected = r.clock.now() - downAt;
    expect(detected).toBeLessThanOrEqual(30_000);
    const switchedAt = r.clock.now();
    await r.until(() => r.received.some((i) => i.source === 'polling'), 'first update by polling');
    expect(r.clock.now() - switchedAt).toBeLessThanOrEqual(5000);
    expect(
      r.emulator.requests.some((q) => q.method === 'deleteWebhook' && q.params.drop_pending_updates === true),
    ).toBe(false);

    r.emulator.faults.webhookReachable();
    await r.until(() => r.failover.mode === 'webhook', 'return to the webhook');
    const returnedAt = r.clock.now();
    expect(returnedAt - switchedAt).toBeGreaterThanOrEqual(120_000); // minimum dwell in polling
    const before = r.received.length;
    await r.until(() => r.received.slice(before).some((i) => i.source === 'webhook'), 'first update by webhook');
    expect(r.clock.now() - returnedAt).toBeLessThanOrEqual(5000);
    await r.run(30_000);
    expect(r.failover.mode).toBe('webhook');
    expect(r.modes.map((m) => m.to)).toEqual(['webhook', 'polling', 'webhook']);

    // Let the last messages arrive, then check.
    talking = false;
    await r.until(() => r.emulator.pendingUpdates.length === 0, 'queue drained');
    expect(r.handled.length).toBe(sent.length);
    const result = checkExactlyOnceInOrder(r, sent);
    expect(result).toEqual({ missing: [], twice: [], outOfOrder: [] });
    expect(r.emulator.requests.some((q) => q.method === 'getUpdates' && Number(q.params.offset) < 0)).toBe(false);
    expect(r.errors.filter((e) => e.code !== FailoverErrorCode.HandlerTimeout)).toEqual([]);
  });

  it('does not fail over on errors of the app itself (500), and reports them', async () => {
    const r = await rig('grammy');
    await startRig(r);
    r.emulator.faults.webhookUnreachable('Wrong response from the webhook: 500 Internal Server Error');
    const traffic = () => {
      r.emulator.sendMessage(1, 'x');
      r.clock.setTimeout(traffic, 1000);
    };
    traffic();
    await r.run(60_000);
    expect(r.failover.mode).toBe('webhook');
    expect(r.errors.some((e) => e.code === FailoverErrorCode.WebhookAppError)).toBe(true);
    r.emulator.faults.webhookReachable();
  });

  it('stop() during handling: the handler finishes, the offset is confirmed, a restart gets no handled update again', async () => {
    const r = await rig('telegraf', { switching: { minPollingDwellMs: 3_600_000 } });
    await startRig(r);
    r.emulator.faults.webhookUnreachable();
    const traffic = () => {
      r.emulator.sendMessage(5, `m${r.clock.now()}`);
      r.clock.setTimeout(traffic, 1000);
    };
    traffic();
    await r.until(() => r.failover.mode === 'polling', 'fall-back');
    await r.until(() => r.received.some((i) => i.source === 'polling'), 'polling');
    const gate = r.hold();
    const count = r.handled.length;
    r.emulator.sendMessage(5, 'last');
    await r.until(() => r.handled.length > count, 'handler entered');
    const inHandler = r.handled.at(-1)!.updateId;
    let stopped = false;
    const stopping = r.failover.stop().then(() => {
      stopped = true;
    });
    await r.run(2000);
    expect(stopped).toBe(false); // waits for the handler
    gate.release();
    await r.until(() => stopped, 'stop()');
    await stopping;
    expect(r.failover.mode).toBe('stopped');
    // Confirmed: Telegram no longer holds any update that was handled.
    const handledIds = new Set(r.handled.map((h) => h.updateId));
    expect(r.emulator.pendingUpdates.filter((u) => handledIds.has(u.update_id))).toEqual([]);
    expect(handledIds.has(inHandler)).toBe(true);

    // A restart (fresh process: empty memory dedupe store) polls what is left, and nothing twice.
    const again: number[] = [];
    const { createFailover } = await import('@botkit/failover');
    const second = createFailover({
      token: r.emulator.token,
      apiRoot: r.emulator.apiRoot,
      adapter: async (u) => {
        again.push(u.update_id);
      },
      webhook: { url: 'http://127.0.0.1:9/tg', secretToken: 'restart_secret' },
      clock: r.clock,
    });
    let started = false;
    void second.start().then(() => {
      started = true;
    });
    await r.until(() => started, 'restart');
    await r.until(() => second.mode === 'polling' && again.length > 0, 'restarted failover polls');
    let done = false;
    void second.stop().then(() => {
      done = true;
    });
    await r.until(() => done, 'second stop');
    expect(again.filter((id) => handledIds.has(id))).toEqual([]);
  });

  it('a revoked token (401) rejects start() with BOTKIT_FAILOVER_UNAUTHORIZED and never shows the token', async () => {
    const emulator = await createBotApiEmulator();
    try {
      const { createFailover } = await import('@botkit/failover');
      const token = '987654321:AAWrongTokenWrongTokenWrongToken_x';
      const failover = createFailover({
        token,
        apiRoot: emulator.apiRoot,
        adapter: async () => {},
        webhook: { url: 'http://127.0.0.1:9/tg', secretToken: 'abc_DEF-123' },
      });
      const error = await failover.start().then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toMatchObject({ code: FailoverErrorCode.Unauthorized });
      expect(JSON.stringify(error) + String(error) + (error as Error).stack).not.toContain('AAWrongToken');
      expect(failover.mode).toBe('stopped');
    } finally {
      await emulator.close();
    }
  });
});

describe('flapping endpoint against the emulator (test clock, default settings)', () => {
  it('an endpoint toggling health every 5 s causes at most 6 mode changes per hour, and loses nothing', async () => {
    const r = await createRig('grammy', {}, { stepMs: 500 });
    rigs.push(r);
    await startRig(r);
    const start = r.clock.now();
    let up = true;
    let flapping = true;
    const toggle = () => {
      if (!flapping) return;
      up = !up;
      if (up) r.emulator.faults.webhookReachable();
      else r.emulator.faults.webhookUnreachable();
      r.clock.setTimeout(toggle, 5000);
    };
    // The adversarial phase: every 10-s check lands in a down phase, so detection fires and the
    // probation checks (every 5 s) see both phases.
    r.clock.setTimeout(toggle, 7300);
    let sent = 0;
    let talking = true;
    const traffic = () => {
      if (!talking) return;
      r.emulator.sendMessage(1 + (sent % 5), `#${sent}`);
      sent += 1;
      r.clock.setTimeout(traffic, 1000);
    };
    traffic();
    await r.run(3_600_000);
    talking = false;
    flapping = false;
    const changes = r.modes.filter((m) => m.from !== 'stopped' && m.at >= start).map((m) => m.at);
    const inAnyHour = Math.max(0, ...changes.map((t) => changes.filter((u) => u >= t && u < t + 3_600_000).length));
    console.info(`[toggle 5 s] ${changes.length} mode changes in 1 h: ${r.modes.map((m) => m.to).join(' ')}`);
    expect(changes.length).toBeGreaterThan(1); // it did react to the flapping
    expect(inAnyHour).toBeLessThanOrEqual(6);
    // Finally healthy: everything sent arrives exactly once.
    r.emulator.faults.webhookReachable();
    await r.until(() => r.handled.length >= sent && r.emulator.pendingUpdates.length === 0, 'drain', 7_200_000);
    expect(new Set(r.handled.map((h) => h.updateId)).size).toBe(sent);
    expect(r.handled).toHaveLength(sent);
  }, 120_000);
});
