import { type Clock, type Logger, noopLogger, systemClock } from '@botkit/core';
import type { UpdateAdapter, UpdateHandler } from './adapters.js';
import { createMemoryDedupeStore, type DedupeStore } from './dedupe.js';
import type { SwitchPolicyOptions } from './policy.js';
import type { HandlerTimeoutAction } from './webhook-handler.js';

/**
 * The lease the failover needs (structurally what `createRedisLease` of `@botkit/core` returns):
 * only the holder controls the mode and polls; the others serve the webhook endpoint.
 *
 * @example
 * ```ts
 * import { createRedisLease } from '@botkit/core';
 *
 * const lease: FailoverLease = createRedisLease(redis, { key: 'mybot:failover', ttlMs: 15_000 });
 * ```
 */
export interface FailoverLease {
  /** Whether this instance holds the lease now. */
  readonly isHeld: boolean;
  /** Increases with every acquisition by anyone; above 1 means another holder came before. */
  readonly fencingToken?: number | undefined;
  /** Renews the lease now; resolves false when it is not held any more. */
  renew(): Promise<boolean>;
  /** Keeps acquiring and renewing in the background, emitting `acquired` and `lost`. */
  start(): void;
  /** Stops the background work and releases the lease. */
  stop(): Promise<void>;
  /** Subscribes to `acquired` / `lost`. */
  on(event: 'acquired' | 'lost', listener: () => void): unknown;
  /** Unsubscribes. */
  off(event: 'acquired' | 'lost', listener: () => void): unknown;
}

/**
 * The webhook part of {@link FailoverOptions}.
 *
 * @example
 * ```ts
 * const webhook: FailoverWebhookOptions = { url: 'https://bot.example.com/tg', secretToken: 's3cr3t_token', port: 8080 };
 * ```
 */
export interface FailoverWebhookOptions {
  /** Public HTTPS URL Telegram posts updates to. */
  url: string;
  /** `secret_token` of setWebhook (1-256 of `A-Z a-z 0-9 _ -`); checked on every request. */
  secretToken: string;
  /** Path the endpoint answers on; other paths get 404. @defaultValue the path of `url` */
  path?: string | undefined;
  /** Port to listen on; without it nothing listens and the app mounts `failover.handler` itself. */
  port?: number | undefined;
  /** Host to listen on. @defaultValue all interfaces */
  host?: string | undefined;
  /** Largest accepted request body (413 above). @defaultValue `1048576` (1 MiB) */
  maxBodyBytes?: number | undefined;
  /** How long a webhook request waits for the bot's handler before answering. @defaultValue `25000` */
  handlerTimeoutMs?: number | undefined;
  /**
   * What to answer when the handler outlives `handlerTimeoutMs`: `'respond'` answers 200 and lets
   * the handler run on (tracked by stop(); lost if the process dies), `'fail'` answers 500 so
   * Telegram delivers it again later (dedupe skips the redelivery while the first run is alive).
   * @defaultValue `'respond'`
   */
  onHandlerTimeout?: HandlerTimeoutAction | undefined;
  /** `max_connections` of setWebhook. @defaultValue Telegram's default (40) */
  maxConnections?: number | undefined;
}

/**
 * Detection tuning of {@link FailoverOptions}.
 *
 * @example
 * ```ts
 * const detection: FailoverDetectionOptions = { intervalMs: 10_000, failuresToSwitch: 2 };
 * ```
 */
export interface FailoverDetectionOptions {
  /** How often getWebhookInfo is checked. @defaultValue `10000` */
  intervalMs?: number | undefined;
  /** Consecutive unhealthy checks before falling back to polling. @defaultValue `2` */
  failuresToSwitch?: number | undefined;
  /** Check interval during probation after a return to the webhook. @defaultValue `min(intervalMs, 5000)` */
  probationIntervalMs?: number | undefined;
  /**
   * Before counting an unhealthy check, GET the public webhook URL from here: if one of our
   * endpoints answers (it proves knowing the secret with an HMAC of a random challenge), the check
   * does not count. Catches a Telegram-side report that does not match reality, at the cost of
   * not failing over when only Telegram's network path is broken. @defaultValue `false`
   */
  selfProbe?: boolean | undefined;
  /** Time limit of the self-probe. @defaultValue `5000` */
  selfProbeTimeoutMs?: number | undefined;
}

