import type { Logger } from '@botkit/core';
import { retryPresets, withRetry } from '@botkit/circuit';
import type { Transformer } from 'grammy';

/** Bounds of {@link retryTelegramCalls}. */
export interface TelegramRetryOptions {
  /** Retries after the first attempt (flood waits included). @defaultValue `8` */
  retries?: number | undefined;
  /** No new retry once this much time has passed since the first attempt. @defaultValue `15000` */
  maxRetryTimeMs?: number | undefined;
  /** Longest `retry_after` honoured; a longer flood wait fails the call at once. @defaultValue `10000` */
  maxRetryAfterMs?: number | undefined;
  logger?: Logger | undefined;
}

/** A failed call's raw answer, as grammY hands it to transformers. */
interface FailedCall {
  ok: false;
  error_code: number;
  description: string;
  parameters?: { retry_after?: number };
}

/**
 * Thrown inside withRetry for a retryable answer (p-retry needs an Error); carries `error_code` and
 * `parameters`, the fields the `telegram` preset reads from grammY errors.
 */
class RetryableAnswer extends Error {
  readonly error_code: number;
  readonly parameters: FailedCall['parameters'];

  constructor(readonly answer: FailedCall) {
    super(answer.description);
    this.name = 'RetryableAnswer';
    this.error_code = answer.error_code;
    this.parameters = answer.parameters;
  }
}

const isFailedCall = (value: unknown): value is FailedCall =>
  typeof value === 'object' && value !== null && (value as { ok?: unknown }).ok === false;

/**
 * A grammY API transformer (`bot.api.config.use(...)`) that retries Telegram calls with
 * @botkit/circuit's `telegram` preset: 429 after exactly `retry_after`, 5xx and network errors with
 * backoff, never other 4xx. Bounded by time rather than by the preset's 3 retries (a flood-wait
 * storm easily rejects 4 calls in a row): up to 8 retries, none started after 15 s, flood waits
 * over 10 s not waited, so a call gives up within about 25 s. A 5xx or 429 answer means Telegram
 * did not perform the call, so a retry cannot send a message twice. `getUpdates` is left to the
 * poller, which waits `retry_after` itself. Out of retries, the last answer goes back to grammY,
 * which throws its usual GrammyError.
 */
export function retryTelegramCalls(options: TelegramRetryOptions = {}): Transformer {
  const { retries = 8, maxRetryTimeMs = 15_000, maxRetryAfterMs = 10_000, logger } = options;
  return async (prev, method, payload, signal) => {
    if (method === 'getUpdates') return prev(method, payload, signal);
    try {
      return await withRetry(
        async () => {
          const result = await prev(method, payload, signal);
          // grammY hands transformers the raw answer: throw the retryable ones so the preset sees them.
          if (isFailedCall(result) && (result.error_code === 429 || result.error_code >= 500))
            throw new RetryableAnswer(result);
          return result;
        },
        {
          ...retryPresets.telegram,
          retries,
          maxRetryTimeMs,
          maxRetryAfterMs,
          signal, // grammY's polyfilled signal: withRetry follows it
          onRetry: ({ error, attempt, delayMs }) =>
            logger?.warn(
              { method, attempt, delayMs, errorCode: error instanceof RetryableAnswer ? error.error_code : undefined },
              'telegram call failed, retrying',
            ),
        },
      );
    } catch (error) {
      if (error instanceof RetryableAnswer) return error.answer as never; // out of retries: grammY throws its GrammyError
      throw error;
    }
  };
}
