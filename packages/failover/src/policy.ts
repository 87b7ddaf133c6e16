/**
 * Options of {@link createSwitchPolicy} (also the `switching` option of `createFailover`).
 *
 * @example
 * ```ts
 * const options: SwitchPolicyOptions = { probationMs: 60_000, minPollingDwellMs: 120_000 };
 * ```
 */
export interface SwitchPolicyOptions {
  /** After returning to the webhook, any new webhook error within this time returns to polling at once. @defaultValue `60000` */
  probationMs?: number | undefined;
  /** Least time spent polling before trying the webhook again. @defaultValue `120000` */
  minPollingDwellMs?: number | undefined;
  /** Longest dwell in polling: the dwell doubles after each failed return up to this. @defaultValue `3600000` */
  maxPollingDwellMs?: number | undefined;
  /**
   * Most webhook <-> polling changes in any sliding hour. A return to the webhook is postponed
   * when it, plus a possible fall-back, would exceed it; falling back to polling is never refused.
   * @defaultValue `6`
   */
  maxChangesPerHour?: number | undefined;
}

/**
 * The switching policy: a pure object that decides when polling may end, given the history of mode
 * changes. No timers: the failover asks it and schedules.
 *
 * @example
 * ```ts
 * const policy = createSwitchPolicy();
 * policy.recordFallback(Date.now());
 * setTimeout(tryReturn, policy.nextReturnAt() - Date.now());
 * ```
 */
export interface SwitchPolicy {
  /**
   * Records a change webhook -> polling.
   *
   * @param now - epoch ms of the change
   */
  recordFallback(now: number): void;
  /**
   * Records a change polling -> webhook (probation starts).
   *
   * @param now - epoch ms of the change
   */
  recordReturn(now: number): void;
  /**
   * Whether the webhook is in probation (a single error sends it back to polling).
   *
   * @param now - current epoch ms
   * @returns true during `probationMs` after a return
   */
  inProbation(now: number): boolean;
  /**
   * The earliest time polling may end: the dwell after the last fall-back (doubling with each
   * failed return, capped), and the hourly budget.
   *
   * @returns epoch ms
   */
  nextReturnAt(): number;
  /** Returns to the webhook that failed in probation since the last successful one. */
  readonly failedReturns: number;
  /** The dwell in polling that applies now, in ms. */
  readonly currentDwellMs: number;
}

function nonNegative(name: string, value: number | undefined, fallback: number): number {
  const v = value ?? fallback;
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) {
    throw new TypeError(`Expected switching.${name} to be a finite number >= 0, got ${v}`);
  }
  return v;
}

const HOUR = 3_600_000;

/**
 * Creates the switching policy: probation after each return, a minimum dwell in polling that
 * doubles after every return that failed during probation (up to `maxPollingDwellMs`) and resets
 * after a probation passed, and a hard budget of `maxChangesPerHour` changes in any sliding hour,
 * so a flapping endpoint causes a few switches per hour at most.
 *
 * @param options - probation, dwell and budget
 * @returns a {@link SwitchPolicy}
 * @throws TypeError when an option is invalid
 *
 * @example
 * ```ts
 * import { createSwitchPolicy } from '@botkit/failover';
 *
 * const policy = createSwitchPolicy({ minPollingDwellMs: 120_000 });
 * policy.recordFallback(0);
 * policy.nextReturnAt(); // 120000
 * ```
 */
export function createSwitchPolicy(options: SwitchPolicyOptions = {}): SwitchPolicy {
  const probationMs = nonNegative('probationMs', options.probationMs, 60_000);
  const minDwell = nonNegative('minPollingDwellMs', options.minPollingDwellMs, 120_000);
  const maxDwell = nonNegative('maxPollingDwellMs', options.maxPollingDwellMs, HOUR);
  if (maxDwell < minDwell) {
    throw new TypeError(`Expected switching.maxPollingDwellMs >= minPollingDwellMs, got ${maxDwell} < ${minDwell}`);
  }
  const budget = options.maxChangesPerHour ?? 6;
  if (!Number.isInteger(budget) || budget < 2) {
    throw new TypeError(`Expected switching.maxChangesPerHour to be an integer >= 2, got ${budget}`);
  }
  // Times of the last `budget` changes (bounded).
  const changes: number[] = [];
  let returnedAt: number | undefined;
  let fellBackAt = Number.NEGATIVE_INFINITY;
  let failedReturns = 0;
  const record = (now: number) => {
    changes.push(now);
    if (changes.length > budget) changes.shift();
  };
  const dwell = () => Math.min(maxDwell, minDwell * 2 ** Math.min(failedReturns, 40));
  const policy: SwitchPolicy = {
    get failedReturns() {
      return failedReturns;
    },
    get currentDwellMs() {
      return dwell();
    },
    recordFallback(now) {
      if (returnedAt !== undefined && now - returnedAt < probationMs) failedReturns += 1;
      else failedReturns = 0;
      returnedAt = undefined;
      fellBackAt = now;
      record(now);
    },
    recordReturn(now) {
      returnedAt = now;
      record(now);
    },
    inProbation(now) {
      return returnedAt !== undefined && now - returnedAt < probationMs;
    },
    nextReturnAt() {
      const afterDwell = fellBackAt + dwell();
      // A return plus a fall-back must fit: at most budget - 2 changes in the hour before it.
      const k = changes.length - (budget - 2);
      const afterBudget = k > 0 ? (changes[k - 1] as number) + HOUR : Number.NEGATIVE_INFINITY;
      return Math.max(afterDwell, afterBudget);
    },
  };
  return policy;
}
