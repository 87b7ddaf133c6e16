import {
  type BotApi,
  type Clock,
  isBotkitError,
  type Logger,
  sleep,
  TelegramErrorCode,
  type TelegramError,
} from '@botkit/core';
import type { UpdateProcessor } from './processor.js';

/** Internal options of {@link Poller}. */
export interface PollerOptions {
  api: BotApi;
  processor: UpdateProcessor;
  clock: Clock;
  logger: Logger;
  timeoutSeconds: number;
  limit: number;
  allowedUpdates: readonly string[] | undefined;
  /** Called for every failed getUpdates (already retried/backed off by the poller). */
  onError(error: TelegramError | unknown): void;
  /** Called on 401 (the poller stops) . */
  onUnauthorized(error: unknown): void;
  /** Checked before every getUpdates; false stops the poller (e.g. the lease expired locally). */
  mayPoll?(): boolean;
  /** Called on 409; returns false when the poller must stop (e.g. the lease is gone). */
  onConflict(error: unknown): Promise<boolean> | boolean;
}

/**
 * Internal: long polling with offsets confirmed only after the handlers finished (the next
 * getUpdates carries `offset = last handled + 1`), and a final confirming call on stop.
 */
export class Poller {
  readonly #o: PollerOptions;
  #offset: number | undefined;
  #confirmed: number | undefined;
  #loop: Promise<void> | undefined;
  #controller: AbortController | undefined;
  #stopping = false;

  constructor(options: PollerOptions) {
    this.#o = options;
  }

  get running(): boolean {
    return this.#loop !== undefined;
  }

  /** The next offset (last handled update_id + 1), if any update was handled. */
  get offset(): number | undefined {
    return this.#offset;
  }

  start(): void {
    if (this.#loop) return;
    this.#stopping = false;
    // Start without an offset: after a webhook period a remembered offset means nothing, and since
    // update_id may restart at a random (lower) value, a stale high offset would confirm, i.e.
    // drop, updates never seen.
    this.#offset = undefined;
    this.#confirmed = undefined;
    this.#controller = new AbortController();
    const signal = this.#controller.signal;
    this.#loop = this.#run(signal).finally(() => {
      this.#loop = undefined;
    });
  }

  /**
   * Stops polling: aborts the long poll, lets the update being handled finish (the rest of the
   * batch stays unconfirmed and is delivered again later), then confirms the offset unless
   * `confirm` is false (the lease was lost: another replica may be polling).
   */
  async stop(options: { confirm?: boolean; signal?: AbortSignal } = {}): Promise<void> {
    const loop = this.#loop;
    if (loop) {
      this.#stopping = true;
      this.#controller?.abort(new Error('poller stopped'));
      await loop;
    }
    if (options.confirm !== false) await this.confirm(options.signal);
  }

  /** Sends a confirming getUpdates if handled updates are not confirmed yet. */
  async confirm(signal?: AbortSignal): Promise<void> {
    const offset = this.#offset;
    if (offset === undefined || offset === this.#confirmed) return;
    for (let attempt = 0; ; attempt++) {
      try {
        // limit 1, timeout 0: confirms everything below offset; an update returned here is not
        // confirmed and will be delivered again (to the webhook or the next poll).
        await this.#o.api.call('getUpdates', { offset, limit: 1, timeout: 0 }, signal ? { signal } : {});
        this.#confirmed = offset;
        return;
      } catch (error) {
        if (signal?.aborted || attempt >= 4 || !isRetryable(error)) {
          this.#o.onError(error);
          return;
        }
        await sleep(retryDelay(error, attempt), {
          clock: this.#o.clock,
          unref: true,
          ...(signal ? { signal } : {}),
        }).catch(() => {});
      }
    }
  }

  async #run(signal: AbortSignal): Promise<void> {
    let failures = 0;
    while (!signal.aborted) {
      if (this.#o.mayPoll && !this.#o.mayPoll()) return;
      let updates: Awaited<ReturnType<BotApi['call']>> & unknown[];
      try {
        updates = (await this.#o.api.call(
          'getUpdates',
          {
            ...(this.#offset !== undefined ? { offset: this.#offset } : {}),
            timeout: this.#o.timeoutSeconds,
            limit: this.#o.limit,
            ...(this.#o.allowedUpdates ? { allowed_updates: [...this.#o.allowedUpdates] as never } : {}),
          },
          { signal },
        )) as never;
        this.#confirmed = this.#offset;
        failures = 0;
      } catch (error) {
        if (signal.aborted) return;
        if (isBotkitError(error, TelegramErrorCode.Unauthorized)) {
          this.#o.onUnauthorized(error);
          return;
        }
        if (isBotkitError(error, TelegramErrorCode.Conflict)) {
          if (!(await this.#o.onConflict(error))) return;
        } else {
          this.#o.onError(error);
        }
        failures += 1;
        await sleep(retryDelay(error, failures), { clock: this.#o.clock, signal, unref: true }).catch(() => {});
        continue;
      }
      let refused = false;
      for (const update of updates as { update_id: number }[]) {
        if (this.#stopping) break;
        const result = await this.#o.processor.process(update as never, 'polling', signal);
        refused = result === 'unavailable';
        if (result === 'aborted' || refused) break;
        this.#offset = update.update_id + 1;
      }
      // The bot refused the update (shutting down, or it cannot initialise): it stays with Telegram;
      // do not ask for it again in a tight loop.
      if (refused) await sleep(REFUSED_RETRY_MS, { clock: this.#o.clock, signal, unref: true }).catch(() => {});
    }
  }
}

/** Pause after the bot refused an update while polling. */
const REFUSED_RETRY_MS = 250;

function isRetryable(error: unknown): boolean {
  return (error as { retryable?: unknown } | null)?.retryable === true;
}

/** 429: Telegram's retry_after; otherwise exponential backoff from 500 ms up to 30 s. */
export function retryDelay(error: unknown, attempt: number): number {
  const retryAfter = (error as { retryAfterMs?: unknown } | null)?.retryAfterMs;
  if (typeof retryAfter === 'number' && retryAfter >= 0) return retryAfter;
  return Math.min(30_000, 500 * 2 ** Math.min(attempt, 10));
}
