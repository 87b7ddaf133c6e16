import type { ProbeResult, ProbeStatus } from '@botkit/core';

/**
 * A `ProbeResult` that may ask the monitor to skip the failure threshold. Built-in probes
 * set `immediate` for failures that retrying cannot fix (a revoked bot token, a 409 conflict with
 * another poller); any probe may do the same.
 *
 * @example
 * ```ts
 * import type { HealthProbeResult } from '@botkit/health';
 *
 * const result: HealthProbeResult = { status: 'unhealthy', message: 'license expired', immediate: true };
 * ```
 */
export interface HealthProbeResult extends ProbeResult {
  /** When `status` is `unhealthy`, become unhealthy now instead of after `failureThreshold` results. */
  immediate?: boolean | undefined;
}

/**
 * Per-probe settings given to {@link HealthMonitor.addProbe}; unset values fall back to the
 * monitor's options.
 *
 * @example
 * ```ts
 * import type { ProbeOptions } from '@botkit/health';
 *
 * const options: ProbeOptions = { critical: false, timeoutMs: 2000, failureThreshold: 5 };
 * ```
 */
export interface ProbeOptions {
  /**
   * Whether the bot cannot serve without this dependency: an unhealthy critical probe makes
   * `/ready` answer 503 and the overall status unhealthy; a non-critical one only degrades it.
   * @defaultValue `true`
   */
  critical?: boolean | undefined;
  /** Time limit of one check; the probe's signal is aborted when it passes. @defaultValue the monitor's `timeoutMs` */
  timeoutMs?: number | undefined;
  /** Failing checks in a row before the probe is unhealthy. @defaultValue the monitor's `failureThreshold` */
  failureThreshold?: number | undefined;
  /** Passing checks in a row before an unhealthy probe recovers. @defaultValue the monitor's `recoveryThreshold` */
  recoveryThreshold?: number | undefined;
}

/**
 * The state of one probe in {@link HealthStatus}.
 *
 * @example
 * ```ts
 * const redis = monitor.status().probes.redis;
 * if (redis?.status === 'unhealthy') console.log(redis.message, redis.consecutiveFailures);
 * ```
 */
export interface ProbeSnapshot {
  /** The probe's name. */
  name: string;
  /** The stable status after hysteresis (`unknown` until the first check). */
  status: ProbeStatus;
  /** What the last check returned, before hysteresis; `null` before the first check. */
  lastResult: ProbeStatus | null;
  /** Whether the probe is critical for readiness. */
  critical: boolean;
  /** Message of the last check (secrets removed). */
  message?: string | undefined;
  /** Details of the last check (string values have secrets removed). */
  details?: Record<string, unknown> | undefined;
  /** How long the last check took, in milliseconds; `null` before the first check. */
  latencyMs: number | null;
  /** When the last check finished (ISO 8601); `null` before the first check. */
  lastCheckedAt: string | null;
  /** Failing checks in a row. */
  consecutiveFailures: number;
  /** Passing checks in a row. */
  consecutiveSuccesses: number;
  /** Since when `status` has held (ISO 8601). */
  since: string;
}

/**
 * The JSON summary returned by {@link HealthMonitor.status} and served on `/health`.
 *
 * @example
 * ```ts
 * const { status, ready, probes } = monitor.status();
 * console.log(status, ready, Object.keys(probes));
 * ```
 */
export interface HealthStatus {
  /**
   * Overall status: the worst status of the critical probes; a non-critical probe that is
   * unhealthy or unknown makes it at most `degraded`. `healthy` with no probes.
   */
  status: ProbeStatus;
  /** Whether every critical probe is `healthy` or `degraded`. */
  ready: boolean;
  /** When the last full run finished (ISO 8601); `null` before the first. */
  checkedAt: string | null;
  /** Per-probe state, by name. */
  probes: Record<string, ProbeSnapshot>;
  /** Counters of registered stats sources (e.g. {@link instrumentPg}), by source name. */
  stats: Record<string, Record<string, number>>;
}

/**
 * A stable status change of one probe, emitted as `stateChange`.
 *
 * @example
 * ```ts
 * monitor.on('stateChange', (change) => console.log(`${change.probe}: ${change.from} -> ${change.to}`));
 * ```
 */
export interface StateChange {
  /** The probe's name. */
  probe: string;
  /** Status before. */
  from: ProbeStatus;
  /** Status after. */
  to: ProbeStatus;
  /** Message of the check that caused the change (secrets removed). */
  message?: string | undefined;
  /** When it changed (ISO 8601). */
  at: string;
}

/**
 * An alert: a probe became unhealthy (`failed`) or left `unhealthy` (`recovered`). Exactly one
 * per change, thanks to the hysteresis.
 *
 * @example
 * ```ts
 * monitor.onAlert((alert) => console.log(`${alert.kind}: ${alert.probe} ${alert.message ?? ''}`));
 * ```
 */
export interface HealthAlert extends StateChange {
  /** `failed` when the probe became unhealthy, `recovered` when it came back. */
  kind: 'failed' | 'recovered';
  /** Failing checks in a row when it failed; 0 on recovery. */
  consecutiveFailures: number;
}

/**
 * Something that delivers alerts (a Telegram chat, Slack, email). May be async; errors are
 * logged and never break the monitor.
 *
 * @example
 * ```ts
 * import type { AlertSink } from '@botkit/health';
 *
 * const slack: AlertSink = async (alert) => {
 *   await fetch(process.env.SLACK_WEBHOOK!, { method: 'POST', body: JSON.stringify({ text: alert.probe }) });
 * };
 * ```
 */
export type AlertSink = (alert: HealthAlert) => void | Promise<void>;

/**
 * A named set of numeric counters shown in `status().stats` and `/metrics` (see
 * {@link instrumentPg} and {@link updateMetrics}).
 *
 * @example
 * ```ts
 * import type { StatsSource } from '@botkit/health';
 *
 * let jobs = 0;
 * const queue: StatsSource = { name: 'jobs', stats: () => ({ processed_total: jobs }) };
 * monitor.addStats(queue);
 * ```
 */
export interface StatsSource {
  /** Name (lowercase, `[a-z0-9_]`), used as the metric prefix `botkit_<name>_`. */
  readonly name: string;
  /** Current counter values, by name (`[a-z0-9_]`). */
  stats(): Record<string, number>;
  /** Optional labelled series for `/metrics` only, by name (e.g. handled updates per update type). */
  series?(): Record<string, readonly LabeledValue[]>;
}

/**
 * One sample of a labelled series of a {@link StatsSource}.
 *
 * @example
 * ```ts
 * import type { LabeledValue } from '@botkit/health';
 *
 * const sample: LabeledValue = { labels: { type: 'message', command: '/start' }, value: 42 };
 * ```
 */
export interface LabeledValue {
  /** Label values; every sample of a series has the same label names. */
  labels: Record<string, string>;
  /** The value. */
  value: number;
}
