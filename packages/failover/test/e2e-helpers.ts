import { createTestClock, type TestClock } from '@botkit/core';
import {
  createFailover,
  type Failover,
  type FailoverError,
  type FailoverMode,
  type FailoverOptions,
  grammyAdapter,
  telegrafAdapter,
  type UpdateInfo,
} from '@botkit/failover';
import { type BotApiEmulator, createBotApiEmulator } from '@botkit/testing';
import { Bot } from 'grammy';
import { Telegraf } from 'telegraf';
import { request } from 'node:http';
import { listen, SECRET } from './helpers.js';

export type BotKind = 'grammy' | 'telegraf';

export interface Handled {
  updateId: number;
  chatId: number;
  text: string;
}

export interface Rig {
  clock: TestClock;
  emulator: BotApiEmulator;
  failover: Failover;
  handled: Handled[];
  received: UpdateInfo[];
  duplicates: UpdateInfo[];
  errors: FailoverError[];
  modes: { at: number; from: FailoverMode; to: FailoverMode; reason: string }[];
  /**
   * A broken proxy in front of the endpoint: requests still reach the bot, but Telegram gets 502
   * (the response is lost), so Telegram delivers the update again.
   */
  lossyProxy(on: boolean): void;
  /** Makes the bot's handler wait until `release()` is called. */
  hold(): { release(): void };
  /** Moves the test clock in small steps, letting real I/O run, until `cond()` holds. */
  until(cond: () => boolean, what: string, maxClockMs?: number): Promise<void>;
  /** Moves the test clock by `ms` in small steps. */
  run(ms: number): Promise<void>;
  close(): Promise<void>;
}

const realTick = () => new Promise<void>((resolve) => setTimeout(resolve, 1));

export async function createRig(
  kind: BotKind,
  overrides: Partial<Omit<FailoverOptions, 'token' | 'adapter' | 'webhook'>> = {},
  options: { stepMs?: number } = {},
): Promise<Rig> {
  const clock = createTestClock(Date.UTC(2026, 0, 1, 12));
  const emulator = await createBotApiEmulator({ clock, random: () => 0 });
  const handled: Handled[] = [];
  let gate: Promise<void> | undefined;
  const record = async (updateId: number, chatId: number, text: string) => {
    handled.push({ updateId, chatId, text });
    if (gate) await gate;
  };
  let adapter: FailoverOptions['adapter'];
  if (kind === 'grammy') {
    const bot = new Bot(emulator.token, { client: { apiRoot: emulator.apiRoot } });
    bot.on('message:text', (ctx) => record(ctx.update.update_id, ctx.chat.id, ctx.message.text));
    adapter = grammyAdapter(bot);
  } else {
    const bot = new Telegraf(emulator.token, { telegram: { apiRoot: emulator.apiRoot } });
    bot.on('text', (ctx) => record(ctx.update.update_id, ctx.chat.id, ctx.message.text));
    adapter = telegrafAdapter(bot);
  }
  let failover: Failover | undefined;
  const server = await listen((req, res) => failover?.handler(req, res));
  let lossy = false;
  const proxy = await listen((req, res) => {
    const upstream = request(`${server.url}${req.url}`, { method: req.method, headers: req.headers }, (up) => {
      if (lossy) {
        // The request reached the bot; the answer is lost on the way back.
        up.resume();
        up.on('end', () => res.writeHead(502).end('Bad Gateway'));
      } else {
        res.writeHead(up.statusCode ?? 500, up.headers);
        up.pipe(res);
      }
    });
    upstream.on('error', () => res.writeHead(502).end());
    req.pipe(upstream);
  });
  failover = createFailover({
    token: emulator.token,
    apiRoot: emulator.apiRoot,
    adapter,
    webhook: { url: `${proxy.url}/tg`, secretToken: SECRET },
    clock,
    ...overrides,
  });
  const rig: Rig = {
    clock,
    emulator,
    failover,
    handled,
    received: [],
    duplicates: [],
    errors: [],
    modes: [],
    lossyProxy(on) {
      lossy = on;
    },
    hold() {
      let release!: () => void;
      gate = new Promise<void>((resolve) => {
        release = () => {
          gate = undefined;
          resolve();
        };
      });
      return { release };
    },
    async until(cond, what, maxClockMs = 600_000) {
      const deadline = clock.now() + maxClockMs;
      while (!cond()) {
        if (clock.now() >= deadline) throw new Error(`Timed out (clock) waiting for ${what}`);
        await clock.advance(options.stepMs ?? 50);
        await realTick();
      }
    },
    async run(ms) {
      const end = clock.now() + ms;
      while (clock.now() < end) {
        await clock.advance(Math.min(options.stepMs ?? 50, end - clock.now()));
        await realTick();
      }
    },
    async close() {
      const stopping = failover.stop();
      // stop() may wait on clock timers (final confirm retries): keep time moving.
      let done = false;
      void stopping.finally(() => {
        done = true;
      });
      while (!done) {
        await clock.advance(50);
        await realTick();
      }
      await proxy.close();
      await server.close();
      await emulator.close();
    },
  };
  failover.on('updateReceived', (info) => rig.received.push(info));
  failover.on('duplicateSkipped', (info) => rig.duplicates.push(info));
  failover.on('error', (error) => rig.errors.push(error));
  failover.on('modeChange', (from, to, reason) => rig.modes.push({ at: clock.now(), from, to, reason }));
  return rig;
}

/** Starts the failover while keeping the test clock moving. */
export async function startRig(rig: Rig): Promise<void> {
  let done = false;
  let failure: unknown;
  void rig.failover.start().then(
    () => {
      done = true;
    },
    (error: unknown) => {
      failure = error;
      done = true;
    },
  );
  await rig.until(() => done, 'start()');
  if (failure) throw failure;
}

/** Every update_id handled exactly once, and per chat in the order the users wrote. */
export function checkExactlyOnceInOrder(rig: Rig, sent: { updateId: number; chatId: number }[]) {
  const counts = new Map<number, number>();
  for (const h of rig.handled) counts.set(h.updateId, (counts.get(h.updateId) ?? 0) + 1);
  const missing = sent.filter((s) => !counts.has(s.updateId)).map((s) => s.updateId);
  const twice = [...counts].filter(([, n]) => n > 1).map(([id]) => id);
  const perChat = new Map<number, number[]>();
  for (const h of rig.handled) perChat.set(h.chatId, [...(perChat.get(h.chatId) ?? []), h.updateId]);
  const outOfOrder = [...perChat].filter(([, ids]) => ids.some((id, i) => i > 0 && id < (ids[i - 1] as number)));
  return { missing, twice, outOfOrder: outOfOrder.map(([chat]) => chat) };
}
