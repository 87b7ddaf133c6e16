import { createTestClock, TelegramError, TelegramErrorCode, type TelegramErrorCodeValue } from '@botkit/core';
import { ReplyError } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { CircuitOpenError } from './errors.js';
import { type RetryInfo, retryPresets, withRetry } from './retry.js';

const tg = (code: TelegramErrorCodeValue, errorCode?: number, retryAfterMs?: number) =>
  new TelegramError(code, `telegram ${errorCode ?? code}`, { method: 'sendMessage', errorCode, retryAfterMs });

/** An operation failing with the given errors in turn, then succeeding. */
function script(...errors: unknown[]) {
  let calls = 0;
  return {
    fn: async () => {
      const error = errors[calls++];
      if (error !== undefined) throw error;
      return 'done';
    },
    get calls() {
      return calls;
    },
  };
}

const until = async (check: () => boolean) => {
  for (let i = 0; i < 200 && !check(); i++) await new Promise((r) => setImmediate(r));
};

describe('withRetry', () => {
  it('telegram: waits exactly retry_after before retrying a 429', async () => {
    const clock = createTestClock();
    const op = script(tg(TelegramErrorCode.RateLimited, 429, 3000));
    const seen: RetryInfo[] = [];
    const result = withRetry(op.fn, { ...retryPresets.telegram, clock, onRetry: (info) => seen.push(info) });
    await until(() => clock.pendingTimers === 1);
    expect(op.calls).toBe(1);
    await clock.advance(2999);
    expect(op.calls).toBe(1);
    await clock.advance(1);
    expect(await result).toBe('done');
    expect(op.calls).toBe(2);
    expect(seen).toEqual([expect.objectContaining({ attempt: 1, delayMs: 3000 })]);
  });

  it('telegram: understands grammY and Telegraf 429 shapes (retry_after in seconds)', async () => {
    const clock = createTestClock();
    const grammy = Object.assign(new Error('Too Many Requests'), {
      name: 'GrammyError',
      error_code: 429,
      parameters: { retry_after: 2 },
    });
    const telegraf = Object.assign(new Error('429'), { response: { error_code: 429, parameters: { retry_after: 1 } } });
    const op = script(grammy, telegraf);
    const result = withRetry(op.fn, { ...retryPresets.telegram, clock });
    await until(() => clock.pendingTimers === 1);
    await clock.advance(2000);
    await until(() => op.calls === 2 && clock.pendingTimers === 1);
    await clock.advance(1000);
    expect(await result).toBe('done');
    expect(op.calls).toBe(3);
  });

  it('telegram: never retries 403, 400 or 401', async () => {
    for (const [code, status] of [
      [TelegramErrorCode.Forbidden, 403],
      [TelegramErrorCode.BadRequest, 400],
      [TelegramErrorCode.Unauthorized, 401],
    ] as const) {
      const error = tg(code, status);
      const op = script(error, error);
      await expect(withRetry(op.fn, 'telegram')).rejects.toBe(error);
      expect(op.calls).toBe(1);
    }
  });

  it('telegram: retries network errors and 5xx with backoff, up to `retries`', async () => {
    const op = script(tg(TelegramErrorCode.Network), tg(TelegramErrorCode.ServerError, 502));
    expect(await withRetry(op.fn, { ...retryPresets.telegram, minDelayMs: 1, maxDelayMs: 2 })).toBe('done');
    expect(op.calls).toBe(3);

    const error = tg(TelegramErrorCode.ServerError, 500);
    const always = script(error, error, error, error, error);
    await expect(withRetry(always.fn, { ...retryPresets.telegram, retries: 2, minDelayMs: 1 })).rejects.toBe(error);
    expect(always.calls).toBe(3);
  });

  it('telegram: does not wait for a retry_after above the cap, and counts 429s against retries', async () => {
    const clock = createTestClock();
    const long = tg(TelegramErrorCode.RateLimited, 429, 120_000);
    const op = script(long);
    await expect(withRetry(op.fn, { ...retryPresets.telegram, clock })).rejects.toBe(long);
    expect(op.calls).toBe(1);

    const short = tg(TelegramErrorCode.RateLimited, 429, 10);
    const flood = script(short, short, short, short, short);
    const result = withRetry(flood.fn, { ...retryPresets.telegram, retries: 2, clock }).catch((e: unknown) => e);
    for (let i = 0; i < 5; i++) {
      await until(() => clock.pendingTimers === 1);
      await clock.advance(10);
    }
    expect(await result).toBe(short);
    expect(flood.calls).toBe(3);
  });

  it('stops at once when the signal aborts during a wait, leaving no timer', async () => {
    const clock = createTestClock();
    const controller = new AbortController();
    const op = script(tg(TelegramErrorCode.RateLimited, 429, 30_000));
    const result = withRetry(op.fn, { ...retryPresets.telegram, clock, signal: controller.signal });
    await until(() => clock.pendingTimers === 1);
    const reason = new Error('shutting down');
    controller.abort(reason);
    await expect(result).rejects.toBe(reason);
    expect(clock.pendingTimers).toBe(0);
    expect(op.calls).toBe(1);

    const before = new AbortController();
    before.abort(reason);
    const never = script();
    await expect(withRetry(never.fn, { signal: before.signal })).rejects.toBe(reason);
    expect(never.calls).toBe(0);
  });

  it('accepts a polyfilled signal (grammY hands its transformers one) and follows its abort', async () => {
    // Shaped like the abort-controller polyfill grammY uses in Node: an EventTarget, not an AbortSignal.
    class PolyfillSignal extends EventTarget {
      aborted = false;
      abort() {
        this.aborted = true;
        this.dispatchEvent(new Event('abort'));
      }
    }
    const clock = createTestClock();
    const polyfill = new PolyfillSignal();
    const op = script(tg(TelegramErrorCode.RateLimited, 429, 30_000));
    const signal = polyfill as unknown as AbortSignal;
    const result = withRetry(op.fn, { ...retryPresets.telegram, clock, signal });
    await until(() => clock.pendingTimers === 1);
    polyfill.abort();
    await expect(result).rejects.toBeDefined();
    expect(clock.pendingTimers).toBe(0);
    expect(op.calls).toBe(1);
    expect(() => withRetry(op.fn, { signal: {} as AbortSignal })).toThrow(/AbortSignal/);
  });

  it('never retries an open circuit', async () => {
    const error = new CircuitOpenError('redis');
    for (const preset of ['redis', 'db', 'api', 'telegram'] as const) {
      const op = script(error);
      await expect(withRetry(op.fn, preset)).rejects.toBe(error);
      expect(op.calls).toBe(1);
    }
  });

  it('redis: retries connection errors but not reply errors', async () => {
    const reset = Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' });
    const op = script(reset);
    expect(await withRetry(op.fn, { ...retryPresets.redis, minDelayMs: 1 })).toBe('done');
    expect(op.calls).toBe(2);
    const wrongType = new ReplyError('WRONGTYPE Operation against a key holding the wrong kind of value');
    const bad = script(wrongType);
    await expect(withRetry(bad.fn, 'redis')).rejects.toBe(wrongType);
    expect(bad.calls).toBe(1);
  });

  it('api and db: retry 5xx/429/network and transient SQL states, never other 4xx', async () => {
    const notFound = Object.assign(new Error('404'), { status: 404 });
    const op = script(Object.assign(new Error('503'), { status: 503 }), notFound);
    await expect(withRetry(op.fn, { ...retryPresets.api, minDelayMs: 1 })).rejects.toBe(notFound);
    expect(op.calls).toBe(2);
    const deadlock = Object.assign(new Error('deadlock detected'), { code: '40P01' });
    const unique = Object.assign(new Error('duplicate key'), { code: '23505' });
    const db = script(deadlock, unique);
    await expect(withRetry(db.fn, { ...retryPresets.db, minDelayMs: 1 })).rejects.toBe(unique);
    expect(db.calls).toBe(2);
  });

  it('rejects bad options with a TypeError naming the option', () => {
    const fn = async () => 1;
    expect(() => withRetry(fn, { retries: -1 })).toThrow(/retries/);
    expect(() => withRetry(fn, { minDelayMs: -5 })).toThrow(/minDelayMs/);
    expect(() => withRetry(fn, { onRetry: 'log' as never })).toThrow(/onRetry/);
    expect(() => withRetry(fn, 'graphql' as never)).toThrow(/preset/);
  });
});
