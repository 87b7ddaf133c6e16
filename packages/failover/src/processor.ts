import type { Logger, Update } from '@botkit/core';
import type { UpdateAdapter } from './adapters.js';
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
  readonly #inFlight = new Set<Promise<unknown>>();

  constructor(adapter: UpdateAdapter, dedupe: DedupeStore, hooks: ProcessorHooks, logger: Logger) {
    this.#adapter = adapter;
    this.#dedupe = dedupe;
    this.#hooks = hooks;
    this.#logger = logger;
  }

  get inFlight(): number {
    return this.#inFlight.size;
  }

  /** Handles one update unless it was handled already; never rejects. */
  process(update: Update, source: UpdateSource): Promise<'handled' | 'duplicate'> {
    const promise = this.#run(update, source);
    this.#inFlight.add(promise);
    void promise.finally(() => this.#inFlight.delete(promise));
    return promise;
  }

  async #run(update: Update, source: UpdateSource): Promise<'handled' | 'duplicate'> {
    const updateId = update.update_id;
    const info: UpdateInfo = { updateId, source };
    let claimed = true;
    let dedupeOk = true;
    try {
      claimed = await this.#dedupe.claim(updateId);
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
