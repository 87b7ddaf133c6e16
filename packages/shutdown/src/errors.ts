import { BotkitError } from '@botkit/core';

/**
 * The reason of `shutdown.signal` once a shutdown has begun, and the error the update
 * middleware rejects with when it refuses an update because the bot is shutting down (so a
 * webhook answers non-2xx and Telegram delivers the update again, to this or another
 * replica). Code: `BOTKIT_SHUTTING_DOWN`.
 *
 * @example
 * ```ts
 * import { isBotkitError } from '@botkit/core';
 *
 * bot.catch((err) => {
 *   if (isBotkitError(err.error, 'BOTKIT_SHUTTING_DOWN')) return; // handed back to Telegram
 *   console.error(err);
 * });
 * ```
 */
export class ShuttingDownError extends BotkitError {
  /** Why the shutdown began: a signal name such as `SIGTERM`, or the reason given to `shutdown()`. */
  readonly reason: string;

  /**
   * @param reason - why the shutdown began
   */
  constructor(reason: string) {
    super('BOTKIT_SHUTTING_DOWN', `shutting down (${reason})`);
    this.reason = reason;
  }
}
