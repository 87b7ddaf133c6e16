import { BotkitError } from '@botkit/core';

/**
 * Stable codes of {@link FailoverError}.
 *
 * @example
 * ```ts
 * import { FailoverErrorCode } from '@botkit/failover';
 * import { isBotkitError } from '@botkit/core';
 *
 * failover.on('error', (error) => {
 *   if (isBotkitError(error, FailoverErrorCode.Unauthorized)) process.exitCode = 1;
 * });
 * ```
 */
export const FailoverErrorCode = Object.freeze({
  /** Telegram answered 401: the token is wrong or was revoked. The failover stopped itself. */
  Unauthorized: 'BOTKIT_FAILOVER_UNAUTHORIZED',
  /** Telegram answered 409 to getUpdates: another poller (or a webhook) is active for this bot. */
  Conflict: 'BOTKIT_FAILOVER_CONFLICT',
  /** The bot's handler threw while handling an update (the update counts as handled). */
  HandlerFailed: 'BOTKIT_FAILOVER_HANDLER_FAILED',
  /** The bot's handler did not finish within `handlerTimeoutMs` of a webhook request. */
  HandlerTimeout: 'BOTKIT_FAILOVER_HANDLER_TIMEOUT',
  /** Telegram reports a webhook error caused by the app itself (e.g. a 500), not by the transport. */
  WebhookAppError: 'BOTKIT_FAILOVER_WEBHOOK_APP_ERROR',
  /** A Bot API call of the failover (setWebhook, deleteWebhook, getUpdates...) failed. */
  TelegramFailed: 'BOTKIT_FAILOVER_TELEGRAM_FAILED',
  /** A switch between webhook and polling could not be completed; it is retried. */
  SwitchFailed: 'BOTKIT_FAILOVER_SWITCH_FAILED',
  /** The dedupe store (e.g. Redis) failed; the update was handled anyway (at-least-once). */
  DedupeFailed: 'BOTKIT_FAILOVER_DEDUPE_FAILED',
} as const);

/** One of the {@link FailoverErrorCode} values. */
export type FailoverErrorCodeValue = (typeof FailoverErrorCode)[keyof typeof FailoverErrorCode];

/**
 * An error reported by the failover (through its `error` event, or thrown by `start()`).
 * Recognise it by `code` with `isBotkitError(error, code)`; its message never contains the
 * bot token or the webhook secret.
 *
 * @example
 * ```ts
 * import { FailoverError, FailoverErrorCode } from '@botkit/failover';
 *
 * const error = new FailoverError(FailoverErrorCode.Conflict, 'another poller is running');
 * console.log(error.code); // 'BOTKIT_FAILOVER_CONFLICT'
 * ```
 */
export class FailoverError extends BotkitError {
  /** The update concerned, when there is one. */
  readonly updateId: number | undefined;

  /**
   * @param code - one of {@link FailoverErrorCode}
   * @param message - description, free of secrets
   * @param options - `cause` and the `updateId` concerned
   */
  constructor(code: FailoverErrorCodeValue, message: string, options: { cause?: unknown; updateId?: number } = {}) {
    super(code, message, 'cause' in options ? { cause: options.cause } : {});
    this.updateId = options.updateId;
  }
}
