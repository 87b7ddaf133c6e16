import { type Clock, isBotkitError, sleep, systemClock } from '@botkit/core';
import pRetry from 'p-retry';
import { CircuitErrorCode } from './errors.js';
import { isRedisFailure } from './redis-errors.js';
import { checkFunction, checkNumber } from './validate.js';

/**
 * What {@link RetryOptions.onRetry} is told before each retry.
 *
 * @example
 * ```ts
 * import type { RetryInfo } from '@botkit/circuit';
 *
 * const onRetry = ({ error, attempt, delayMs }: RetryInfo) => logger.warn({ err: error, attempt, delayMs }, 'retrying');
 * ```
 */
export interface RetryInfo {
  /** The error of the attempt that failed. */
  error: unknown;
  /** Number of the attempt that failed (1 = the first call). */
  attempt: number;
  /** How long until the next attempt, in milliseconds (exactly `retry_after` for 429s). */
  delayMs: number;
}

/**
 * Options of {@link withRetry}; each preset in {@link retryPresets} is one of these.
 *
 * @example
 * ```ts
 * import { retryPresets, type RetryOptions } from '@botkit/circuit';
 *
 * const options: RetryOptions = { ...retryPresets.api, retries: 5, maxRetryTimeMs: 30_000 };
 * ```
 */
export interface RetryOptions {
  /** Retries after the first attempt. @defaultValue `3` */
  retries?: number | undefined;
  /** Delay before the first retry, in milliseconds. @defaultValue `200` */
  minDelayMs?: number | undefined;
  /** Longest delay between retries, in milliseconds. @defaultValue `5000` */
  maxDelayMs?: number | undefined;
  /** Growth factor of the delay. @defaultValue `2` */
  factor?: number | undefined;
  /** Multiplies each delay by a random factor between 1 and 2. @defaultValue `true` */
  randomize?: boolean | undefined;
  /** Gives up once retrying has taken this long, in milliseconds. @defaultValue `Infinity` */
  maxRetryTimeMs?: number | undefined;
  /** Whether an error can succeed on retry. @defaultValue every error except {@link CircuitOpenError} */
  shouldRetry?: ((error: unknown) => boolean) | undefined;
  /**
   * A wait the server asked for (Telegram's `retry_after`), in milliseconds, or undefined. Such a
   * wait is honoured exactly instead of the backoff. @defaultValue none
   */
  retryAfterMs?: ((error: unknown) => number | undefined) | undefined;
  /** Longest server-requested wait honoured; a longer one is not retried (the error is thrown). @defaultValue `60000` */
  maxRetryAfterMs?: number | undefined;
  /** Called before each retry, e.g. to log it. @defaultValue none */
  onRetry?: ((info: RetryInfo) => void) | undefined;
  /**
   * Stops retrying (and any wait) and rejects with the signal's reason. A polyfilled signal (such
   * as the one grammY hands its API transformers) is accepted and followed. @defaultValue none
   */
  signal?:
    | AbortSignal
    | { readonly aborted: boolean; addEventListener(type: 'abort', listener: () => void): void }
    | undefined;
  /** Source of time for server-requested waits. @defaultValue `systemClock` */
  clock?: Clock | undefined;
}

/**
 * Names of the built-in {@link retryPresets}.
 *
 * @example
 * ```ts
 * import { withRetry, type RetryPresetName } from '@botkit/circuit';
 *
 * const preset: RetryPresetName = 'telegram';
 * await withRetry(() => api.call('getMe'), preset);
 * ```
 */
export type RetryPresetName = 'redis' | 'db' | 'api' | 'telegram';

/**
 * What {@link withRetry} passes to each attempt.
 *
 * @example
 * ```ts
 * import { withRetry, type RetryAttempt } from '@botkit/circuit';
 *
 * const load = ({ attempt, signal }: RetryAttempt) => fetch(`https://example.com/?try=${attempt}`, { signal });
 * await withRetry(load, 'api');
 * ```
 */
export interface RetryAttempt {
  /** Attempt number, from 1. */
  attempt: number;
  /** The caller's signal, if any: pass it on so an abort stops the attempt too. */
  signal: AbortSignal | undefined;
}

