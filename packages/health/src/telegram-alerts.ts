import { type BotApi, type Clock, isBotkitError, redact, sleep, systemClock, type TelegramError } from '@botkit/core';
import { botApiFrom, type TelegramConnection } from './probes/telegram.js';
import type { AlertSink, HealthAlert } from './types.js';

/**
 * Options of {@link telegramAlerts}.
 *
 * @example
 * ```ts
 * import type { TelegramAlertsOptions } from '@botkit/health';
 *
 * const options: TelegramAlertsOptions = { token: process.env.ALERT_BOT_TOKEN!, chatId: -100123, title: 'shop-bot' };
 * ```
 */
export type TelegramAlertsOptions = TelegramConnection & {
  /** Chat (user, group or channel) that receives the alerts. */
  chatId: number | string;
  /** Prefix of every message, e.g. the bot or replica name. @defaultValue none */
  title?: string | undefined;
  /** At most this many messages per `windowMs`; the rest are counted and mentioned in the next one. @defaultValue `20` */
  maxPerWindow?: number | undefined;
  /** Rate-limit window. @defaultValue `60000` */
  windowMs?: number | undefined;
  /** Clock for the rate limit and for waiting out a 429. @defaultValue `systemClock` */
  clock?: Clock | undefined;
  /** Builds the text of a message (the result is still redacted). @defaultValue a one-line summary */
  format?: ((alert: HealthAlert) => string) | undefined;
};

/**
 * An alert sink that also exposes what it did (for logs and tests).
 *
 * @example
 * ```ts
 * const sink = telegramAlerts({ token, chatId });
 * monitor.onAlert(sink);
 * console.log(sink.sent, sink.suppressed);
 * ```
 */
export interface TelegramAlertSink extends AlertSink {
  /** Messages sent so far. */
  readonly sent: number;
  /** Alerts dropped by deduplication or the rate limit. */
  readonly suppressed: number;
}

function defaultFormat(alert: HealthAlert): string {
  if (alert.kind === 'failed') {
    return `🔴 ${alert.probe} is unhealthy${alert.message ? `: ${alert.message}` : ''}`;
  }
  return `🟢 ${alert.probe} recovered (${alert.to})`;
}

/**
 * An alert sink that sends one Telegram message per state change (failure and recovery), through
 * `@botkit/core`'s Bot API client. It drops repeats (the same change of the same probe twice in a
 * row), limits itself to `maxPerWindow` messages per window (mentioning how many were dropped in
 * the next message), waits out one 429 `retry_after` before giving up, and never includes a
 * secret: every text is redacted (tokens, URL passwords) including this sink's own token.
 *
 * @param options - token or client, chat, title, rate limit, format
 * @returns a {@link TelegramAlertSink} for `monitor.onAlert()`
 * @throws TypeError when the token or chat is missing or a limit is invalid
 *
 * @example
 * ```ts
 * import { createHealthMonitor, telegramAlerts } from '@botkit/health';
 *
 * const monitor = createHealthMonitor({ probes: [] });
 * monitor.onAlert(telegramAlerts({ token: process.env.BOT_TOKEN!, chatId: Number(process.env.ADMIN_CHAT_ID) }));
 * ```
 */
export function telegramAlerts(options: TelegramAlertsOptions): TelegramAlertSink {
  const clock = options.clock ?? systemClock;
  const { api, secrets } = botApiFrom(options, clock);
  const { chatId } = options;
  if (!(typeof chatId === 'number' ? Number.isFinite(chatId) : typeof chatId === 'string' && chatId.length > 0)) {
    throw new TypeError(`Expected chatId to be a chat id or @channel name, got ${String(chatId)}`);
  }
  const maxPerWindow = options.maxPerWindow ?? 20;
  if (!Number.isInteger(maxPerWindow) || maxPerWindow < 1) {
    throw new TypeError(`Expected maxPerWindow >= 1, got ${options.maxPerWindow}`);
  }
  const windowMs = options.windowMs ?? 60_000;
  if (!(windowMs > 0)) throw new TypeError(`Expected windowMs > 0, got ${options.windowMs}`);
  const format = options.format ?? defaultFormat;
  const lastKind = new Map<string, HealthAlert['kind']>();
  let windowStart = Number.NEGATIVE_INFINITY;
  let inWindow = 0;
  let sent = 0;
  let suppressed = 0;
  let pendingSuppressed = 0;
  let chain: Promise<void> = Promise.resolve();

  const send = async (api: BotApi, text: string) => {
    try {
      await api.call('sendMessage', { chat_id: chatId, text });
    } catch (error) {
      if (!isBotkitError(error, 'BOTKIT_TELEGRAM_RATE_LIMITED')) throw error;
      await sleep((error as TelegramError).retryAfterMs ?? 1000, { clock, unref: true });
      await api.call('sendMessage', { chat_id: chatId, text });
    }
  };

  const deliver = async (alert: HealthAlert) => {
    if (lastKind.get(alert.probe) === alert.kind) {
      suppressed++;
      return;
    }
    lastKind.set(alert.probe, alert.kind);
    const now = clock.now();
    if (now - windowStart >= windowMs) {
      windowStart = now;
      inWindow = 0;
    }
    if (inWindow >= maxPerWindow) {
      suppressed++;
      pendingSuppressed++;
      return;
    }
    inWindow++;
    let text = format(alert);
    if (options.title) text = `[${options.title}] ${text}`;
    if (pendingSuppressed > 0) text += `\n(${pendingSuppressed} more alerts were suppressed by the rate limit)`;
    pendingSuppressed = 0;
    await send(api, redact(text, secrets).slice(0, 4096));
    sent++;
  };

  const sink = ((alert: HealthAlert) => {
    // Serialised, so messages arrive in the order of the changes.
    const next = chain.then(() => deliver(alert));
    chain = next.catch(() => {});
    return next;
  }) as TelegramAlertSink;
  Object.defineProperties(sink, {
    sent: { get: () => sent, enumerable: true },
    suppressed: { get: () => suppressed, enumerable: true },
  });
  return sink;
}
