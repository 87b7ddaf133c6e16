import type { ProbeStatus } from '@botkit/core';

/**
 * Thresholds of the hysteresis that turns raw probe results into a stable status.
 *
 * @example
 * ```ts
 * import type { HysteresisOptions } from './hysteresis.js';
 *
 * const strict: HysteresisOptions = { failureThreshold: 1, recoveryThreshold: 3 };
 * ```
 */
export interface HysteresisOptions {
  /** Consecutive failing results before the status becomes `unhealthy`. @defaultValue `3` */
  failureThreshold: number;
  /** Consecutive passing results before an `unhealthy` status recovers. @defaultValue `2` */
  recoveryThreshold: number;
}

/**
 * The state the hysteresis keeps for one probe.
 *
 * @example
 * ```ts
 * import { initialHysteresisState } from './hysteresis.js';
 *
 * const state = initialHysteresisState(); // { status: 'unknown', consecutiveFailures: 0, consecutiveSuccesses: 0 }
 * ```
 */
export interface HysteresisState {
  /** The committed (stable) status. */
  status: ProbeStatus;
  /** Failing results in a row (reset by a passing one). */
  consecutiveFailures: number;
  /** Passing results in a row (reset by a failing one). */
  consecutiveSuccesses: number;
}

/**
 * What one result did to the committed status: `alert` is `failed` when the status became
 * `unhealthy`, `recovered` when it left `unhealthy`, absent otherwise.
 *
 * @example
 * ```ts
 * import type { HysteresisStep } from './hysteresis.js';
 *
 * const step: HysteresisStep = {
 *   state: { status: 'unhealthy', consecutiveFailures: 3, consecutiveSuccesses: 0 },
 *   changed: true,
 *   alert: 'failed',
 * };
 * ```
 */
export interface HysteresisStep {
  /** The state after the result. */
  state: HysteresisState;
  /** Whether the committed status changed. */
  changed: boolean;
  /** The alert this change deserves, if any. */
  alert?: 'failed' | 'recovered';
}

/**
 * The state of a probe that was never checked.
 *
 * @returns a fresh `unknown` state with zero streaks
 *
 * @example
 * ```ts
 * import { applyResult, initialHysteresisState } from './hysteresis.js';
 *
 * const step = applyResult(initialHysteresisState(), 'healthy', { failureThreshold: 3, recoveryThreshold: 2 });
 * step.state.status; // 'healthy'
 * ```
 */
export function initialHysteresisState(): HysteresisState {
  return { status: 'unknown', consecutiveFailures: 0, consecutiveSuccesses: 0 };
}

/**
 * Applies one raw result to a probe's state (a pure function).
 *
 * Rules: `unhealthy` (and `unknown`) results fail, `healthy` and `degraded` pass. A never-checked
 * probe takes the first passing status at once (no alert). The status becomes `unhealthy` after
 * `failureThreshold` failing results in a row (alert `failed`), or at once when `immediate` is
 * set (a failure that retrying cannot fix, such as a revoked token). An `unhealthy` status recovers
 * after `recoveryThreshold` passing results in a row (alert `recovered`). While passing, the status
 * follows the result (`healthy` <-> `degraded`) without alerts.
 *
 * @param state - the state before the result
 * @param result - the raw status the probe reported
 * @param options - thresholds
 * @param immediate - skip the failure threshold for this failing result
 * @returns the new state, whether it changed, and the alert it deserves
 *
 * @example
 * ```ts
 * import { applyResult, initialHysteresisState } from './hysteresis.js';
 *
 * const options = { failureThreshold: 2, recoveryThreshold: 1 };
 * let state = initialHysteresisState();
 * for (const result of ['healthy', 'unhealthy', 'unhealthy'] as const) {
 *   const step = applyResult(state, result, options);
 *   if (step.alert) console.log(step.alert); // 'failed' after the second failure
 *   state = step.state;
 * }
 * ```
 */
export function applyResult(
  state: HysteresisState,
  result: ProbeStatus,
  options: HysteresisOptions,
  immediate = false,
): HysteresisStep {
  const failing = result === 'unhealthy' || result === 'unknown';
  if (failing) {
    const consecutiveFailures = state.consecutiveFailures + 1;
    const trip = state.status !== 'unhealthy' && (immediate || consecutiveFailures >= options.failureThreshold);
    return {
      state: { status: trip ? 'unhealthy' : state.status, consecutiveFailures, consecutiveSuccesses: 0 },
      changed: trip,
      ...(trip ? { alert: 'failed' as const } : {}),
    };
  }
  const consecutiveSuccesses = state.consecutiveSuccesses + 1;
  let status = state.status;
  let alert: 'recovered' | undefined;
  if (state.status === 'unhealthy') {
    if (consecutiveSuccesses >= options.recoveryThreshold) {
      status = result;
      alert = 'recovered';
    }
  } else {
    status = result;
  }
  return {
    state: { status, consecutiveFailures: 0, consecutiveSuccesses },
    changed: status !== state.status,
    ...(alert ? { alert } : {}),
  };
}
