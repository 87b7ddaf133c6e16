import { BotkitError } from '@botkit/core';

/**
 * Stable codes of the errors thrown by `@botkit/circuit`. Match on these with
 * `isBotkitError(error, CircuitErrorCode.Open)`, never on message text.
 *
 * @example
 * ```ts
 * import { isBotkitError } from '@botkit/core';
 * import { CircuitErrorCode } from '@botkit/circuit';
 *
 * try {
 *   await redis.get('session:1');
 * } catch (error) {
 *   if (isBotkitError(error, CircuitErrorCode.Open)) console.warn('Redis is down, degraded mode');
 * }
 * ```
 */
export const CircuitErrorCode = Object.freeze({
  /** The breaker is open (or half-open with its trial in flight): the call was not attempted. */
  Open: 'BOTKIT_CIRCUIT_OPEN',
  /** The call did not settle within `timeoutMs` (`commandTimeoutMs` for Redis). */
  Timeout: 'BOTKIT_CIRCUIT_TIMEOUT',
  /** The Redis connection closed while the command was in flight; it will not be resent. */
  ConnectionLost: 'BOTKIT_CIRCUIT_CONNECTION_LOST',
} as const);

/**
 * One of the {@link CircuitErrorCode} values.
 *
 * @example
 * ```ts
 * import type { CircuitErrorCodeValue } from '@botkit/circuit';
 *
 * const code: CircuitErrorCodeValue = 'BOTKIT_CIRCUIT_OPEN';
 * ```
 */
export type CircuitErrorCodeValue = (typeof CircuitErrorCode)[keyof typeof CircuitErrorCode];

/**
 * Thrown (or passed to the fallback) when a call is rejected without being attempted because
 * the breaker is open, or half-open with its single trial already in flight.
 *
 * @example
 * ```ts
 * import { isBotkitError } from '@botkit/core';
 *
 * try {
 *   await breaker.fire();
 * } catch (error) {
 *   if (isBotkitError(error, 'BOTKIT_CIRCUIT_OPEN')) await ctx.reply('Busy, try again in a minute');
 * }
 * ```
 */
export class CircuitOpenError extends BotkitError {
  /** Name of the breaker that rejected the call. */
  readonly circuit: string;
  /** Epoch milliseconds when the breaker will allow a trial; undefined while half-open. */
  readonly retryAt: number | undefined;

  /**
   * @param circuit - name of the breaker
   * @param retryAt - epoch ms of the next trial, if known
   * @param message - override of the default message
   * @param options - `cause`, e.g. the error that opened the breaker
   */
  constructor(circuit: string, retryAt?: number, message?: string, options: { cause?: unknown } = {}) {
    super(CircuitErrorCode.Open, message ?? `circuit "${circuit}" is open`, options);
    this.circuit = circuit;
    this.retryAt = retryAt;
  }
}

/**
 * Thrown when a call through the breaker did not settle within its time limit. The call is
 * counted as a failure. For Redis, the command is never resent later by the wrapper.
 *
 * @example
 * ```ts
 * import { isBotkitError } from '@botkit/core';
 *
 * if (isBotkitError(error, 'BOTKIT_CIRCUIT_TIMEOUT')) console.warn(error.message);
 * ```
 */
export class CircuitTimeoutError extends BotkitError {
  /** The time limit that passed, in milliseconds. */
  readonly timeoutMs: number;

  /**
   * @param circuit - name of the breaker
   * @param timeoutMs - the limit that passed
   */
  constructor(circuit: string, timeoutMs: number) {
    super(CircuitErrorCode.Timeout, `call through circuit "${circuit}" timed out after ${timeoutMs} ms`);
    this.timeoutMs = timeoutMs;
  }
}

/**
 * Thrown when the Redis connection closed while a command was in flight. The wrapper turns off
 * ioredis' automatic resend, so the command is not replayed after reconnect: it may or may not
 * have been applied.
 *
 * @example
 * ```ts
 * import { isBotkitError } from '@botkit/core';
 *
 * if (isBotkitError(error, 'BOTKIT_CIRCUIT_CONNECTION_LOST')) console.warn('write outcome unknown');
 * ```
 */
export class ConnectionLostError extends BotkitError {
  /**
   * @param command - the Redis command that was in flight (name only, never arguments)
   */
  constructor(command: string) {
    super(CircuitErrorCode.ConnectionLost, `Redis connection closed while ${command} was in flight`);
  }
}
