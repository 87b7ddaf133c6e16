/**
 * Chaos: the webhook flaps while a steady load flows, for both example apps. Three outages of
 * different kinds (Telegram's connections refused; a proxy in front of the bot that loses the
 * bot's answers, so Telegram redelivers updates already handled; connections timing out), each
 * repaired right after the fall-back. The failover must switch webhook -> polling -> webhook each
 * time and still hand every update to the bot exactly once, in per-chat order, one answer each.
 *
 * The load is `/count` from ~20 users, so the answers carry state kept in real Redis: a user's
 * answers must read `Count: 1`, `Count: 2`, ... `Count: n` in order, which fails on a lost, a
 * duplicated or a reordered update as well as on a lost or doubled reply.
 */
import { sleep } from '@botkit/core';
import { type RedisServer, startRedis, waitFor } from '@botkit/test-harness';
import { type BotApiEmulator, createBotApiEmulator } from '@botkit/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startWebhookProxy, type WebhookProxy } from './failover-flaps-support.js';
import { recordFigures } from './figures.js';
import {
  createExampleApp,
  type ExampleApp,
  FAST,
  type Framework,
  FRAMEWORKS,
  Ledger,
  type Load,
  startLoad,
  tempDir,
  testConfig,
} from './kit.js';

const CHATS = 20;
const PER_SECOND = 25;
/** Full webhook -> polling -> webhook trips per framework (the example allows 12 changes an hour). */
const ROUND_TRIPS = 3;

/** A way the webhook breaks, and its repair. */
interface Outage {
  name: string;
  break(): void;
  repair(): void;
}

/** The outages of the scenario, used in turn: refused, answers lost behind a proxy, timed out. */
function outages(emulator: BotApiEmulator, proxy: WebhookProxy): Outage[] {
  /** Telegram's deliveries fail with `message` without reaching the bot. */
  const unreachable = (message: string): Outage => ({
    name: message,
    break: () => emulator.faults.webhookUnreachable(message),
    repair: () => emulator.faults.webhookReachable(),
  });
  return [
    unreachable('Connection refused'),
    {
      name: 'answers lost behind a proxy (502)',
      break: () => {
        proxy.lossy = true;
      },
      repair: () => {
        proxy.lossy = false;
      },
    },
    unreachable('Connection timed out'),
  ];
}

let redis: RedisServer;

beforeAll(async () => {
  redis = await startRedis();
});
afterAll(async () => {
  await redis?.cleanup();
});

/** One mode change as the failover reported it, with the wall time it happened. */
interface ModeChange {
  from: string;
  to: string;
  reason: string;
  at: number;
}

/** Groups update_ids by the chat they were sent in, keeping their order. */
function byChat(ids: Iterable<number>, chatOf: ReadonlyMap<number, number>): Map<number, number[]> {
  const groups = new Map<number, number[]>();
  for (const id of ids) {
    const chat = chatOf.get(id);
    if (chat === undefined) continue;
    const list = groups.get(chat) ?? [];
    list.push(id);
    groups.set(chat, list);
  }
  return groups;
}

