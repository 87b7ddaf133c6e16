import type { Clock } from '@botkit/core';

/**
 * Something {@link ShutdownManager.track} accepts: a promise, or a function that receives an
 * AbortSignal (aborted when the drain time is up) and returns a promise.
 *
 * @example
 * ```ts
 * import type { Task } from '@botkit/shutdown';
 *
 * const task: Task<Response> = (signal) => fetch('https://example.com', { signal });
 * ```
 */
export type Task<T> = PromiseLike<T> | ((signal: AbortSignal) => PromiseLike<T>);

/** @internal Completions counted during the drain phase. */
export interface DrainCounters {
  completed: number;
  failed: number;
}

/**
 * @internal Counts tasks in flight, with no timer or listener per task: one shared
 * AbortController for every task's signal and one list of idle waiters.
 */
export class TaskTracker {
  #pending = 0;
  #waiters: Array<() => void> = [];
  readonly #controller = new AbortController();
  #counters: DrainCounters | undefined;

  /** Tasks in flight. */
  get pending(): number {
    return this.#pending;
  }

  /** The signal handed to function tasks; aborted when the drain time is up. */
  get signal(): AbortSignal {
    return this.#controller.signal;
  }

  track<T>(task: Task<T>): Promise<T> {
    let promise: PromiseLike<T>;
    if (typeof task === 'function') {
      try {
        promise = task(this.#controller.signal);
      } catch (error) {
        return Promise.reject(error);
      }
      if (!isPromiseLike(promise)) {
        return Promise.reject(
          new TypeError(`Expected the tracked function to return a promise, got ${typeof promise}`),
        );
      }
    } else if (isPromiseLike(task)) {
      promise = task;
    } else {
      throw new TypeError(
        `Expected track() to receive a promise or a function returning one, got ${task === null ? 'null' : typeof task}`,
      );
    }
    this.#pending++;
    return Promise.resolve(promise).then(this.#onFulfilled as (value: T) => T, this.#onRejected);
  }

  // Created once, not per task: tracking adds one promise reaction and no allocation of closures.
  readonly #onFulfilled = (value: unknown): unknown => {
    this.#settle(true);
    return value;
  };

  readonly #onRejected = (error: unknown): never => {
    this.#settle(false);
    throw error;
  };

  /** Starts counting completions for the drain report. */
  beginDrain(): DrainCounters {
    this.#counters = { completed: 0, failed: 0 };
    return this.#counters;
  }

  /** Stops counting completions (tasks settling later are not "completed" in time). */
  endDrain(): void {
    this.#counters = undefined;
  }

  abort(reason: unknown): void {
    this.#controller.abort(reason);
  }

  /**
   * Resolves true once no task is in flight, or false after `ms` of `clock` time (or when
   * `cancel` aborts). Leaves no timer or waiter behind.
   */
  waitIdle(ms: number, clock: Clock, cancel: AbortSignal): Promise<boolean> {
    if (this.#pending === 0) return Promise.resolve(true);
    if (cancel.aborted || ms <= 0) return Promise.resolve(false);
    return new Promise<boolean>((resolve) => {
      const done = (idle: boolean) => {
        clock.clearTimeout(timer);
        cancel.removeEventListener('abort', onCancel);
        const index = this.#waiters.indexOf(onIdle);
        if (index !== -1) this.#waiters.splice(index, 1);
        resolve(idle);
      };
      const onIdle = () => done(true);
      const onCancel = () => done(false);
      const timer = clock.setTimeout(() => done(false), ms);
      cancel.addEventListener('abort', onCancel, { once: true });
      this.#waiters.push(onIdle);
    });
  }

  #settle(ok: boolean): void {
    this.#pending--;
    if (this.#counters) {
      this.#counters.completed++;
      if (!ok) this.#counters.failed++;
    }
    if (this.#pending === 0 && this.#waiters.length > 0) {
      const waiters = this.#waiters;
      this.#waiters = [];
      for (const waiter of waiters) waiter();
    }
  }
}

function isPromiseLike(value: unknown): value is PromiseLike<unknown> {
  return (
    (typeof value === 'object' || typeof value === 'function') &&
    value !== null &&
    typeof (value as { then?: unknown }).then === 'function'
  );
}
