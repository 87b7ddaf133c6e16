import { type Clock, type Probe, systemClock, type WebhookInfo } from '@botkit/core';
import type { HealthProbeResult } from '../types.js';
import type { UpdateMetrics } from '../update-metrics.js';
import { botApiFrom, classifyTelegramError, type TelegramConnection } from './telegram.js';

/**
 * Options of {@link updatesProbe}.
 *
 * @example
 * ```ts
 * import { updateMetrics, type UpdatesProbeOptions } from '@botkit/health';
 *
 * const options: UpdatesProbeOptions = { metrics: updateMetrics(), maxIdleMs: 120_000 };
 * ```
 */
export type UpdatesProbeOptions = {
  /** Where the last-handled time comes from (see {@link updateMetrics}). */
  metrics: Pick<UpdateMetrics, 'lastHandledAt'>;
  /** Probe name. @defaultValue `'updates'` */
  name?: string | undefined;
  /** How long updates may wait unprocessed before the bot counts as stuck. @defaultValue `300000` */
  maxIdleMs?: number | undefined;
  /** Degraded when the webhook backlog exceeds this many updates. @defaultValue `100` */
  maxPendingUpdates?: number | undefined;
  /** Clock for idle time. @defaultValue `systemClock` */
  clock?: Clock | undefined;
} & (TelegramConnection | { token?: undefined; api?: undefined; apiRoot?: undefined });

/**
 * A probe for "the bot is alive but not processing": it compares the time since the last
 * handled update (from {@link updateMetrics}) with Telegram's backlog (`pending_update_count`
 * from `getWebhookInfo`, when a token or client is given). Updates waiting while nothing was
 * handled for `maxIdleMs` is unhealthy; a backlog above `maxPendingUpdates` or a recent webhook
 * delivery error is degraded. Without Telegram access, an idle bot is only degraded (nobody may be
 * writing to it).
 *
 * @param options - the update metrics, thresholds and (optionally) Telegram access
 * @returns a `Probe`
 * @throws TypeError when an option is invalid
 *
 * @example
 * ```ts
 * import { createHealthMonitor, updateMetrics, updatesProbe } from '@botkit/health';
 *
 * const metrics = updateMetrics();
 * const monitor = createHealthMonitor();
 * monitor.addProbe(updatesProbe({ metrics, token: process.env.BOT_TOKEN!, maxIdleMs: 120_000 }));
 * ```
 */
export function updatesProbe(options: UpdatesProbeOptions): Probe {
  const { metrics } = options;
  if (typeof metrics !== 'object' || metrics === null || !('lastHandledAt' in metrics)) {
    throw new TypeError('Expected metrics to be the result of updateMetrics()');
  }
  const clock = options.clock ?? systemClock;
  const maxIdleMs = options.maxIdleMs ?? 300_000;
  if (!(maxIdleMs > 0)) throw new TypeError(`Expected maxIdleMs > 0, got ${options.maxIdleMs}`);
  const maxPending = options.maxPendingUpdates ?? 100;
  if (!(maxPending >= 0)) throw new TypeError(`Expected maxPendingUpdates >= 0, got ${options.maxPendingUpdates}`);
  const telegram =
    options.token !== undefined || options.api !== undefined
      ? botApiFrom(options as TelegramConnection, clock)
      : undefined;
  const createdAt = clock.now();

  return {
    name: options.name ?? 'updates',
    async check({ signal }): Promise<HealthProbeResult> {
      signal.throwIfAborted();
      const now = clock.now();
      const last = metrics.lastHandledAt;
      const idleMs = now - (last ?? createdAt);
      const idle = idleMs > maxIdleMs;
      const lastHandledAt = last === null ? null : new Date(last).toISOString();
      if (!telegram) {
        return idle
          ? { status: 'degraded', message: `no update handled for ${idleMs} ms`, details: { idleMs, lastHandledAt } }
          : { status: 'healthy', details: { idleMs, lastHandledAt } };
      }
      let info: WebhookInfo;
      try {
        info = await telegram.api.call('getWebhookInfo', undefined, { signal });
      } catch (error) {
        if (signal.aborted) throw error;
        return classifyTelegramError(error, telegram.secrets);
      }
      const pending = info.pending_update_count;
      const details = { idleMs, lastHandledAt, pendingUpdates: pending, mode: info.url ? 'webhook' : 'polling' };
      if (pending > 0 && idle) {
        return {
          status: 'unhealthy',
          message: `${pending} updates pending but none handled for ${Math.round(idleMs / 1000)} s`,
          details,
        };
      }
      if (pending > maxPending) return { status: 'degraded', message: `${pending} updates pending`, details };
      const errorAgeMs = info.last_error_date ? now - info.last_error_date * 1000 : Number.POSITIVE_INFINITY;
      if (errorAgeMs < maxIdleMs) {
        return { status: 'degraded', message: 'Telegram reported a recent webhook delivery error', details };
      }
      return { status: 'healthy', details };
    },
  };
}
