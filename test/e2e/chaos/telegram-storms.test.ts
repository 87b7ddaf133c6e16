/**
 * Chaos: Telegram 429 storms and 5xx bursts from the emulator during a steady load, for both
 * frameworks and both transports (webhook through the failover, the framework's own polling).
 * The examples retry Telegram calls with @botkit/circuit's `telegram` preset; the pollers wait
 * `retry_after` on getUpdates themselves. From the emulator's request log: every 429 is followed
 * by the same call (same method and chat) no sooner than `retry_after`, every message is answered
 * exactly once, and nothing is handled twice.
 */
import { sleep } from '@botkit/core';
import { type RedisServer, startRedis, waitFor } from '@botkit/test-harness';
import { type BotApiEmulator, createBotApiEmulator, type InjectedFault, type RecordedRequest } from '@botkit/testing';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { recordFigures } from './figures.js';
import {
  createExampleApp,
  type ExampleApp,
  FRAMEWORKS,
  type Framework,
  Ledger,
  startLoad,
  tempDir,
  testConfig,
} from './kit.js';

/** The flood wait every injected 429 asks for. */
const RETRY_AFTER_S = 1;
const FIRST_CHAT = 7_000;
const CHATS = 10;

let redisServer: RedisServer | undefined;
beforeAll(async () => {
  redisServer = await startRedis();
});
afterAll(async () => {
  await redisServer?.cleanup();
});

/** Whether a call went to one of the load's chats. */
function isLoadChat(r: RecordedRequest): boolean {
  const chat = Number(r.params.chat_id);
  return chat >= FIRST_CHAT && chat < FIRST_CHAT + CHATS;
}

/**
 * Whether `b` is the same call as `a` made again: same method, same chat and, for messages, the
 * same text (each reply is unique: `Saved note #<id>`). Telegraf handles a polled batch
 * concurrently, so another message's reply in the same chat is not a retry of this one.
 */
function isSameCall(a: RecordedRequest, b: RecordedRequest): boolean {
  return (
    a.method === b.method && String(a.params.chat_id) === String(b.params.chat_id) && a.params.text === b.params.text
  );
}

/** The next time the call `requests[index]` was made again. */
function nextSameCall(requests: readonly RecordedRequest[], index: number): RecordedRequest | undefined {
  return requests.slice(index + 1).find((r) => isSameCall(requests[index]!, r));
}

/** Faults injected by the scenario, by status code, to count what hit. */
class Storms {
  readonly injected: { code: number; method: string; fault: InjectedFault; times: number }[] = [];

  constructor(private readonly emulator: BotApiEmulator) {}

  /** Makes the next `times` calls of `method` fail with `code` (429 asks to wait RETRY_AFTER_S). */
  inject(method: string, code: number, times: number): void {
    const fault = this.emulator.faults.inject(
      method,
      code === 429
        ? { kind: 'error', errorCode: 429, retryAfterSeconds: RETRY_AFTER_S }
        : { kind: 'error', errorCode: code },
      { times },
    );
    this.injected.push({ code, method, fault, times });
  }

  /**
   * Injects a fault like {@link Storms.inject}, waits until it hit `times` calls and every failed
   * reply or poll went through on a retry, then lets 300 ms of calm traffic pass: a sequential
   * poller would otherwise meet the next burst inside the same call's backoff.
   */
  async burst(method: string, code: number, times: number): Promise<void> {
    this.inject(method, code, times);
    const { fault } = this.injected.at(-1)!;
    await waitFor(`${times} × ${code} on ${method}`, () => fault.hits === times && this.recovered(), 20_000);
    await sleep(300);
  }

  /** Whether every failed load reply and poll so far was later made again successfully. */
  recovered(): boolean {
    const requests = this.emulator.requests;
    return requests.every(
      (r, i) =>
        r.fault !== 'error' ||
        !(r.method === 'getUpdates' || (r.method === 'sendMessage' && isLoadChat(r))) ||
        requests.slice(i + 1).some((n) => n.status === 200 && isSameCall(r, n)),
    );
  }

  /** Calls the faults of `code` (or of 5xx when `code` is 500) answered. */
  hits(code: 429 | 500): number {
    return this.injected
      .filter((f) => (code === 429 ? f.code === 429 : f.code >= 500))
      .reduce((sum, f) => sum + f.fault.hits, 0);
  }
}