/** Runs the scenario for one framework; returns nothing, asserts and records figures. */
async function flapsUnderLoad(framework: Framework, firstChat: number): Promise<void> {
  const started = performance.now();
  const tmp = tempDir();
  let emulator: BotApiEmulator | undefined;
  let app: ExampleApp | undefined;
  let load: Load | undefined;
  let proxy: WebhookProxy | undefined;
  try {
    emulator = await createBotApiEmulator();
    const ledger = new Ledger(emulator);
    const handledOrder: number[] = [];
    const config = await testConfig(emulator, redis.url, tmp.dir);
    // Telegram reaches the bot through a proxy (the bot still listens on its own port).
    proxy = await startWebhookProxy(config.webhook!.port);
    config.webhook = { ...config.webhook!, url: `${proxy.url}/telegram` };
    // This scenario is about the transport: give Redis commands room on a busy 2-core machine, so
    // the breaker does not open on a scheduling hiccup and turn the counts into in-memory ones.
    config.timings = { ...FAST, redisCommandTimeoutMs: 2_000 };
    config.onUpdateHandled = (id) => {
      ledger.onHandled(id);
      handledOrder.push(id);
    };
    app = await createExampleApp(framework, config);
    const failover = app.failover;
    if (!failover) throw new Error('the example runs without a failover although a webhook is configured');
    const changes: ModeChange[] = [];
    const received = { webhook: 0, polling: 0 };
    let duplicatesSkipped = 0;
    failover.on('modeChange', (from, to, reason) => changes.push({ from, to, reason, at: performance.now() }));
    failover.on('updateReceived', (info) => {
      received[info.source] += 1;
    });
    failover.on('duplicateSkipped', () => {
      duplicatesSkipped += 1;
    });
    let circuitOpened = 0;
    app.circuit.on('stateChange', (_from, to) => {
      if (to === 'open') circuitOpened += 1;
    });
    await app.start();
    expect(app.mode).toBe('webhook');

    const loadStarted = performance.now();
    load = startLoad(ledger, { perSecond: PER_SECOND, chats: CHATS, firstChat, text: () => '/count' });
    const em = emulator;
    const a = app;
    await waitFor('the load flowing through the webhook', () => received.webhook >= CHATS, 15_000);
    const fallbackMs: number[] = [];
    const returnMs: number[] = [];
    const kinds = outages(em, proxy);
    for (let trip = 0; trip < ROUND_TRIPS; trip++) {
      const outage = kinds[trip % kinds.length]!;
      const brokeAt = performance.now();
      outage.break();
      await waitFor(`fall-back to polling #${trip + 1} (${outage.name})`, () => a.mode === 'polling', 20_000);
      fallbackMs.push(performance.now() - brokeAt);
      const polledBefore = received.polling;
      outage.repair(); // at once: the return waits for the policy's dwell
      await waitFor(`return to the webhook #${trip + 1}`, () => a.mode === 'webhook', 20_000);
      returnMs.push(performance.now() - brokeAt);
      expect(received.polling, 'updates flowed through polling while the webhook was away').toBeGreaterThan(
        polledBefore,
      );
      // Let the probation pass with updates flowing through the webhook, so the next outage is a
      // fresh fall-back (no doubled dwell) and the webhook demonstrably carries traffic again.
      const viaWebhook = received.webhook;
      await sleep(FAST.probationMs + 500);
      await waitFor('updates through the webhook again', () => received.webhook > viaWebhook + CHATS, 15_000);
      expect(a.mode).toBe('webhook');
    }
    await load.stop();
    const loadSeconds = (performance.now() - loadStarted) / 1000;
    await ledger.settle(30_000);
    const sentPerChat = byChat(ledger.sent.keys(), ledger.sent);
    /** Answers the bot sent in the load's chats. */
    const replies = () => [...sentPerChat.keys()].reduce((n, chat) => n + ledger.repliesIn(chat), 0);
    await waitFor('every message answered', () => replies() >= ledger.sent.size, 15_000);
    await waitFor('nothing left for Telegram to deliver', () => em.pendingUpdates.length === 0, 15_000);
    await sleep(300); // a late redelivery or a stray second answer would show up here

    const handledPerChat = byChat(handledOrder, ledger.sent);
    const outOfOrder = [...sentPerChat].filter(
      ([chat, ids]) => JSON.stringify(handledPerChat.get(chat) ?? []) !== JSON.stringify(ids),
    ).length;
    const countsWrong = [...sentPerChat].filter(([chat, ids]) => {
      const texts = em.sentMessages.filter((m) => m.chat.id === chat).map((m) => m.text);
      return JSON.stringify(texts) !== JSON.stringify(ids.map((_, i) => `Count: ${i + 1}`));
    }).length;
    const switches = changes.filter((c) => c.from !== 'stopped' && c.to !== 'stopped');
    const figures = {
      sent: ledger.sent.size,
      handled: ledger.handledCount,
      lost: ledger.lost.length,
      duplicated: ledger.duplicated,
      replies: replies(),
      modeChanges: switches.length,
      viaWebhook: received.webhook,
      viaPolling: received.polling,
      duplicatesSkipped,
      answersLostByProxy: proxy.answersLost,
      outOfOrderChats: outOfOrder,
      wrongCountChats: countsWrong,
      circuitOpened,
      avgFallbackSeconds: Number((fallbackMs.reduce((s, v) => s + v, 0) / fallbackMs.length / 1000).toFixed(2)),
      avgRoundTripSeconds: Number((returnMs.reduce((s, v) => s + v, 0) / returnMs.length / 1000).toFixed(2)),
      loadSeconds: Number(loadSeconds.toFixed(1)),
      wallSeconds: Number(((performance.now() - started) / 1000).toFixed(1)),
    };
    recordFigures({ scenario: 'failover flaps under load', framework, figures });

    expect(figures.lost).toBe(0);
    expect(figures.duplicated).toBe(0);
    expect(figures.handled).toBe(figures.sent);
    expect(figures.sent).toBeGreaterThan(PER_SECOND * 5);
    // Handled exactly the sent updates: nothing else reached the handlers.
    expect(handledOrder.filter((id) => !ledger.sent.has(id))).toEqual([]);
    expect(figures.outOfOrderChats).toBe(0);
    expect(figures.replies).toBe(figures.sent);
    expect(figures.wrongCountChats).toBe(0);
    expect(switches.map((c) => `${c.from}->${c.to}`)).toEqual(
      Array.from({ length: ROUND_TRIPS }, () => ['webhook->polling', 'polling->webhook']).flat(),
    );
    expect(figures.modeChanges).toBeGreaterThanOrEqual(4);
    expect(figures.viaPolling).toBeGreaterThan(0);
    // The lossy proxy made Telegram redeliver updates the bot had handled: dedupe absorbed them all.
    expect(figures.answersLostByProxy).toBeGreaterThan(0);
    expect(figures.duplicatesSkipped).toBeGreaterThan(0);
    expect(figures.viaWebhook + figures.viaPolling).toBe(figures.sent);
  } finally {
    await load?.stop();
    await app?.stop('test finished');
    await proxy?.close();
    await emulator?.close();
    tmp.cleanup();
  }
}

describe('chaos: failover flaps under load', () => {
  it.each(FRAMEWORKS.map((f, i) => [f, 1000 + i * 100] as const))(
    '%s: three webhook -> polling -> webhook trips under 25 msg/s: 0 lost, 0 duplicated, per-chat order, one answer each',
    (framework, firstChat) => flapsUnderLoad(framework, firstChat),
    60_000,
  );
});
