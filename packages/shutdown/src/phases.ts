/**
 * The teardown phases, in the order they run. Hooks of one phase run in parallel; phases run
 * one after the other:
 *
 * - `intake` — stop taking new work: stop the poller (a webhook server keeps answering, and the
 *   middleware refuses new updates with 503 until it closes in `services`).
 * - `drain` — wait for work in flight; tracked tasks are awaited here (see `track()`).
 * - `services` — stop long-lived services: webhook HTTP server, health monitor, schedulers.
 * - `connections` — close connections: Redis `quit()`, pg `pool.end()`.
 * - `flush` — last words: flush logs, metrics, traces.
 *
 * @example
 * ```ts
 * import { createShutdown, type Phase } from '@botkit/shutdown';
 *
 * const phase: Phase = 'connections';
 * createShutdown().add('redis', () => redis.quit(), { phase });
 * ```
 */
export type Phase = 'intake' | 'drain' | 'services' | 'connections' | 'flush';

/**
 * Every {@link Phase}, in the order a shutdown runs them.
 *
 * @example
 * ```ts
 * import { PHASES } from '@botkit/shutdown';
 *
 * console.log(PHASES.join(' -> ')); // intake -> drain -> services -> connections -> flush
 * ```
 */
export const PHASES: readonly Phase[] = Object.freeze(['intake', 'drain', 'services', 'connections', 'flush']);

/**
 * Tells whether a value names a {@link Phase}.
 *
 * @param value - any value
 * @returns true for `intake`, `drain`, `services`, `connections` and `flush`
 *
 * @example
 * ```ts
 * import { isPhase } from '@botkit/shutdown';
 *
 * isPhase('drain'); // true
 * isPhase('cleanup'); // false
 * ```
 */
export function isPhase(value: unknown): value is Phase {
  return typeof value === 'string' && (PHASES as readonly string[]).includes(value);
}