const NETWORK_CODES = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'ECONNABORTED',
  'ETIMEDOUT',
  'EPIPE',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENETDOWN',
  'UND_ERR_SOCKET',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
]);

type Loose = Record<string, unknown> & {
  response?: Record<string, unknown> & { parameters?: Record<string, unknown> };
  parameters?: Record<string, unknown>;
};
const loose = (error: unknown): Loose | undefined =>
  typeof error === 'object' && error !== null ? (error as Loose) : undefined;

function isCircuitOpen(error: unknown): boolean {
  return isBotkitError(error, CircuitErrorCode.Open);
}

function isNetworkError(error: unknown): boolean {
  const e = loose(error);
  if (!e) return false;
  if (typeof e.code === 'string' && NETWORK_CODES.has(e.code)) return true;
  return e.cause !== undefined && e.cause !== error && isNetworkError(e.cause);
}

/** HTTP status of an error from common clients (`status`, `statusCode`, `response.status`). */
function httpStatus(error: unknown): number | undefined {
  const e = loose(error);
  const value = e?.status ?? e?.statusCode ?? e?.response?.status;
  return typeof value === 'number' ? value : undefined;
}

/** Telegram error code from @botkit/core, grammY (`error_code`) or Telegraf (`response.error_code`). */
function telegramCode(error: unknown): number | undefined {
  const e = loose(error);
  const value = e?.errorCode ?? e?.error_code ?? e?.response?.error_code;
  return typeof value === 'number' ? value : undefined;
}

/**
 * Telegram's `retry_after` in milliseconds, from a `@botkit/core` TelegramError (`retryAfterMs`),
 * a grammY GrammyError (`parameters.retry_after`, seconds) or a Telegraf error
 * (`response.parameters.retry_after`, seconds).
 */
function telegramRetryAfterMs(error: unknown): number | undefined {
  const e = loose(error);
  if (!e) return undefined;
  if (typeof e.retryAfterMs === 'number') return e.retryAfterMs;
  const seconds = e.parameters?.retry_after ?? e.response?.parameters?.retry_after;
  return typeof seconds === 'number' ? seconds * 1000 : undefined;
}

function isTelegramRetryable(error: unknown): boolean {
  if (isCircuitOpen(error)) return false;
  const e = loose(error);
  if (isBotkitError(error) && typeof e?.retryable === 'boolean') return e.retryable;
  if (e?.name === 'HttpError') return true; // grammY: the request did not reach Telegram
  const code = telegramCode(error);
  if (code !== undefined) return code === 429 || code >= 500;
  return isNetworkError(error) || isBotkitError(error, 'BOTKIT_TIMEOUT');
}

function isApiRetryable(error: unknown): boolean {
  if (isCircuitOpen(error)) return false;
  const status = httpStatus(error);
  if (status !== undefined) return status === 429 || status === 408 || status >= 500;
  return isNetworkError(error) || isBotkitError(error, 'BOTKIT_TIMEOUT') || loose(error)?.name === 'TimeoutError';
}

/** PostgreSQL SQLSTATEs worth retrying: connection exceptions, serialization failure, deadlock, shutdown. */
function isDbRetryable(error: unknown): boolean {
  if (isCircuitOpen(error)) return false;
  const code = loose(error)?.code;
  if (typeof code === 'string') {
    if (/^08/.test(code) || code === '40001' || code === '40P01' || code === '57P01' || code === '57P03') return true;
    if (code === 'SQLITE_BUSY' || code === 'SQLITE_LOCKED') return true;
  }
  return isNetworkError(error) || isBotkitError(error, 'BOTKIT_TIMEOUT');
}

