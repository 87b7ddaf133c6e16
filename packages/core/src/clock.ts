/**
 * A timer returned by {@link Clock.setTimeout}.
 */
export interface ClockTimer {
  /** Lets the process exit while this timer is pending (no-op on test clocks). */
  unref(): ClockTimer;
}

/**
 * The source of time for every botkit timer, injectable so tests drive time deterministically
 * (see {@link createTestClock}). Use {@link systemClock} in production.
 *
 * @example
 * ```ts
 * import { systemClock, type Clock } from '@botkit/core';
 *
 * function startedAgo(clock: Clock = systemClock, startedAt: number) {
 *   return clock.now() - startedAt;
 * }
 * ```
 */
export interface Clock {
  /** Milliseconds since the Unix epoch. */
  now(): number;
  /**
   * Calls `callback` after `ms` milliseconds.
   *
   * @param callback - what to run
   * @param ms - delay in milliseconds (negative counts as 0)
   * @returns a timer handle for {@link Clock.clearTimeout}
   */
  setTimeout(callback: () => void, ms: number): ClockTimer;
  /**
   * Cancels a timer; ignores timers that already fired or were cleared.
   *
   * @param timer - a handle from {@link Clock.setTimeout}
   */
  clearTimeout(timer: ClockTimer): void;
}

/**
 * The real clock: `Date.now()` and Node's timers.
 *
 * @example
 * ```ts
 * import { systemClock } from '@botkit/core';
 *
 * const timer = systemClock.setTimeout(() => console.log('tick'), 1000).unref();
 * systemClock.clearTimeout(timer);
 * ```
 */
export const systemClock: Clock = Object.freeze({
  now: () => Date.now(),
  setTimeout: (callback: () => void, ms: number): ClockTimer => setTimeout(callback, Math.max(0, ms)),
  clearTimeout: (timer: ClockTimer) => clearTimeout(timer as ReturnType<typeof setTimeout>),
});

/**
 * Resolves after `ms` milliseconds of `clock` time, or rejects with `signal.reason` when the
 * signal aborts first. Never leaves a timer or listener behind.
 *
 * @param ms - how long to wait
 * @param options - `signal` to cancel, `clock` to use (default {@link systemClock}), `unref`
 *   to let the process exit while sleeping
 * @returns a promise that resolves after the delay
 * @throws the signal's reason when aborted
 *
 * @example
 * ```ts
 * import { sleep } from '@botkit/core';
 *
 * const controller = new AbortController();
 * await sleep(2000, { signal: controller.signal }); // honours retry_after
 * ```
 */
export function sleep(
  ms: number,
  options: { signal?: AbortSignal | undefined; clock?: Clock | undefined; unref?: boolean | undefined } = {},
): Promise<void> {
  const { signal, clock = systemClock } = options;
  if (signal?.aborted) return Promise.reject(signal.reason);
  return new Promise<void>((resolve, reject) => {
    const onAbort = () => {
      clock.clearTimeout(timer);
      reject(signal?.reason);
    };
    const timer = clock.setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    if (options.unref) timer.unref();
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

interface PendingTimer extends ClockTimer {
  readonly id: number;
  readonly at: number;
  readonly callback: () => void;
}

/**
 * A {@link Clock} whose time only moves when a test says so.
 *
 * @example
 * ```ts
 * import { createTestClock, sleep } from '@botkit/core';
 *
 * const clock = createTestClock();
 * const done = sleep(5000, { clock });
 * await clock.advance(5000); // fires the timer and lets promise callbacks run
 * await done;
 * ```
 */
export interface TestClock extends Clock {
  /** Number of timers waiting to fire. */
  readonly pendingTimers: number;
  /**
   * Moves time forward by `ms`, firing due timers in order; between timers it lets pending
   * promise callbacks and I/O callbacks run, so async code reacting to a timer proceeds.
   *
   * @param ms - how far to move (>= 0)
   * @returns resolves once every timer due by the new time has fired
   */
  advance(ms: number): Promise<void>;
  /**
   * Moves time forward to the next pending timer and fires it (and any others due then).
   *
   * @returns false when no timer is pending
   */
  next(): Promise<boolean>;
  /**
   * Sets the current time without firing timers (for tests of wall-clock jumps).
   *
   * @param epochMs - the new time
   */
  setNow(epochMs: number): void;
}

/**
 * Creates a {@link TestClock} starting at `startMs` (default 2026-01-01T00:00:00Z).
 *
 * @param startMs - initial `now()` in epoch milliseconds
 * @returns a clock whose time moves only through `advance`/`next`
 *
 * @example
 * ```ts
 * import { createTestClock } from '@botkit/core';
 *
 * const clock = createTestClock();
 * let fired = false;
 * clock.setTimeout(() => { fired = true; }, 100);
 * await clock.advance(100);
 * console.log(fired); // true
 * ```
 */
export function createTestClock(startMs: number = Date.UTC(2026, 0, 1)): TestClock {
  let now = startMs;
  let seq = 0;
  const timers = new Map<number, PendingTimer>();
  const flush = () => new Promise<void>((resolve) => setImmediate(resolve));
  const due = (limit: number): PendingTimer | undefined => {
    let best: PendingTimer | undefined;
    for (const t of timers.values()) {
      if (t.at <= limit && (!best || t.at < best.at || (t.at === best.at && t.id < best.id))) best = t;
    }
    return best;
  };
  const fire = (timer: PendingTimer) => {
    timers.delete(timer.id);
    now = Math.max(now, timer.at);
    timer.callback();
  };
  const clock: TestClock = {
    now: () => now,
    setTimeout(callback, ms) {
      const timer: PendingTimer = {
        id: ++seq,
        at: now + Math.max(0, Number.isFinite(ms) ? ms : 0),
        callback,
        unref: () => timer,
      };
      timers.set(timer.id, timer);
      return timer;
    },
    clearTimeout(timer) {
      timers.delete((timer as PendingTimer).id);
    },
    get pendingTimers() {
      return timers.size;
    },
    async advance(ms) {
      if (!(ms >= 0)) throw new RangeError(`Expected ms >= 0, got ${ms}`);
      const target = now + ms;
      await flush();
      for (let t = due(target); t; t = due(target)) {
        fire(t);
        await flush();
      }
      now = target;
    },
    async next() {
      await flush();
      let first: PendingTimer | undefined;
      for (const t of timers.values()) if (!first || t.at < first.at) first = t;
      if (!first) return false;
      await clock.advance(first.at - now);
      return true;
    },
    setNow(epochMs) {
      now = epochMs;
    },
  };
  return clock;
}
