'use strict';
const { retryPresets, withRetry } = require('@botkit/circuit');

/**
 * Makes `telegram.callApi` (a Telegraf `Telegram` client) retry with @botkit/circuit's `telegram`
 * preset: 429 after exactly `retry_after`, 5xx and network errors with backoff, never other 4xx. A 5xx or 429 answer means Telegram did not perform the call, so a retry cannot
 * send a message twice. `getUpdates` is left to the poller, which waits `retry_after` itself.
 * Bounded by time rather than by the preset's 3 retries (a flood-wait storm easily rejects 4 calls
 * in a row): up to `retries` (8) retries, none started after `maxRetryTimeMs` (15 s), flood waits
 * over `maxRetryAfterMs` (10 s) not waited, so a call gives up within about 25 s. Telegraf gives every update its own client
 * (`ctx.telegram`), so apply this to `bot.telegram` and, in a middleware, to each `ctx.telegram`.
 */
function retryTelegramCalls(telegram, { retries = 8, maxRetryTimeMs = 15_000, maxRetryAfterMs = 10_000, logger } = {}) {
  const callApi = telegram.callApi.bind(telegram);
  telegram.callApi = (method, payload, options = {}) => {
    if (method === 'getUpdates') return callApi(method, payload, options);
    return withRetry(() => callApi(method, payload, options), {
      ...retryPresets.telegram,
      retries,
      maxRetryTimeMs,
      maxRetryAfterMs,
      signal: options.signal,
      onRetry: ({ error, attempt, delayMs }) =>
        logger?.warn({ method, attempt, delayMs, errorCode: error?.code }, 'telegram call failed, retrying'),
    });
  };
  return telegram;
}

module.exports = { retryTelegramCalls };
