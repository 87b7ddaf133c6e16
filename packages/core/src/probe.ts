/**
 * Health of one dependency, from best to worst: `healthy`, `degraded` (working with reduced
 * service, e.g. a fallback), `unknown` (not checked yet), `unhealthy`.
 */
export type ProbeStatus = 'healthy' | 'degraded' | 'unhealthy' | 'unknown';

/**
 * What a {@link Probe} reports.
 *
 * @example
 * ```ts
 * import type { ProbeResult } from '@botkit/core';
 *
 * const result: ProbeResult = { status: 'degraded', message: 'serving from cache', details: { hits: 3 } };
 * ```
 */
export interface ProbeResult {
  /** The health of the dependency. */
  status: ProbeStatus;
  /** A short human-readable explanation; must never contain a secret. */
  message?: string;
  /** Structured extra information (counts, versions). */
  details?: Record<string, unknown>;
}

/**
 * The context handed to {@link Probe.check}.
 */
export interface ProbeContext {
  /** Aborted when the check times out or the caller gives up; stop work when it fires. */
  signal: AbortSignal;
}

/**
 * Anything that can report health. Every botkit package exposes probes for itself
 * (`breaker.probe()`, `failover.probe()`, `backups.probe()`), and `@botkit/health`'s
 * HealthMonitor accepts any object of this shape.
 *
 * @example
 * ```ts
 * import type { Probe } from '@botkit/core';
 *
 * const diskProbe: Probe = {
 *   name: 'disk',
 *   async check({ signal }) {
 *     signal.throwIfAborted();
 *     return { status: 'healthy', details: { freeGb: 12 } };
 *   },
 * };
 * ```
 */
export interface Probe {
  /** Unique name shown in health output and metrics, e.g. `redis`. */
  readonly name: string;
  /**
   * Checks the dependency once. Should honour `signal`; may throw, which counts as unhealthy.
   *
   * @param context - carries the AbortSignal of this check
   * @returns the result of the check
   */
  check(context: ProbeContext): Promise<ProbeResult>;
}

const RANK: Record<ProbeStatus, number> = { healthy: 0, degraded: 1, unknown: 2, unhealthy: 3 };

/**
 * The worst of several statuses (`unhealthy` > `unknown` > `degraded` > `healthy`); `healthy`
 * for an empty list.
 *
 * @param statuses - statuses to aggregate
 * @returns the worst status
 *
 * @example
 * ```ts
 * import { worstStatus } from '@botkit/core';
 *
 * worstStatus(['healthy', 'degraded']); // 'degraded'
 * worstStatus([]); // 'healthy'
 * ```
 */
export function worstStatus(statuses: Iterable<ProbeStatus>): ProbeStatus {
  let worst: ProbeStatus = 'healthy';
  for (const status of statuses) if (RANK[status] > RANK[worst]) worst = status;
  return worst;
}

/**
 * Tells whether a value is a valid {@link ProbeStatus}.
 *
 * @param value - any value
 * @returns true for `healthy`, `degraded`, `unhealthy` and `unknown`
 *
 * @example
 * ```ts
 * import { isProbeStatus } from '@botkit/core';
 *
 * isProbeStatus('degraded'); // true
 * isProbeStatus('ok'); // false
 * ```
 */
export function isProbeStatus(value: unknown): value is ProbeStatus {
  return typeof value === 'string' && Object.hasOwn(RANK, value);
}