/**
 * Ready-made retry policies for {@link withRetry}. Each retries only what can succeed on retry
 * and never retries {@link CircuitOpenError} (an open breaker means "stop trying").
 *
 * - `redis`: 2 retries, 50-500 ms; connection errors, timeouts and `LOADING`/`READONLY`/... (see
 *   {@link isRedisFailure}); never reply errors such as `WRONGTYPE`. Retry idempotent commands only.
 * - `db`: 3 retries, 100 ms-2 s; network errors, PostgreSQL connection exceptions (08xxx),
 *   serialization failures and deadlocks (40001, 40P01), restarts (57P01, 57P03), `SQLITE_BUSY`.
 * - `api`: 3 retries, 200 ms-5 s; network errors, timeouts, HTTP 408, 429 and 5xx; never other 4xx.
 * - `telegram`: 3 retries, 500 ms-10 s; network errors, timeouts, 5xx and 429, where
 *   `retry_after` is honoured exactly (up to 60 s; longer waits are not retried); never other 4xx
 *   such as 403 "bot was blocked by the user". Understands `@botkit/core`, grammY and Telegraf errors.
 *
 * @example
 * ```ts
 * import { retryPresets, withRetry } from '@botkit/circuit';
 *
 * await withRetry(({ signal }) => api.call('sendMessage', { chat_id: 1, text: 'hi' }, { signal }), {
 *   ...retryPresets.telegram,
 *   retries: 5,
 * });
 * ```
 */
export const retryPresets: Readonly<Record<RetryPresetName, Readonly<RetryOptions>>> = Object.freeze({
  redis: Object.freeze({
    retries: 2,
    minDelayMs: 50,
    maxDelayMs: 500,
    shouldRetry: (error: unknown) => !isCircuitOpen(error) && isRedisFailure(error),
  }),
  db: Object.freeze({ retries: 3, minDelayMs: 100, maxDelayMs: 2000, shouldRetry: isDbRetryable }),
  api: Object.freeze({
    retries: 3,
    minDelayMs: 200,
    maxDelayMs: 5000,
    shouldRetry: isApiRetryable,
    retryAfterMs: (error: unknown) => {
      const e = loose(error);
      return httpStatus(error) === 429 && typeof e?.retryAfterMs === 'number' ? e.retryAfterMs : undefined;
    },
  }),
  telegram: Object.freeze({
    retries: 3,
    minDelayMs: 500,
    maxDelayMs: 10_000,
    shouldRetry: isTelegramRetryable,
    retryAfterMs: (error: unknown) =>
      isTelegramRetryable(error) &&
      (telegramCode(error) === 429 || isBotkitError(error, 'BOTKIT_TELEGRAM_RATE_LIMITED'))
        ? telegramRetryAfterMs(error)
        : undefined,
    maxRetryAfterMs: 60_000,
  }),
});

function validate(options: RetryOptions): void {
  checkNumber('retries', options.retries, 0, { integer: true, infinite: true });
  checkNumber('minDelayMs', options.minDelayMs, 0);
  checkNumber('maxDelayMs', options.maxDelayMs, 0, { infinite: true });
  checkNumber('factor', options.factor, 0);
  checkNumber('maxRetryTimeMs', options.maxRetryTimeMs, 0, { infinite: true });
  checkNumber('maxRetryAfterMs', options.maxRetryAfterMs, 0, { infinite: true });
  checkFunction('shouldRetry', options.shouldRetry);
  checkFunction('retryAfterMs', options.retryAfterMs);
  checkFunction('onRetry', options.onRetry);
  if (options.signal !== undefined && !isSignalLike(options.signal)) {
    throw new TypeError('Expected signal to be an AbortSignal');
  }
}

/** An AbortSignal, or one from a polyfill (grammY passes `abort-controller`'s to its transformers). */
function isSignalLike(value: unknown): boolean {
  if (value instanceof AbortSignal) return true;
  const v = value as { aborted?: unknown; addEventListener?: unknown } | null;
  return (
    typeof v === 'object' && v !== null && typeof v.aborted === 'boolean' && typeof v.addEventListener === 'function'
  );
}

/** A native AbortSignal that follows `signal` (p-retry and timers need the native class). */
function nativeSignal(signal: RetryOptions['signal']): AbortSignal | undefined {
  if (signal === undefined || signal instanceof AbortSignal) return signal;
  const controller = new AbortController();
  const abort = () => controller.abort((signal as { reason?: unknown }).reason);
  if (signal.aborted) abort();
  else signal.addEventListener('abort', abort);
  return controller.signal;
}