/**
 * Long polling tuning of {@link FailoverOptions}.
 *
 * @example
 * ```ts
 * const polling: FailoverPollingOptions = { timeoutSeconds: 30, limit: 100 };
 * ```
 */
export interface FailoverPollingOptions {
  /** `timeout` of getUpdates (long polling), in seconds. @defaultValue `30` */
  timeoutSeconds?: number | undefined;
  /** `limit` of getUpdates. @defaultValue `100` */
  limit?: number | undefined;
}

/**
 * Options of `createFailover`.
 *
 * @example
 * ```ts
 * const options: FailoverOptions = {
 *   token: process.env.BOT_TOKEN!,
 *   adapter: async (update) => console.log(update.update_id),
 *   webhook: { url: 'https://bot.example.com/tg', secretToken: process.env.WEBHOOK_SECRET!, port: 8080 },
 * };
 * ```
 */
export interface FailoverOptions {
  /** The bot token; never logged nor put in errors. */
  token: string;
  /** Bot API server root. @defaultValue `'https://api.telegram.org'` */
  apiRoot?: string | undefined;
  /** `grammyAdapter(bot)`, `telegrafAdapter(bot)` or an `(update) => Promise<void>`. */
  adapter: UpdateAdapter | UpdateHandler;
  /** Where Telegram reaches the bot. */
  webhook: FailoverWebhookOptions;
  /** `allowed_updates` for both setWebhook and getUpdates. @defaultValue Telegram's default */
  allowedUpdates?: readonly string[] | undefined;
  /** Drop the updates Telegram holds on the first setWebhook (never otherwise). @defaultValue `false` */
  dropPendingUpdatesOnStart?: boolean | undefined;
  /** Where handled update_ids are remembered. @defaultValue a `createMemoryDedupeStore()` */
  dedupe?: DedupeStore | undefined;
  /** With several replicas: only the lease holder controls the mode and polls. @defaultValue none (single instance) */
  lease?: FailoverLease | undefined;
  /** Detection tuning. */
  detection?: FailoverDetectionOptions | undefined;
  /** Switching policy: probation, dwell, backoff, hourly budget. */
  switching?: SwitchPolicyOptions | undefined;
  /** Long polling tuning. */
  polling?: FailoverPollingOptions | undefined;
  /** Clock for every timer. @defaultValue `systemClock` */
  clock?: Clock | undefined;
  /** Logger; silent by default. */
  logger?: Logger | undefined;
}

/** Internal: validated options with defaults. */
export interface ValidatedOptions {
  token: string;
  apiRoot: string | undefined;
  url: string;
  secretToken: string;
  path: string | undefined;
  port: number | undefined;
  host: string | undefined;
  maxBodyBytes: number;
  handlerTimeoutMs: number;
  onHandlerTimeout: HandlerTimeoutAction;
  maxConnections: number | undefined;
  allowedUpdates: readonly string[] | undefined;
  dropPendingUpdatesOnStart: boolean;
  dedupe: DedupeStore;
  lease: FailoverLease | undefined;
  intervalMs: number;
  failuresToSwitch: number;
  probationCheckMs: number;
  selfProbe: boolean;
  selfProbeTimeoutMs: number;
  switching: SwitchPolicyOptions;
  pollTimeoutSeconds: number;
  pollLimit: number;
  clock: Clock;
  logger: Logger;
}

function int(name: string, value: number | undefined, fallback: number, min: number, max = Number.MAX_SAFE_INTEGER) {
  const v = value ?? fallback;
  if (!Number.isInteger(v) || v < min || v > max) {
    throw new TypeError(`Expected ${name} to be an integer in [${min}, ${max}], got ${String(v)}`);
  }
  return v;
}

