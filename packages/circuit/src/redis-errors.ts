/**
 * Reply-error prefixes that mean "this Redis cannot serve you right now", so they count against
 * the breaker. Every other reply error (WRONGTYPE, NOSCRIPT, ERR syntax error, EXECABORT...) is
 * the caller's problem and proves Redis is answering.
 */
const FAILURE_PREFIXES = new Set(['LOADING', 'READONLY', 'CLUSTERDOWN', 'MASTERDOWN', 'BUSY', 'TRYAGAIN']);

/**
 * The default `isFailure` of {@link withCircuit}: decides whether an error from a Redis command
 * means Redis is unavailable (counts against the breaker) or is a normal reply error.
 *
 * Failures: connection errors (`ECONNREFUSED`, `Connection is closed.`, max retries), timeouts,
 * and the reply errors `LOADING`, `READONLY`, `CLUSTERDOWN`, `MASTERDOWN`, `BUSY`, `TRYAGAIN`.
 * Not failures: every other reply error, e.g. `WRONGTYPE`, `NOSCRIPT`, `ERR syntax error`, and
 * ioredis' "Connection in subscriber mode" (a misuse of the client, not an outage).
 *
 * @param error - an error thrown by an ioredis command
 * @returns true when the error counts against the breaker
 *
 * @example
 * ```ts
 * import { isRedisFailure, withCircuit } from '@botkit/circuit';
 *
 * // Also count OOM replies as failures:
 * const redis = withCircuit(client, {
 *   isFailure: (error) => isRedisFailure(error) || (error instanceof Error && error.message.startsWith('OOM')),
 * });
 * ```
 */
export function isRedisFailure(error: unknown): boolean {
  if (!(error instanceof Error)) return true;
  if (error.name !== 'ReplyError') return !error.message.startsWith('Connection in subscriber mode');
  const message = error.message;
  const space = message.indexOf(' ');
  return FAILURE_PREFIXES.has(space === -1 ? message : message.slice(0, space));
}
