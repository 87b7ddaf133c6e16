const BRAND = Symbol.for('botkit.error');

/**
 * Options accepted by {@link BotkitError}.
 */
export interface BotkitErrorOptions {
  /** The underlying error, if any. */
  cause?: unknown;
}

/**
 * Base class of every error thrown by botkit packages. Each error carries a stable string
 * `code` (for example `BOTKIT_CIRCUIT_OPEN`) and a `Symbol.for` brand, so it can be recognised
 * with {@link isBotkitError} even across duplicate installs of a package, where `instanceof`
 * fails. Never match on message text: it is for humans and may change.
 *
 * @example
 * ```ts
 * import { BotkitError, isBotkitError } from '@botkit/core';
 *
 * class QuotaError extends BotkitError {
 *   constructor() {
 *     super('MYBOT_QUOTA', 'Daily quota exceeded');
 *   }
 * }
 * try {
 *   throw new QuotaError();
 * } catch (error) {
 *   if (isBotkitError(error, 'MYBOT_QUOTA')) console.log(error.code);
 * }
 * ```
 */
export class BotkitError extends Error {
  /** Stable machine-readable error code, e.g. `BOTKIT_TELEGRAM_RATE_LIMITED`. */
  readonly code: string;

  /**
   * @param code - stable machine-readable code
   * @param message - human-readable description; must never contain a secret
   * @param options - `cause` of the error
   */
  constructor(code: string, message: string, options: BotkitErrorOptions = {}) {
    super(message, 'cause' in options ? { cause: options.cause } : undefined);
    this.code = code;
    this.name = new.target.name;
    Object.defineProperty(this, BRAND, { value: true, enumerable: false });
  }

  /**
   * A JSON form for structured logs: name, code, message and the cause's name/code/message.
   *
   * @returns a plain object safe to log
   */
  toJSON(): Record<string, unknown> {
    const out: Record<string, unknown> = { name: this.name, code: this.code, message: this.message };
    const cause = this.cause;
    if (cause instanceof Error) {
      out.cause = { name: cause.name, message: cause.message, ...('code' in cause ? { code: cause.code } : {}) };
    }
    return out;
  }
}

/**
 * Tells whether a value is a botkit error, optionally with a given code. Works across
 * duplicate installs (it checks a `Symbol.for` brand, not `instanceof`).
 *
 * @param error - any caught value
 * @param code - when given, the error's `code` must equal it
 * @returns true when `error` is a {@link BotkitError} (with that code)
 *
 * @example
 * ```ts
 * import { isBotkitError } from '@botkit/core';
 *
 * try {
 *   await api.call('getMe');
 * } catch (error) {
 *   if (isBotkitError(error, 'BOTKIT_TELEGRAM_UNAUTHORIZED')) console.error('token revoked');
 * }
 * ```
 */
export function isBotkitError(error: unknown, code?: string): error is BotkitError {
  if (typeof error !== 'object' || error === null) return false;
  if ((error as Record<symbol, unknown>)[BRAND] !== true) return false;
  return code === undefined || (error as BotkitError).code === code;
}
