import { testBotInfo } from './bot-info.js';
import { type Clock, systemClock } from '@botkit/core';
import type { UserFromGetMe } from '@grammyjs/types';
import { DEFAULT_UPDATE_LIFETIMES_MS, UPDATE_TYPES, type UpdateType } from './update-queue.js';

/**
 * Options of {@link createBotApiEmulator}. Every option is optional.
 *
 * @example
 * ```ts
 * import { createTestClock } from '@botkit/core';
 * import { createBotApiEmulator } from '@botkit/testing';
 *
 * const clock = createTestClock();
 * const emulator = await createBotApiEmulator({ clock, webhookTimeoutMs: 5_000 });
 * ```
 */
export interface BotApiEmulatorOptions {
  /** The bot token the emulator accepts; any other token gets 401. @defaultValue `'123456789:AAEmulatorTestTokenForBotkit_0123456'` */
  readonly token?: string | undefined;
  /** Fields of the bot's `getMe` answer; `id` defaults to the token's numeric prefix. @defaultValue `{ first_name: 'Test Bot', username: 'test_bot' }` */
  readonly botInfo?: Partial<UserFromGetMe> | undefined;
  /** TCP port on 127.0.0.1. @defaultValue `0` (a free port) */
  readonly port?: number | undefined;
  /** Clock for long-poll timeouts, webhook timeouts and retries, update lifetimes, message dates. @defaultValue `systemClock` */
  readonly clock?: Clock | undefined;
  /** How long a webhook may take to answer before "Read timeout expired". @defaultValue `60000` (the real server's) */
  readonly webhookTimeoutMs?: number | undefined;
  /**
   * Lower bound of the webhook retry cap: the delay doubles (2, 4, 8... s) up to a cap picked at
   * random in [this, 2 × this] on each failure, like the real server. @defaultValue `60000`
   */
  readonly webhookMaxRetryDelayMs?: number | undefined;
  /** Random source in [0, 1) for the retry cap; pass `() => 0` for a deterministic 60 s cap. @defaultValue `Math.random` */
  readonly random?: (() => number) | undefined;
  /** Overrides of {@link DEFAULT_UPDATE_LIFETIMES_MS} per update type. @defaultValue `{}` */
  readonly updateLifetimesMs?: Partial<Record<UpdateType, number>> | undefined;
  /** `update_id` of the first update. @defaultValue `1` */
  readonly firstUpdateId?: number | undefined;
  /** How many requests and webhook deliveries the logs keep (oldest dropped first). @defaultValue `10000` */
  readonly logLimit?: number | undefined;
  /**
   * Like Telegram, `setWebhook` with a URL answers `429 Too Many Requests: retry after 1` when
   * called again within this many clock milliseconds; `0` turns the limit off. @defaultValue `1000`
   */
  readonly setWebhookIntervalMs?: number | undefined;
  /** Cancels the start: `createBotApiEmulator` rejects with the signal's reason and frees the port. */
  readonly signal?: AbortSignal | undefined;
}

export interface ResolvedOptions {
  token: string;
  botInfo: UserFromGetMe;
  port: number;
  clock: Clock;
  webhookTimeoutMs: number;
  webhookMaxRetryDelayMs: number;
  random: () => number;
  lifetimes: Record<UpdateType, number>;
  firstUpdateId: number;
  logLimit: number;
  setWebhookIntervalMs: number;
}

export const DEFAULT_TOKEN = '123456789:AAEmulatorTestTokenForBotkit_0123456';
const TOKEN_PATTERN = /^\d{1,20}:[A-Za-z0-9_-]{1,100}$/;

function positive(name: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (!(typeof value === 'number' && Number.isFinite(value) && value > 0)) {
    throw new TypeError(`Expected ${name} > 0, got ${String(value)}`);
  }
  return value;
}

/** Validates options eagerly, naming the option that is wrong. */
export function resolveOptions(options: BotApiEmulatorOptions = {}): ResolvedOptions {
  if (typeof options !== 'object' || options === null) throw new TypeError('Expected options to be an object');
  const token = options.token ?? DEFAULT_TOKEN;
  if (typeof token !== 'string' || !TOKEN_PATTERN.test(token)) {
    throw new TypeError('Expected token to look like "<digits>:<letters, digits, _ or ->"');
  }
  const port = options.port ?? 0;
  if (!(Number.isInteger(port) && port >= 0 && port <= 65_535)) {
    throw new TypeError(`Expected port to be an integer in 0-65535, got ${String(port)}`);
  }
  const clock = options.clock ?? systemClock;
  if (typeof clock?.now !== 'function' || typeof clock.setTimeout !== 'function') {
    throw new TypeError('Expected clock to be a Clock ({ now, setTimeout, clearTimeout })');
  }
  const random = options.random ?? Math.random;
  if (typeof random !== 'function') throw new TypeError('Expected random to be a function');
  const firstUpdateId = options.firstUpdateId ?? 1;
  if (!(Number.isInteger(firstUpdateId) && firstUpdateId >= 1)) {
    throw new TypeError(`Expected firstUpdateId to be an integer >= 1, got ${String(firstUpdateId)}`);
  }
  const lifetimes = { ...DEFAULT_UPDATE_LIFETIMES_MS };
  for (const [type, ms] of Object.entries(options.updateLifetimesMs ?? {})) {
    if (!(UPDATE_TYPES as readonly string[]).includes(type)) {
      throw new TypeError(`Expected updateLifetimesMs keys to be update types, got ${JSON.stringify(type)}`);
    }
    lifetimes[type as UpdateType] = positive(`updateLifetimesMs.${type}`, ms, 0);
  }
  const logLimit = positive('logLimit', options.logLimit, 10_000);
  const setWebhookIntervalMs = options.setWebhookIntervalMs ?? 1000;
  if (!(Number.isFinite(setWebhookIntervalMs) && setWebhookIntervalMs >= 0)) {
    throw new TypeError(`Expected setWebhookIntervalMs >= 0, got ${String(setWebhookIntervalMs)}`);
  }
  const botId = Number(token.split(':')[0]);
  const botInfo = testBotInfo({ id: botId, ...options.botInfo });
  return {
    token,
    botInfo,
    port,
    clock,
    webhookTimeoutMs: positive('webhookTimeoutMs', options.webhookTimeoutMs, 60_000),
    webhookMaxRetryDelayMs: positive('webhookMaxRetryDelayMs', options.webhookMaxRetryDelayMs, 60_000),
    random,
    lifetimes,
    firstUpdateId,
    logLimit,
    setWebhookIntervalMs,
  };
}
