import type { Probe } from '@botkit/core';
import type { EventEmitter } from 'eventemitter3';
import type { FailoverError } from './errors.js';
import type { UpdateInfo } from './processor.js';
import type { WebhookRequestHandler } from './webhook-handler.js';

/** Where updates come from right now: Telegram's webhook, long polling, or nowhere. */
export type FailoverMode = 'webhook' | 'polling' | 'stopped';

/**
 * Events of a {@link Failover}.
 *
 * @example
 * ```ts
 * failover.on('modeChange', (from, to, reason) => console.log(`${from} -> ${to}: ${reason}`));
 * ```
 */
export interface FailoverEvents {
  /** The transport changed. */
  modeChange: [from: FailoverMode, to: FailoverMode, reason: string];
  /** An update is being handed to the bot (first delivery only). */
  updateReceived: [info: UpdateInfo];
  /** An update was delivered again (transport redelivery) and skipped by dedupe. */
  duplicateSkipped: [info: UpdateInfo];
  /** Something failed; the failover keeps going unless the code is `BOTKIT_FAILOVER_UNAUTHORIZED`. */
  error: [error: FailoverError];
}

/**
 * The webhook <-> polling switcher returned by {@link createFailover}.
 *
 * @example
 * ```ts
 * const failover = createFailover({ token, adapter: grammyAdapter(bot), webhook: { url, secretToken, port: 8080 } });
 * await failover.start();
 * console.log(failover.mode); // 'webhook'
 * await failover.stop();
 * ```
 */
export interface Failover extends EventEmitter<FailoverEvents> {
  /** The current transport. */
  readonly mode: FailoverMode;
  /** Whether this instance controls the mode and polls (always true without a `lease`). */
  readonly isLeader: boolean;
  /** A node:http request listener serving the webhook, for apps that mount it in their own server. */
  readonly handler: WebhookRequestHandler;
  /**
   * Initialises the bot, starts listening (when `webhook.port` is set), and (as leader) sets the
   * webhook and starts watching it. Idempotent.
   *
   * @throws {@link FailoverError} `BOTKIT_FAILOVER_UNAUTHORIZED` when the token is revoked
   */
  start(): Promise<void>;
  /**
   * Stops watching, stops polling with a final confirming getUpdates, waits for the handlers in
   * flight, closes the server (after answering requests received in full; connections that never
   * sent a whole request are closed at once) and releases the lease. The webhook stays set, so
   * Telegram keeps updates for the next start. Idempotent.
   */
  stop(): Promise<void>;
  /** Same as `stop()`, for `await using`. */
  [Symbol.asyncDispose](): Promise<void>;
  /**
   * A health probe: `healthy` on the webhook, `degraded` while polling (the webhook is
   * configured but unreachable), `unhealthy` when stopped.
   *
   * @returns a `Probe` (from `@botkit/core`) named `failover`
   */
  probe(): Probe;
}
