import { type Clock, systemClock } from '@botkit/core';
import type { LabeledValue, StatsSource } from './types.js';

/**
 * The part of a grammY or Telegraf context {@link updateMetrics} reads: the raw update.
 *
 * @example
 * ```ts
 * import type { UpdateContextLike } from '@botkit/health';
 *
 * const ctx: UpdateContextLike = { update: { update_id: 1, message: { text: '/start' } } };
 * ```
 */
export interface UpdateContextLike {
  /** The Telegram update being handled. */
  readonly update: object;
}

/**
 * Options of {@link updateMetrics}.
 *
 * @example
 * ```ts
 * import type { UpdateMetricsOptions } from '@botkit/health';
 *
 * const options: UpdateMetricsOptions = { maxCommands: 20 };
 * ```
 */
export interface UpdateMetricsOptions {
  /** Stats source name (metric prefix `botkit_<name>_`). @defaultValue `'updates'` */
  name?: string | undefined;
  /**
   * Distinct commands tracked separately; further commands (they are user input) count as
   * `other`, so the label set stays bounded. @defaultValue `50`
   */
  maxCommands?: number | undefined;
  /** Clock for latency and last-handled time. @defaultValue `systemClock` */
  clock?: Clock | undefined;
}

/**
 * Counters of handled updates, returned by {@link updateMetrics}: a middleware for grammY and
 * Telegraf, and a {@link StatsSource} for `monitor.addStats()` and {@link updatesProbe}.
 */
export interface UpdateMetrics extends StatsSource {
  /**
   * Middleware for `bot.use()` (grammY and Telegraf): times each update and counts it per update
   * type and command, and counts errors (rethrown unchanged).
   *
   * @param ctx - the framework's context
   * @param next - the rest of the middleware chain
   * @returns resolves when the update was handled
   */
  middleware(ctx: UpdateContextLike, next: () => Promise<void>): Promise<void>;
  /** When the last update finished (epoch ms), `null` before the first. */
  readonly lastHandledAt: number | null;
  /** Updates being handled right now. */
  readonly inFlight: number;
}

interface Bucket {
  handled: number;
  errors: number;
  latencyMs: number;
}

function classify(update: object): { type: string; command: string } {
  let type = 'unknown';
  for (const key of Object.keys(update)) {
    if (key !== 'update_id') {
      type = key;
      break;
    }
  }
  const message = (update as Record<string, unknown>)[type] as { text?: unknown } | undefined;
  const text = typeof message?.text === 'string' ? message.text : '';
  const match = /^\/([A-Za-z0-9_]{1,32})(?:@\w+)?(?:\s|$)/.exec(text);
  return { type, command: match ? `/${match[1]?.toLowerCase()}` : '' };
}

/**
 * Creates update metrics for a grammY or Telegraf bot: updates handled, errors and latency per
 * update type and command, and the time the last update was handled (which feeds
 * {@link updatesProbe}: "alive but not processing" is unhealthy). Register it with
 * `monitor.addStats(metrics)` to see it in `status()` and `/metrics`.
 *
 * @param options - stats name, command cardinality limit, clock
 * @returns an {@link UpdateMetrics}; pass `metrics.middleware` to `bot.use()`
 * @throws TypeError when an option is invalid
 *
 * @example
 * ```ts
 * import { Bot } from 'grammy';
 * import { createHealthMonitor, updateMetrics, updatesProbe } from '@botkit/health';
 *
 * const bot = new Bot(process.env.BOT_TOKEN!);
 * const metrics = updateMetrics();
 * bot.use(metrics.middleware); // first, so it times everything after it
 * const monitor = createHealthMonitor().addStats(metrics);
 * monitor.addProbe(updatesProbe({ metrics, token: process.env.BOT_TOKEN! }));
 * ```
 */
export function updateMetrics(options: UpdateMetricsOptions = {}): UpdateMetrics {
  const name = options.name ?? 'updates';
  if (!/^[a-z][a-z0-9_]*$/.test(name)) throw new TypeError(`Expected name to match /^[a-z][a-z0-9_]*$/, got ${name}`);
  const maxCommands = options.maxCommands ?? 50;
  if (!Number.isInteger(maxCommands) || maxCommands < 0) {
    throw new TypeError(`Expected maxCommands >= 0, got ${options.maxCommands}`);
  }
  const clock = options.clock ?? systemClock;
  const buckets = new Map<string, Bucket & { type: string; command: string }>();
  const commands = new Set<string>();
  const totals: Bucket = { handled: 0, errors: 0, latencyMs: 0 };
  let lastHandledAt: number | null = null;
  let inFlight = 0;

  const bucketFor = (type: string, rawCommand: string) => {
    let command = rawCommand;
    if (command && !commands.has(command)) {
      if (commands.size < maxCommands) commands.add(command);
      else command = 'other';
    }
    const key = `${type}\u0000${command}`;
    let bucket = buckets.get(key);
    if (!bucket) {
      bucket = { type, command, handled: 0, errors: 0, latencyMs: 0 };
      buckets.set(key, bucket);
    }
    return bucket;
  };

  const series = (pick: (b: Bucket) => number): LabeledValue[] =>
    [...buckets.values()].map((b) => ({ labels: { type: b.type, command: b.command }, value: pick(b) }));

  return {
    name,
    async middleware(ctx, next) {
      const started = clock.now();
      inFlight++;
      let failed = false;
      try {
        await next();
      } catch (error) {
        failed = true;
        throw error;
      } finally {
        inFlight--;
        const now = clock.now();
        const elapsed = now - started;
        const { type, command } = classify(ctx.update ?? {});
        const bucket = bucketFor(type, command);
        bucket.handled++;
        totals.handled++;
        bucket.latencyMs += elapsed;
        totals.latencyMs += elapsed;
        if (failed) {
          bucket.errors++;
          totals.errors++;
        }
        lastHandledAt = now;
      }
    },
    get lastHandledAt() {
      return lastHandledAt;
    },
    get inFlight() {
      return inFlight;
    },
    stats() {
      return {
        handled_total: totals.handled,
        errors_total: totals.errors,
        in_flight: inFlight,
        latency_ms_avg: totals.handled ? Math.round((totals.latencyMs / totals.handled) * 100) / 100 : 0,
        last_handled_timestamp_seconds: lastHandledAt === null ? 0 : lastHandledAt / 1000,
      };
    },
    series() {
      return {
        handled_by_type_total: series((b) => b.handled),
        errors_by_type_total: series((b) => b.errors),
        latency_by_type_seconds_total: series((b) => b.latencyMs / 1000),
      };
    },
  };
}
