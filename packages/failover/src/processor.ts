import { type Clock, type Logger, sleep, type Update } from '@botkit/core';
import { isRefusal, type UpdateAdapter } from './adapters.js';
import type { DedupeStore } from './dedupe.js';
import { FailoverError, FailoverErrorCode } from './errors.js';

/** How an update reached the failover. */
export type UpdateSource = 'webhook' | 'polling';

/**
 * Facts about one update the failover received (payload of `updateReceived` and `duplicateSkipped`).
 *
 * @example
 * ```ts
 * failover.on('duplicateSkipped', (info) => console.log(`redelivered: ${info.updateId} via ${info.source}`));
 * ```
 */
export interface UpdateInfo {
  /** The update's `update_id`. */
  updateId: number;
  /** Whether it came through the webhook or long polling. */
  source: UpdateSource;
}

/** Internal: what happened to an update handed to the processor. */
export type ProcessResult = 'handled' | 'duplicate' | 'busy' | 'aborted' | 'unavailable';

const BUSY_RETRY_MS = 250;

/** Internal: callbacks of the processor. */
export interface ProcessorHooks {
  received(info: UpdateInfo): void;
  duplicate(info: UpdateInfo): void;
  error(error: FailoverError): void;
}

/** Internal: runs each update through dedupe and the bot, and tracks what is in flight. */
export class UpdateProcessor {
  readonly #adapter: UpdateAdapter;
  readonly #dedupe: DedupeStore;
  readonly #hooks: ProcessorHooks;
  readonly #logger: Logger;
  readonly #clock: Clock;
  readonly #inFlight = new Set<Promise<unknown>>();
  #init: Promise<void> | undefined;
  #closed = false;
  #initDone = false;

  constructor(adapter: UpdateAdapter, dedupe: DedupeStore, hooks: ProcessorHooks, logger: Logger, clock: Clock) {
    this.#clock = clock;
    this.#adapter = adapter;
    this.#dedupe = dedupe;
    this.#hooks = hooks;
    this.#logger = logger;
  }

  /** Runs the adapter's init() once (the first update may arrive before start() finished it). */
  init(signal: AbortSignal): Promise<void> {
    this.#init ??= Promise.resolve(this.#adapter.init?.(signal)).catch((error: unknown) => {
      this.#init = undefined;
      throw error;
    });
    return this.#init;
  }

  /** After close(), new updates are refused (`unavailable`) so Telegram delivers them later. */
  close(): void {
    this.#closed = true;
  }

  get inFlight(): number {
    return this.#inFlight.size;
  }

  /**
   * Handles one update unless it was handled already; never rejects. When another run (here or on
   * another replica) holds the claim, a webhook delivery answers `busy` (Telegram retries later),
   * while polling waits for that run to finish or its claim to expire, so neither order nor the
   * update is lost. `aborted` when `signal` fired while waiting (the update was not handled).
   */
  process(update: Update, source: UpdateSource, signal?: AbortSignal): Promise<ProcessResult> {
    const promise = this.#run(update, source, signal);
    this.#inFlight.add(promise);
    void promise.finally(() => this.#inFlight.delete(promise));
    return promise;
  }

  async #claim(updateId: number, source: UpdateSource, signal?: AbortSignal): Promise<ProcessResult | 'claimed'> {
    for (let vanished = 0; ; ) {
      if (await this.#dedupe.claim(updateId)) return 'claimed';
      const state = await this.#dedupe.state(updateId);
      if (state === 'done') return 'duplicate';
      if (state === 'none') {
        // The claim expired in between: claim again (a store that keeps contradicting itself gets
        // the update handled: at-least-once rather than a busy loop).
        if (++vanished >= 3) return 'claimed';
        continue;
      }
      if (source === 'webhook') return 'busy';
      try {
        await sleep(BUSY_RETRY_MS, { clock: this.#clock, signal, unref: true });
      } catch {
        return 'aborted';
      }
    }
  }

  async #run(update: Update, source: UpdateSource, signal?: AbortSignal): Promise<ProcessResult> {
    const updateId = update.update_id;
    const info: UpdateInfo = { updateId, source };
    if (this.#closed) return 'unavailable';
    try {
      if (!this.#initDone) {
        await this.init(new AbortController().signal);
        this.#initDone = true;
      }
    } catch (cause) {
      this.#hooks.error(
        new FailoverError(FailoverErrorCode.HandlerFailed, `The bot could not be initialised for update ${updateId}`, {
          cause,
          updateId,
        }),
      );
      return 'unavailable';
    }
    let claimed = true;
    let dedupeOk = true;
    try {
      const outcome = await this.#claim(updateId, source, signal);
      if (outcome === 'busy' || outcome === 'aborted') return outcome;
      claimed = outcome === 'claimed';
    } catch (cause) {
      dedupeOk = false;
      this.#hooks.error(
        new FailoverError(FailoverErrorCode.DedupeFailed, `Dedupe store failed to claim update ${updateId}`, {
          cause,
          updateId,
        }),
      );
    }
    if (!claimed) {
      this.#logger.debug?.({ updateId, source }, 'duplicate update skipped');
      this.#hooks.duplicate(info);
      return 'duplicate';
    }
    this.#hooks.received(info);
    try {
      await this.#adapter.handleUpdate(update);
    } catch (cause) {
      if (isRefusal(cause)) {
        // Refused by shutdown.middleware(): not handled. Forget the claim and leave the update with
        // Telegram (webhook: 503; polling: the offset stays before it), so the next start gets it.
        if (dedupeOk) await this.#dedupe.release(updateId).catch(() => {});
        return 'unavailable';
      }
      this.#hooks.error(
        new FailoverError(FailoverErrorCode.HandlerFailed, `The bot's handler failed on update ${updateId}`, {
          cause,
          updateId,
        }),
      );
    }
    if (dedupeOk) {
      try {
        await this.#dedupe.complete(updateId);
      } catch (cause) {
        this.#hooks.error(
          new FailoverError(FailoverErrorCode.DedupeFailed, `Dedupe store failed to complete update ${updateId}`, {
            cause,
            updateId,
          }),
        );
      }
    }
    return 'handled';
  }

  /** Resolves once every update in flight (including ones started meanwhile) is finished. */
  async drain(): Promise<void> {
    while (this.#inFlight.size > 0) await Promise.allSettled([...this.#inFlight]);
  }
}