/** Internal: validates `createFailover` options eagerly; every TypeError names the option. */
export function validateOptions(options: FailoverOptions): ValidatedOptions {
  if (typeof options !== 'object' || options === null) throw new TypeError('Expected options to be an object');
  const { token, webhook } = options;
  if (typeof token !== 'string' || !/^\d+:[\w-]+$/.test(token)) {
    throw new TypeError('Expected token to be a bot token like 123456:ABC-DEF (value not shown)');
  }
  if (typeof webhook !== 'object' || webhook === null) throw new TypeError('Expected webhook to be an object');
  let parsed: URL;
  try {
    parsed = new URL(webhook.url);
  } catch {
    throw new TypeError('Expected webhook.url to be an absolute URL');
  }
  if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') {
    throw new TypeError(`Expected webhook.url to be an https URL, got protocol ${parsed.protocol}`);
  }
  if (typeof webhook.secretToken !== 'string' || !/^[A-Za-z0-9_-]{1,256}$/.test(webhook.secretToken)) {
    throw new TypeError('Expected webhook.secretToken to be 1-256 characters of A-Z a-z 0-9 _ - (value not shown)');
  }
  const path = webhook.path ?? (parsed.pathname || '/');
  if (typeof path !== 'string' || !path.startsWith('/')) throw new TypeError(`Expected webhook.path to start with /`);
  const port = webhook.port === undefined ? undefined : int('webhook.port', webhook.port, 0, 0, 65535);
  const onHandlerTimeout = webhook.onHandlerTimeout ?? 'respond';
  if (onHandlerTimeout !== 'respond' && onHandlerTimeout !== 'fail') {
    throw new TypeError(`Expected webhook.onHandlerTimeout to be 'respond' or 'fail', got ${String(onHandlerTimeout)}`);
  }
  if (options.allowedUpdates !== undefined && !Array.isArray(options.allowedUpdates)) {
    throw new TypeError('Expected allowedUpdates to be an array of update types');
  }
  const intervalMs = int('detection.intervalMs', options.detection?.intervalMs, 10_000, 1);
  const adapter = options.adapter as unknown;
  if (
    typeof adapter !== 'function' &&
    (typeof adapter !== 'object' || adapter === null || typeof (adapter as UpdateAdapter).handleUpdate !== 'function')
  ) {
    throw new TypeError(
      'Expected adapter to be grammyAdapter(bot), telegrafAdapter(bot) or an (update) => Promise<void>',
    );
  }
  const dedupe = options.dedupe ?? createMemoryDedupeStore(options.clock ? { clock: options.clock } : {});
  if (typeof dedupe.claim !== 'function') throw new TypeError('Expected dedupe to be a DedupeStore');
  if (options.lease !== undefined && typeof options.lease?.start !== 'function') {
    throw new TypeError('Expected lease to be a lease from createRedisLease()');
  }
  return {
    token,
    apiRoot: options.apiRoot,
    url: webhook.url,
    secretToken: webhook.secretToken,
    path,
    port,
    host: webhook.host,
    maxBodyBytes: int('webhook.maxBodyBytes', webhook.maxBodyBytes, 1_048_576, 1),
    handlerTimeoutMs: int('webhook.handlerTimeoutMs', webhook.handlerTimeoutMs, 25_000, 1, 55_000),
    onHandlerTimeout,
    maxConnections:
      webhook.maxConnections === undefined
        ? undefined
        : int('webhook.maxConnections', webhook.maxConnections, 40, 1, 100),
    allowedUpdates: options.allowedUpdates,
    dropPendingUpdatesOnStart: options.dropPendingUpdatesOnStart === true,
    dedupe,
    lease: options.lease,
    intervalMs,
    failuresToSwitch: int('detection.failuresToSwitch', options.detection?.failuresToSwitch, 2, 1),
    probationCheckMs: int(
      'detection.probationIntervalMs',
      options.detection?.probationIntervalMs,
      Math.min(intervalMs, 5000),
      1,
    ),
    selfProbe: options.detection?.selfProbe === true,
    selfProbeTimeoutMs: int('detection.selfProbeTimeoutMs', options.detection?.selfProbeTimeoutMs, 5000, 1),
    switching: options.switching ?? {},
    pollTimeoutSeconds: int('polling.timeoutSeconds', options.polling?.timeoutSeconds, 30, 0, 50),
    pollLimit: int('polling.limit', options.polling?.limit, 100, 1, 100),
    clock: options.clock ?? systemClock,
    logger: options.logger ?? noopLogger,
  };
}
