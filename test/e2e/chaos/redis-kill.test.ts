/**
 * Chaos: Redis is SIGKILLed under a steady /count load and restarted on the same port. The
 * example keeps sessions in Redis behind a circuit breaker with an in-memory fallback, so users
 * keep getting answers (with a "degraded" note) during the outage; once Redis is back the breaker
 * closes, and the operator receives exactly one failure and one recovery alert for Redis.
 */
import { sleep } from '@botkit/core';
import type { HealthAlert } from '@botkit/health';
import { type RedisServer, startRedis, waitFor } from '@botkit/test-harness';
import { type BotApiEmulator, createBotApiEmulator } from '@botkit/testing';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { recordFigures } from './figures.js';
import {
  ADMIN_CHAT,
  type ExampleApp,
  FRAMEWORKS,
  Ledger,
  startLoad,
  tempDir,
  testConfig,
  createExampleApp,
} from './kit.js';

const DEGRADED_NOTE = '(Redis is away: counting in memory for now)';
const USERS = 10;
const FIRST_CHAT = 5000;

/** A ledger that also remembers when each update was sent and handled, for handler durations. */
class TimedLedger extends Ledger {
  /** update_id -> performance.now() when the user sent it. */
  readonly sentAt = new Map<number, number>();
  /** update_id -> performance.now() when the bot first finished handling it. */
  readonly handledAt = new Map<number, number>();

  /** The `onUpdateHandled` callback: records the time, then counts the handling. */
  readonly onTimedHandled = (updateId: number): void => {
    if (!this.handledAt.has(updateId)) this.handledAt.set(updateId, performance.now());
    this.onHandled(updateId);
  };

  override send(chatId: number, text: string): number {
    const id = super.send(chatId, text);
    this.sentAt.set(id, performance.now());
    return id;
  }

  /** Longest time from a user's message to the end of its handling, in ms. */
  maxHandlerMs(): number {
    let max = 0;
    for (const [id, sent] of this.sentAt) {
      const done = this.handledAt.get(id);
      if (done !== undefined) max = Math.max(max, done - sent);
    }
    return Math.round(max);
  }
}

let redis: RedisServer | undefined;
let emulator: BotApiEmulator | undefined;
let tmp: ReturnType<typeof tempDir> | undefined;
let app: ExampleApp | undefined;

beforeEach(async () => {
  redis = await startRedis();
  emulator = await createBotApiEmulator({ setWebhookIntervalMs: 0 });
  tmp = tempDir();
});

afterEach(async () => {
  await app?.stop('test finished').catch(() => {});
  app = undefined;
  await emulator?.close();
  await redis?.cleanup();
  tmp?.cleanup();
});

describe('chaos: Redis SIGKILL and restart under load', () => {
  for (const framework of FRAMEWORKS) {
    it(`${framework}: answers every /count (degraded during the outage), the breaker closes again, one alert each way`, async () => {
      if (!redis || !emulator || !tmp) throw new Error('setup failed');
      const server = redis;
      const ledger = new TimedLedger(emulator);
      const config = { ...(await testConfig(emulator, server.url, tmp.dir)), onUpdateHandled: ledger.onTimedHandled };
      app = await createExampleApp(framework, config);
      const alerts: HealthAlert[] = [];
      app.monitor.onAlert((alert) => {
        alerts.push(alert);
      });
      await app.start();
      const running = app;
      await waitFor(
        'Redis healthy before the chaos',
        () => running.monitor.status().probes.redis?.status === 'healthy',
      );

      const load = startLoad(ledger, { perSecond: 20, chats: USERS, firstChat: FIRST_CHAT, text: () => '/count' });
      let killedAt = 0;
      let restartedAt = 0;
      let closedAt = 0;
      let repliesBeforeClosedSettled = 0;
      try {
        await sleep(1_500);
        killedAt = performance.now();
        await server.kill();
        await waitFor('the breaker leaves closed', () => running.circuit.state !== 'closed', 10_000);
        await sleep(3_000);
        await server.restart();
        restartedAt = performance.now();
        await waitFor('the breaker closes again', () => running.circuit.state === 'closed', 15_000, 5);
        closedAt = performance.now();
        // Handlers that read the breaker before it closed may still be replying: give them a moment,
        // then every reply after this point must come from Redis again.
        await sleep(500);
        repliesBeforeClosedSettled = emulator.sentMessages.length;
        await sleep(2_500);
      } finally {
        await load.stop();
        if (restartedAt === 0) await server.restart().catch(() => {});
      }
      await ledger.settle(30_000);
      await waitFor('the recovery alert reached the admin chat', () => adminMessages().length >= 2, 15_000).catch(
        () => {}, // asserted below with the full list
      );
      // A few more health rounds: a late or repeated alert would show up here.
      await sleep(1_000);

      function adminMessages(): string[] {
        return (emulator?.sentMessages ?? []).filter((m) => m.chat.id === ADMIN_CHAT).map((m) => m.text ?? '');
      }
      const loadChats = (chat: number) => chat >= FIRST_CHAT && chat < FIRST_CHAT + USERS;
      const countReplies = emulator.sentMessages.filter((m) => loadChats(m.chat.id));
      const degradedReplies = countReplies.filter((m) => m.text?.endsWith(DEGRADED_NOTE)).length;
      const lateReplies = emulator.sentMessages.slice(repliesBeforeClosedSettled).filter((m) => loadChats(m.chat.id));
      const figures = {
        sent: ledger.sent.size,
        handled: ledger.handledCount,
        lost: ledger.lost.length,
        duplicated: ledger.duplicated,
        degradedReplies,
        maxHandlerMs: ledger.maxHandlerMs(),
        outageMs: Math.round(restartedAt - killedAt),
        msToBreakerClosed: Math.round(closedAt - restartedAt),
        failureAlerts: alerts.filter((a) => a.kind === 'failed').length,
        recoveryAlerts: alerts.filter((a) => a.kind === 'recovered').length,
        adminMessages: adminMessages().length,
      };
      recordFigures({ scenario: 'Redis SIGKILL and restart under load', framework, figures });

      // No hung handler, nothing lost or handled twice, exactly one reply per message.
      expect(figures.sent).toBeGreaterThan(100);
      expect(figures.lost).toBe(0);
      expect(figures.duplicated).toBe(0);
      expect(figures.handled).toBe(figures.sent);
      expect(running.updates.inFlight).toBe(0);
      for (let chat = FIRST_CHAT; chat < FIRST_CHAT + USERS; chat++) {
        const sentHere = [...ledger.sent.values()].filter((c) => c === chat).length;
        expect(ledger.repliesIn(chat), `replies in chat ${chat}`).toBe(sentHere);
      }
      expect(countReplies.every((m) => /^Count: \d+/.test(m.text ?? ''))).toBe(true);
      // Users were answered in degraded mode during the outage, and from Redis once it was back.
      expect(figures.degradedReplies).toBeGreaterThan(0);
      expect(running.circuit.state).toBe('closed');
      expect(lateReplies.length).toBeGreaterThan(10);
      expect(lateReplies.filter((m) => m.text?.includes(DEGRADED_NOTE))).toEqual([]);
      // One outage, one failure and one recovery: only the `redis` probe alerts (the breaker's own
      // probe reports `degraded` while the fallback serves, which is not an alert), no flapping.
      expect(alerts.map((a) => `${a.probe}:${a.kind}`)).toEqual(['redis:failed', 'redis:recovered']);
      expect(adminMessages()).toEqual([
        expect.stringMatching(/🔴 redis is unhealthy/),
        expect.stringMatching(/🟢 redis recovered/),
      ]);
    });
  }
});
