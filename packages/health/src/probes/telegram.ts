import {
  type BotApi,
  type Clock,
  createBotApi,
  isBotkitError,
  type Probe,
  redact,
  systemClock,
  type TelegramError,
  TelegramErrorCode,
} from '@botkit/core';
import type { HealthProbeResult } from '../types.js';

/**
 * How a Telegram probe reaches the Bot API: a token (and optional API root), or an existing
 * `BotApi` client from `@botkit/core`.
 *
 * @example
 * ```ts
 * import type { TelegramConnection } from '@botkit/health';
 *
 * const viaToken: TelegramConnection = { token: process.env.BOT_TOKEN!, apiRoot: 'http://localhost:8081' };
 * ```
 */
export type TelegramConnection =
  | { token: string; apiRoot?: string | undefined; api?: undefined }
  | { api: BotApi; token?: undefined; apiRoot?: undefined };

/**
 * Options of {@link telegramProbe}.
 *
 * @example
 * ```ts
 * import type { TelegramProbeOptions } from '@botkit/health';
 *
 * const options: TelegramProbeOptions = { token: process.env.BOT_TOKEN!, name: 'telegram' };
 * ```
 */
export type TelegramProbeOptions = TelegramConnection & {
  /** Probe name. @defaultValue `'telegram'` */
  name?: string | undefined;
  /** Clock deciding when a 429's `retry_after` has passed. @defaultValue `systemClock` */
  clock?: Clock | undefined;
};

/** Builds (or reuses) the Bot API client of a probe or alert sink; validates eagerly. */
export function botApiFrom(options: TelegramConnection, clock: Clock): { api: BotApi; secrets: string[] } {
  if (options.api) return { api: options.api, secrets: [] };
  if (typeof options.token !== 'string' || options.token.length === 0) {
    throw new TypeError('Expected token to be a non-empty string (or pass api)');
  }
  return {
    api: createBotApi({ token: options.token, apiRoot: options.apiRoot, clock }),
    secrets: [options.token],
  };
}

/**
 * Classifies a failed Bot API call for health purposes: 401/404 (token revoked or wrong) and
 * 409 (another poller or a webhook conflict) are unhealthy at once; 429 is degraded; anything
 * else (5xx, network, timeout) is unhealthy after the failure threshold.
 */
export function classifyTelegramError(error: unknown, secrets: string[]): HealthProbeResult {
  if (isBotkitError(error, TelegramErrorCode.Unauthorized) || isBotkitError(error, TelegramErrorCode.NotFound)) {
    return {
      status: 'unhealthy',
      immediate: true,
      message: `bot token rejected by Telegram (${describe(error, secrets)})`,
    };
  }
  if (isBotkitError(error, TelegramErrorCode.Conflict)) {
    return {
      status: 'unhealthy',
      immediate: true,
      message: `conflict: another instance is polling or a webhook is set (${describe(error, secrets)})`,
    };
  }
  if (isBotkitError(error, TelegramErrorCode.RateLimited)) {
    const retryAfterMs = (error as TelegramError).retryAfterMs ?? 1000;
    return {
      status: 'degraded',
      message: `rate limited by Telegram for ${retryAfterMs} ms`,
      details: { retryAfterMs },
    };
  }
  return { status: 'unhealthy', message: describe(error, secrets) };
}

function describe(error: unknown, secrets: string[]): string {
  return redact(error instanceof Error ? error.message : String(error), secrets);
}

/**
 * A probe that calls `getMe` through `@botkit/core`'s Bot API client. A revoked or wrong token
 * (401/404) and a 409 conflict are unhealthy at once, without waiting for the failure threshold;
 * a 429 is degraded and the probe makes no Telegram call until `retry_after` has passed; 5xx,
 * network errors and timeouts are ordinary failures. The token never appears in its output.
 *
 * @param options - token (and API root) or an existing client, name, clock
 * @returns a `Probe`
 * @throws TypeError when neither a token nor a client is given
 *
 * @example
 * ```ts
 * import { createHealthMonitor, telegramProbe } from '@botkit/health';
 *
 * const monitor = createHealthMonitor({ probes: [telegramProbe({ token: process.env.BOT_TOKEN! })] });
 * ```
 */
export function telegramProbe(options: TelegramProbeOptions): Probe {
  const clock = options.clock ?? systemClock;
  const { api, secrets } = botApiFrom(options, clock);
  let quietUntil = 0;
  return {
    name: options.name ?? 'telegram',
    async check({ signal }): Promise<HealthProbeResult> {
      signal.throwIfAborted();
      const waitMs = quietUntil - clock.now();
      if (waitMs > 0) {
        return {
          status: 'degraded',
          message: `rate limited by Telegram; next getMe in ${waitMs} ms`,
          details: { retryAfterMs: waitMs },
        };
      }
      try {
        const me = await api.call('getMe', undefined, { signal });
        return { status: 'healthy', details: { id: me.id, username: me.username } };
      } catch (error) {
        if (signal.aborted) throw error;
        const result = classifyTelegramError(error, secrets);
        const retryAfterMs = result.details?.retryAfterMs;
        if (typeof retryAfterMs === 'number') quietUntil = clock.now() + retryAfterMs;
        return result;
      }
    },
  };
}