// The four runs are independent (own emulator, app and files): run them at once to bound the wall time.
describe.concurrent.each(FRAMEWORKS)('chaos: Telegram 429 storms and 5xx bursts (%s)', (framework: Framework) => {
  for (const transport of ['webhook', 'polling'] as const) {
    it(`${transport}: every 429 waited retry_after, every message answered exactly once`, {
      timeout: 45_000,
    }, async ({ expect }) => {
      const emulator = await createBotApiEmulator({ setWebhookIntervalMs: 0 });
      const tmp = tempDir();
      const ledger = new Ledger(emulator);
      const storms = new Storms(emulator);
      let app: ExampleApp | undefined;
      try {
        const config = await testConfig(emulator, redisServer!.url, tmp.dir, { webhook: transport === 'webhook' });
        const problems: string[] = []; // warnings and errors of the app, shown when an assertion fails
        const note = (fields: unknown, msg?: string) => {
          const err = (fields as { err?: unknown } | null)?.err;
          problems.push(`${msg ?? String(fields)} ${err instanceof Error ? err.message : JSON.stringify(fields)}`);
        };
        const logger = { debug: () => {}, info: () => {}, warn: note, error: note };
        app = await createExampleApp(framework, { ...config, logger, onUpdateHandled: ledger.onHandled });
        // Telegram is flooded already when the bot starts: its first calls are retried too.
        if (transport === 'webhook') storms.inject('setWebhook', 429, 1);
        else storms.inject('deleteWebhook', 502, 1);
        await app.start();
        expect(app.mode).toBe(transport);

        const load = startLoad(ledger, {
          perSecond: 10,
          chats: CHATS,
          firstChat: FIRST_CHAT,
          text: (i) => `/note storm-${i}`, // one SQLite row and one unique reply each
        });
        await sleep(300);
        // Storms and bursts one after the other, each until it has hit every call it was sized for
        // (a sequential poller meets all of a burst in one handler), with calm traffic in between.
        await storms.burst('sendMessage', 429, 5); // a flood-wait storm: more 429s in a row than the preset's 3 retries
        if (transport === 'polling') await storms.burst('getUpdates', 429, 2);
        await storms.burst('sendMessage', 500, 2);
        if (transport === 'webhook') await storms.burst('getWebhookInfo', 502, 3); // the failover's detection
        await storms.burst('sendMessage', 502, 2);
        if (transport === 'polling') await storms.burst('getUpdates', 502, 1);
        await load.stop();
        await ledger.settle(30_000);
        await app.stop('test finished');

        // ---- what the emulator saw -----------------------------------------------------------
        const requests = emulator.requests;
        let retries = 0;
        let minMarginMs = Number.POSITIVE_INFINITY;
        const notRetried: string[] = [];
        const tooSoon: string[] = [];
        requests.forEach((r, i) => {
          if (r.fault !== 'error') return;
          const next = nextSameCall(requests, i);
          if (next) retries++;
          const mustRetry = r.method !== 'getWebhookInfo' && (r.method !== 'sendMessage' || isLoadChat(r));
          if (!next) {
            if (mustRetry) notRetried.push(`${r.method} ${r.status} chat ${r.params.chat_id ?? '-'}`);
            return;
          }
          if (r.status !== 429) return;
          const margin = next.at - r.at - RETRY_AFTER_S * 1000;
          minMarginMs = Math.min(minMarginMs, margin);
          if (margin < 0) tooSoon.push(`${r.method} chat ${r.params.chat_id ?? '-'}: again after ${next.at - r.at} ms`);
        });
        const replies = emulator.sentMessages.filter(
          (m) => m.chat.id >= FIRST_CHAT && m.chat.id < FIRST_CHAT + CHATS,
        ).length;
        const repliesPerChat = new Map<number, number>();
        const sentPerChat = new Map<number, number>();
        for (const m of emulator.sentMessages) repliesPerChat.set(m.chat.id, (repliesPerChat.get(m.chat.id) ?? 0) + 1);
        for (const chat of ledger.sent.values()) sentPerChat.set(chat, (sentPerChat.get(chat) ?? 0) + 1);

        recordFigures({
          scenario: `Telegram 429 storms + 5xx (${transport})`,
          framework,
          figures: {
            sent: ledger.sent.size,
            handled: ledger.handledCount,
            lost: ledger.lost.length,
            duplicated: ledger.duplicated,
            injected429: storms.hits(429),
            injected5xx: storms.hits(500),
            retries,
            minRetryGapVsRetryAfter: Number.isFinite(minMarginMs) ? minMarginMs : 'n/a',
            replies,
          },
        });

        // Every injected fault was met: the storms really happened.
        for (const f of storms.injected) expect(f.fault.hits, `${f.method} ${f.code}`).toBe(f.times);
        expect(storms.hits(429)).toBeGreaterThan(0);
        expect(storms.hits(500)).toBeGreaterThan(0);
        expect(tooSoon, problems.join('\n')).toEqual([]);
        expect(notRetried, problems.join('\n')).toEqual([]);
        expect(minMarginMs).toBeGreaterThanOrEqual(0);
        expect(ledger.lost).toEqual([]);
        expect(ledger.duplicated).toBe(0);
        // Exactly one reply per message, in every chat of the load.
        expect(Object.fromEntries([...repliesPerChat].filter(([chat]) => sentPerChat.has(chat)))).toEqual(
          Object.fromEntries(sentPerChat),
        );
        expect(replies).toBe(ledger.sent.size);
      } finally {
        await app?.stop('test cleanup');
        await emulator.close();
        tmp.cleanup();
      }
    });
  }
});