/**
 * Runs `fn` and retries it with exponential backoff (on p-retry) while the error can succeed on
 * retry. Server-requested waits (Telegram's `retry_after`) are honoured exactly. Aborting
 * `signal` stops at once, also during a wait, and rejects with the signal's reason.
 *
 * @param fn - the operation; receives the attempt number and the signal to pass on
 * @param options - a preset name (`'redis'`, `'db'`, `'api'`, `'telegram'`), or options (spread a
 *   preset to adjust it) @defaultValue `'api'`
 * @returns what `fn` resolves to
 * @throws the last error when retries are exhausted or the error is not retryable; the signal's
 *   reason when aborted; TypeError for invalid options
 *
 * @example
 * ```ts
 * import { withRetry } from '@botkit/circuit';
 *
 * const controller = new AbortController();
 * const me = await withRetry(({ signal }) => api.call('getMe', {}, { signal }), {
 *   ...retryPresets.telegram,
 *   signal: controller.signal,
 *   onRetry: ({ error, attempt, delayMs }) => logger.warn({ err: error, attempt, delayMs }, 'retrying getMe'),
 * });
 * ```
 */
export function withRetry<T>(
  fn: (attempt: RetryAttempt) => Promise<T>,
  options: RetryPresetName | RetryOptions = 'api',
): Promise<T> {
  if (typeof fn !== 'function') throw new TypeError(`Expected fn to be a function, got ${typeof fn}`);
  let resolved: RetryOptions;
  if (typeof options === 'string') {
    if (!Object.hasOwn(retryPresets, options)) {
      throw new TypeError(`Expected a retry preset (redis, db, api, telegram), got ${options}`);
    }
    resolved = retryPresets[options];
  } else {
    resolved = options;
  }
  validate(resolved);
  const {
    retries = 3,
    minDelayMs = 200,
    maxDelayMs = 5000,
    factor = 2,
    randomize = true,
    maxRetryTimeMs = Number.POSITIVE_INFINITY,
    shouldRetry = (error: unknown) => !isCircuitOpen(error),
    retryAfterMs,
    maxRetryAfterMs = 60_000,
    onRetry,
    clock = systemClock,
  } = resolved;
  const signal = nativeSignal(resolved.signal);
  if (signal?.aborted) return Promise.reject(signal.reason);

  let pendingWaitMs = 0;
  let serverWaits = 0;
  const requestedWait = (error: unknown): number | undefined => {
    const ms = retryAfterMs?.(error);
    return typeof ms === 'number' && Number.isFinite(ms) && ms >= 0 ? ms : undefined;
  };
  return pRetry(
    async (attempt) => {
      if (pendingWaitMs > 0) {
        const ms = pendingWaitMs;
        pendingWaitMs = 0;
        await sleep(ms, { signal, clock });
      }
      return fn({ attempt, signal });
    },
    {
      retries,
      factor,
      minTimeout: minDelayMs,
      maxTimeout: maxDelayMs,
      randomize,
      maxRetryTime: maxRetryTimeMs,
      signal,
      // A server-requested wait replaces the backoff: it does not grow the backoff, and is waited
      // exactly inside the next attempt. It still counts against `retries` (see shouldRetry).
      shouldConsumeRetry: ({ error }) => requestedWait(error) === undefined,
      shouldRetry: ({ error, attemptNumber, retryDelay, retriesLeft, retriesConsumed }) => {
        if (!shouldRetry(error)) return false;
        const wait = requestedWait(error);
        if (wait !== undefined) {
          if (wait > maxRetryAfterMs || serverWaits + retriesConsumed >= retries) return false;
          serverWaits++;
          pendingWaitMs = wait;
          onRetry?.({ error, attempt: attemptNumber, delayMs: wait });
          return true;
        }
        if (retriesLeft <= 0 || serverWaits + retriesConsumed > retries) return false;
        onRetry?.({ error, attempt: attemptNumber, delayMs: retryDelay });
        return true;
      },
    },
  );
}
