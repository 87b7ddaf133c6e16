import { BotkitError } from './errors.js';
import { type Clock, systemClock } from './clock.js';

/**
 * Thrown by {@link withTimeout} when the operation did not finish in time.
 *
 * @example
 * ```ts
 * import { isBotkitError } from '@botkit/core';
 *
 * if (isBotkitError(error, 'BOTKIT_TIMEOUT')) console.warn(error.message);
 * ```
 */
export class TimeoutError extends BotkitError {
  /** The limit that was exceeded, in milliseconds. */
  readonly timeoutMs: number;

  /**
   * @param timeoutMs - the limit that was exceeded
   * @param what - what timed out, for the message
   */
  constructor(timeoutMs: number, what = 'operation') {
    super('BOTKIT_TIMEOUT', `${what} timed out after ${timeoutMs} ms`);
    this.timeoutMs = timeoutMs;
  }
}

/**
 * Options of {@link withTimeout}.
 */
export interface WithTimeoutOptions {
  /** Time limit in milliseconds; `Infinity` or undefined means none. */
  timeoutMs?: number | undefined;
  /** Outer signal: aborting it aborts the operation with its reason. */
  signal?: AbortSignal | undefined;
  /** Clock driving the timeout. @defaultValue {@link systemClock} */
  clock?: Clock | undefined;
  /** Name used in the {@link TimeoutError} message. @defaultValue `'operation'` */
  what?: string | undefined;
}

/**
 * Runs `fn` with a derived AbortSignal that aborts when the outer signal aborts or the time
 * limit passes. Settles as soon as either happens even if `fn` ignores its signal, and clears
 * its timer and listeners in every case.
 *
 * @param fn - the operation; receives the derived signal
 * @param options - time limit, outer signal and clock
 * @returns what `fn` resolves to
 * @throws {@link TimeoutError} when the limit passes; the outer signal's reason when it aborts
 *
 * @example
 * ```ts
 * import { withTimeout } from '@botkit/core';
 *
 * const rows = await withTimeout((signal) => db.query('SELECT 1', { signal }), { timeoutMs: 2000 });
 * ```
 */
export function withTimeout<T>(fn: (signal: AbortSignal) => Promise<T>, options: WithTimeoutOptions = {}): Promise<T> {
  const { timeoutMs, signal: outer, clock = systemClock, what } = options;
  if (outer?.aborted) return Promise.reject(outer.reason);
  const controller = new AbortController();
  return new Promise<T>((resolve, reject) => {
    let settled = false;
    const finish = (ok: boolean, value: unknown) => {
      if (settled) return;
      settled = true;
      if (timer) clock.clearTimeout(timer);
      outer?.removeEventListener('abort', onAbort);
      if (ok) resolve(value as T);
      else reject(value);
    };
    const onAbort = () => {
      controller.abort(outer?.reason);
      finish(false, outer?.reason);
    };
    outer?.addEventListener('abort', onAbort, { once: true });
    const timer =
      timeoutMs !== undefined && Number.isFinite(timeoutMs)
        ? clock.setTimeout(() => {
            const error = new TimeoutError(timeoutMs, what);
            controller.abort(error);
            finish(false, error);
          }, timeoutMs)
        : undefined;
    let promise: Promise<T>;
    try {
      promise = fn(controller.signal);
    } catch (error) {
      finish(false, error);
      return;
    }
    Promise.resolve(promise).then(
      (value) => finish(true, value),
      (error: unknown) => finish(false, error),
    );
  });
}
