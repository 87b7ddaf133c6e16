import { monitorEventLoopDelay } from 'node:perf_hooks';
import type { Probe } from '@botkit/core';
import type { HealthProbeResult } from '../types.js';

/**
 * Options of {@link eventLoopProbe}.
 *
 * @example
 * ```ts
 * import type { EventLoopProbeOptions } from '@botkit/health';
 *
 * const options: EventLoopProbeOptions = { maxLagMs: 100 };
 * ```
 */
export interface EventLoopProbeOptions {
  /** Probe name. @defaultValue `'event-loop'` */
  name?: string | undefined;
  /** Degraded when the p99 event-loop delay since the last check exceeds this. @defaultValue `200` */
  maxLagMs?: number | undefined;
  /** Unhealthy when the p99 delay exceeds this. @defaultValue `5 * maxLagMs` */
  unhealthyLagMs?: number | undefined;
}

/**
 * A probe of the process's own event-loop delay (`perf_hooks.monitorEventLoopDelay`, sampled
 * from the first check on): degraded above `maxLagMs`, unhealthy above `unhealthyLagMs`, measured
 * as the p99 since the previous check. A blocked loop delays every update the bot handles.
 *
 * @param options - thresholds and name
 * @returns a `Probe`
 * @throws TypeError when a threshold is not positive
 *
 * @example
 * ```ts
 * import { createHealthMonitor, eventLoopProbe } from '@botkit/health';
 *
 * const monitor = createHealthMonitor();
 * monitor.addProbe(eventLoopProbe({ maxLagMs: 100 }), { critical: false });
 * ```
 */
export function eventLoopProbe(options: EventLoopProbeOptions = {}): Probe {
  const maxLagMs = options.maxLagMs ?? 200;
  if (!(maxLagMs > 0)) throw new TypeError(`Expected maxLagMs > 0, got ${options.maxLagMs}`);
  const unhealthyLagMs = options.unhealthyLagMs ?? maxLagMs * 5;
  if (!(unhealthyLagMs >= maxLagMs)) {
    throw new TypeError(`Expected unhealthyLagMs >= maxLagMs, got ${options.unhealthyLagMs}`);
  }
  let histogram: ReturnType<typeof monitorEventLoopDelay> | undefined;
  return {
    name: options.name ?? 'event-loop',
    async check(): Promise<HealthProbeResult> {
      if (!histogram) {
        histogram = monitorEventLoopDelay({ resolution: 10 });
        histogram.enable();
        return { status: 'healthy', message: 'sampling started' };
      }
      if (histogram.count === 0) return { status: 'healthy', message: 'no samples yet' };
      const p99 = histogram.percentile(99) / 1e6;
      const max = histogram.max / 1e6;
      const mean = histogram.mean / 1e6;
      histogram.reset();
      const details = { p99Ms: round(p99), maxMs: round(max), meanMs: round(mean) };
      if (p99 > unhealthyLagMs)
        return { status: 'unhealthy', message: `event loop delay p99 ${round(p99)} ms`, details };
      if (p99 > maxLagMs) return { status: 'degraded', message: `event loop delay p99 ${round(p99)} ms`, details };
      return { status: 'healthy', details };
    },
  };
}

function round(ms: number): number {
  return Math.round(ms * 10) / 10;
}
