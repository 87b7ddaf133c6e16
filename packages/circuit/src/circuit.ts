import {
  type Clock,
  type ClockTimer,
  type Logger,
  type Probe,
  type ProbeResult,
  noopLogger,
  redact,
  systemClock,
  withTimeout,
} from '@botkit/core';
import { EventEmitter } from 'eventemitter3';
import { DeadlineList, type DeadlineNode } from './deadlines.js';
import { CircuitOpenError, CircuitTimeoutError } from './errors.js';
import { checkFunction, checkNumber } from './validate.js';
import { RollingWindow } from './window.js';

/**
 * State of a breaker: `closed` (calls go through), `open` (calls are rejected at once, or served
 * by the fallback), `halfOpen` (one trial call decides whether to close or open again).
 *
 * @example
 * ```ts
 * import type { CircuitState } from '@botkit/circuit';
 *
 * const degraded = (state: CircuitState) => state !== 'closed';
 * ```
 */
export type CircuitState = 'closed' | 'open' | 'halfOpen';

/**
 * Events of a {@link Circuit}. Names are past-tense facts.
 *
 * @example
 * ```ts
 * breaker.on('stateChange', (from, to) => logger.warn({ from, to }, 'circuit changed state'));
 * ```
 */
export interface CircuitEvents {
  /** The state changed. */
  stateChange: [from: CircuitState, to: CircuitState];
  /** The breaker opened; `cause` is the failure that tripped it. */
  open: [cause: unknown];
  /** `resetAfterMs` passed: one trial is allowed. */
  halfOpen: [];
  /** A trial succeeded: calls go through again. */
  close: [];
  /** A call was rejected without being attempted. */
  reject: [error: CircuitOpenError];
  /** The fallback served a call; `error` says why (open, or the failure of the call). */
  fallback: [error: unknown];
  /** A call failed with an error that counts as a failure (see `isFailure`). */
  failure: [error: unknown];
}

/**
 * The half-open trial given as the `trial` option: a health check run instead of a caller's call.
 *
 * @example
 * ```ts
 * import type { CircuitTrial } from '@botkit/circuit';
 *
 * const trial: CircuitTrial = ({ signal }) => api.call('getMe', {}, { signal });
 * ```
 */
export type CircuitTrial = (context: { signal: AbortSignal }) => Promise<unknown>;

/**
 * Options of {@link createCircuit}.
 *
 * @example
 * ```ts
 * import type { CircuitOptions } from '@botkit/circuit';
 *
 * const options: CircuitOptions<[chatId: number], string> = {
 *   failureThreshold: 5,
 *   resetAfterMs: 10_000,
 *   timeoutMs: 3000,
 *   fallback: () => 'cached answer',
 * };
 * ```
 */
export interface CircuitOptions<A extends unknown[], R> {
  /** Name used in errors, logs and the probe. @defaultValue the function's name, else `'circuit'` */
  name?: string | undefined;
  /**
   * Opens after this many consecutive failures (an integer >= 1, or `Infinity` to rely on the
   * error-rate window only). @defaultValue `3`
   */
  failureThreshold?: number | undefined;
  /**
   * Opt-in error-rate mode (opossum's percentage mode): also opens when at least this percentage
   * (1-100) of the calls in the last `rollingWindowMs` failed, once `volumeThreshold` calls were
   * made in the window. @defaultValue undefined (off)
   */
  errorThresholdPercentage?: number | undefined;
  /** Length of the error-rate window in milliseconds (10 buckets). @defaultValue `10000` */
  rollingWindowMs?: number | undefined;
  /** Minimum number of calls in the window before the error rate can open the breaker. @defaultValue `10` */
  volumeThreshold?: number | undefined;
  /** How long the breaker stays open before one half-open trial, in milliseconds. @defaultValue `30000` */
  resetAfterMs?: number | undefined;
  /**
   * Time limit of one call in milliseconds; a call that takes longer rejects with
   * {@link CircuitTimeoutError} and counts as a failure. One shared timer ticking every
   * `min(10, timeoutMs / 10)` ms serves every pending call (no timer or clock read per call), so
   * a call times out never early and at most one tick late. @defaultValue undefined (no limit)
   */
  timeoutMs?: number | undefined;
  /**
   * Decides whether an error counts against the breaker. Errors for which it returns false
   * are passed to the caller but count as a sign of health. @defaultValue every error counts
   */
  isFailure?: ((error: unknown) => boolean) | undefined;
  /**
   * Serves calls while open (and calls that failed with a counted failure) instead of
   * rejecting. Receives the reason and the call's arguments. @defaultValue undefined (reject)
   */
  fallback?: ((error: unknown, ...args: A) => R | Promise<R>) | undefined;
  /**
   * A health check run as the half-open trial instead of letting the next caller through;
   * callers are rejected (or served by the fallback) until it succeeds. It receives a signal
   * aborted after `trialTimeoutMs`.
   * @defaultValue undefined (the first caller after `resetAfterMs` is the trial)
   */
  trial?: CircuitTrial | undefined;
  /**
   * Time limit of the `trial` health check in milliseconds (`Infinity` for none); a trial that
   * takes longer fails and opens the breaker again. @defaultValue `timeoutMs`, else `resetAfterMs`
   */
  trialTimeoutMs?: number | undefined;
  /** Source of time for the reset and timeout timers. @defaultValue `systemClock` */
  clock?: Clock | undefined;
  /** Receives state changes (warn on open, info on close). @defaultValue silent */
  logger?: Logger | undefined;
}

/**
 * Counters of a {@link Circuit}, since it was created.
 *
 * @example
 * ```ts
 * const { state, failures, rejects } = breaker.stats();
 * metrics.gauge('circuit_rejects', rejects);
 * ```
 */
export interface CircuitStats {
  /** Current state. */
  state: CircuitState;
  /** Failures since the last success (or since the breaker closed). */
  consecutiveFailures: number;
  /** Calls that succeeded (including errors that `isFailure` does not count). */
  successes: number;
  /** Calls that failed with a counted failure (timeouts included). */
  failures: number;
  /** Calls that timed out. */
  timeouts: number;
  /** Calls rejected without being attempted. */
  rejects: number;
  /** Calls served by the fallback. */
  fallbacks: number;
  /** How many times the breaker opened. */
  opens: number;
  /** Epoch ms when the breaker last opened; undefined when it never did. */
  openedAt: number | undefined;
}

/**
 * A serialisable snapshot of a breaker's state, from {@link Circuit.toJSON}; give it to
 * {@link Circuit.restore} (e.g. after a restart) so an open breaker stays open.
 *
 * @example
 * ```ts
 * import type { CircuitSnapshot } from '@botkit/circuit';
 *
 * await redis.set('breaker:telegram', JSON.stringify(breaker)); // toJSON()
 * const saved: CircuitSnapshot = JSON.parse((await redis.get('breaker:telegram')) ?? 'null');
 * if (saved) breaker.restore(saved);
 * ```
 */
export interface CircuitSnapshot {
  /** Name of the breaker. */
  name: string;
  /** State when the snapshot was taken. */
  state: CircuitState;
  /** Consecutive failures when the snapshot was taken. */
  consecutiveFailures: number;
  /** Epoch ms when the breaker last opened, if it did. */
  openedAt?: number | undefined;
}

/** A call waiting under `timeoutMs`. */
class Pending<A extends unknown[], R> implements DeadlineNode {
  at = 0;
  prev: DeadlineNode | undefined = undefined;
  next: DeadlineNode | undefined = undefined;
  linked = false;
  resolve: (value: R | PromiseLike<R>) => void = noop;
  reject: (error: unknown) => void = noop;
  constructor(
    readonly args: A,
    readonly trial: boolean,
    readonly generation: number,
  ) {}
}

function noop(): void {}

/** Hook used by the Redis wrapper; not part of the public API. */
export const internal: unique symbol = Symbol('botkit.circuit.internal');

/**
 * A circuit breaker around one async function. Create it with {@link createCircuit}.
 *
 * While closed, a call costs one promise reaction and a few counter updates: no timer, no event,
 * no allocation beyond the call itself. After `failureThreshold` consecutive failures (or the
 * opt-in error rate) it opens: calls reject at once with {@link CircuitOpenError} (or go to the
 * fallback). After `resetAfterMs` exactly one trial runs; success closes it, failure opens it again.
 *
 * @example
 * ```ts
 * import { createCircuit } from '@botkit/circuit';
 *
 * const send = createCircuit((chatId: number, text: string) => api.call('sendMessage', { chat_id: chatId, text }), {
 *   failureThreshold: 3,
 *   resetAfterMs: 10_000,
 * });
 * await send.fire(42, 'hello');
 * ```
 */
export class Circuit<A extends unknown[] = unknown[], R = unknown> extends EventEmitter<CircuitEvents> {
  /** Name used in errors, logs and the probe. */
  readonly name: string;
  readonly #fn: (...args: A) => Promise<R>;
  readonly #failureThreshold: number;
  readonly #resetAfterMs: number;
  readonly #timeoutMs: number | undefined;
  readonly #isFailure: (error: unknown) => boolean;
  readonly #fallback: ((error: unknown, ...args: A) => R | Promise<R>) | undefined;
  readonly #trial: CircuitTrial | undefined;
  readonly #clock: Clock;
  readonly #logger: Logger;
  readonly #window: RollingWindow | undefined;
  readonly #deadlines: DeadlineList | undefined;

  #state: CircuitState = 'closed';
  #generation = 0;
  #consecutive = 0;
  #trialInFlight = false;
  #resetTimer: ClockTimer | undefined;
  #retryAt: number | undefined;
  #lastCause: unknown;
  #stats = { successes: 0, failures: 0, timeouts: 0, rejects: 0, fallbacks: 0, opens: 0 };
  #openedAt: number | undefined;
  #disposed = false;
  readonly #onDispose: (() => void)[] = [];
  readonly #trialTimeoutMs: number;

  /**
   * Use {@link createCircuit}.
   *
   * @param fn - the protected function
   * @param options - see {@link CircuitOptions}
   */
  constructor(fn: (...args: A) => Promise<R>, options: CircuitOptions<A, R> = {}) {
    super();
    if (typeof fn !== 'function') throw new TypeError(`Expected fn to be a function, got ${typeof fn}`);
    checkNumber('failureThreshold', options.failureThreshold, 1, { integer: true, infinite: true });
    checkNumber('errorThresholdPercentage', options.errorThresholdPercentage, 1, { max: 100 });
    checkNumber('rollingWindowMs', options.rollingWindowMs, 10, { integer: true });
    checkNumber('volumeThreshold', options.volumeThreshold, 1, { integer: true });
    checkNumber('resetAfterMs', options.resetAfterMs, 0);
    checkNumber('timeoutMs', options.timeoutMs, 1);
    checkFunction('isFailure', options.isFailure);
    checkFunction('fallback', options.fallback);
    checkFunction('trial', options.trial);
    checkNumber('trialTimeoutMs', options.trialTimeoutMs, 1, { infinite: true });
    if (options.name !== undefined && (typeof options.name !== 'string' || options.name === '')) {
      throw new TypeError(`Expected name to be a non-empty string, got ${String(options.name)}`);
    }
    if (options.failureThreshold === Number.POSITIVE_INFINITY && options.errorThresholdPercentage === undefined) {
      throw new TypeError('Expected failureThreshold to be finite when errorThresholdPercentage is not set');
    }
    this.#fn = fn;
    this.name = options.name ?? (fn.name || 'circuit');
    this.#failureThreshold = options.failureThreshold ?? 3;
    this.#resetAfterMs = options.resetAfterMs ?? 30_000;
    this.#timeoutMs = options.timeoutMs;
    this.#isFailure = options.isFailure ?? (() => true);
    this.#fallback = options.fallback;
    this.#trial = options.trial;
    this.#trialTimeoutMs = options.trialTimeoutMs ?? this.#timeoutMs ?? this.#resetAfterMs;
    this.#clock = options.clock ?? systemClock;
    this.#logger = options.logger ?? noopLogger;
    if (options.errorThresholdPercentage !== undefined) {
      this.#window = new RollingWindow(
        this.#clock,
        options.rollingWindowMs ?? 10_000,
        options.errorThresholdPercentage,
        options.volumeThreshold ?? 10,
      );
    }
    if (this.#timeoutMs !== undefined) {
      this.#deadlines = new DeadlineList(this.#clock, this.#timeoutMs, (node, reason) =>
        this.#expired(node as Pending<A, R>, reason),
      );
    }
  }

  /** Current state. */
  get state(): CircuitState {
    return this.#state;
  }

  /** Whether a fallback is configured (the probe reports `degraded` rather than `unhealthy` while open). */
  get hasFallback(): boolean {
    return this.#fallback !== undefined;
  }

  /**
   * Calls the protected function through the breaker.
   *
   * @param args - arguments for the function
   * @returns what the function (or, while open, the fallback) resolves to
   * @throws {@link CircuitOpenError} while open without a fallback; {@link CircuitTimeoutError}
   *   when `timeoutMs` passes; otherwise the function's own error
   */
  fire(...args: A): Promise<R> {
    if (this.#state === 'closed') return this.#run(args, false);
    if (this.#state === 'halfOpen' && !this.#trialInFlight && this.#trial === undefined) {
      this.#trialInFlight = true;
      return this.#run(args, true);
    }
    return this.#rejectCall(args);
  }

  /**
   * Counters since creation.
   *
   * @returns a fresh object
   */
  stats(): CircuitStats {
    return { state: this.#state, consecutiveFailures: this.#consecutive, ...this.#stats, openedAt: this.#openedAt };
  }

  /**
   * A `@botkit/core` `Probe`: `healthy` while closed; while open or half-open `degraded`
   * when a fallback serves calls, `unhealthy` otherwise.
   *
   * @param name - probe name @defaultValue `circuit:<name>`
   * @returns a probe for `@botkit/health`
   */
  probe(name = `circuit:${this.name}`): Probe {
    return {
      name,
      check: async ({ signal }): Promise<ProbeResult> => {
        signal.throwIfAborted();
        const stats = this.stats();
        const details: Record<string, unknown> = { ...stats };
        if (this.#state === 'closed') return { status: 'healthy', details };
        const status = this.#fallback ? 'degraded' : 'unhealthy';
        const cause = this.#lastCause instanceof Error ? `: ${redact(this.#lastCause.message)}` : '';
        const message = `circuit ${this.#state}${this.#fallback ? ', serving fallback' : ''}${cause}`;
        return { status, message, details };
      },
    };
  }

  /**
   * A serialisable snapshot of the state (see {@link Circuit.restore}).
   *
   * @returns name, state, consecutive failures and when the breaker opened
   */
  toJSON(): CircuitSnapshot {
    return {
      name: this.name,
      state: this.#state,
      consecutiveFailures: this.#consecutive,
      ...(this.#openedAt !== undefined ? { openedAt: this.#openedAt } : {}),
    };
  }

  /**
   * Restores a snapshot from {@link Circuit.toJSON}: an open breaker stays open for what remains
   * of `resetAfterMs` since `openedAt` (half-open at once when that has passed).
   *
   * @param snapshot - a snapshot, e.g. parsed from JSON
   * @throws TypeError when the snapshot is malformed
   */
  restore(snapshot: CircuitSnapshot): void {
    const { state, consecutiveFailures, openedAt } = snapshot ?? ({} as CircuitSnapshot);
    if (state !== 'closed' && state !== 'open' && state !== 'halfOpen') {
      throw new TypeError(`Expected snapshot.state to be closed, open or halfOpen, got ${String(state)}`);
    }
    checkNumber('snapshot.consecutiveFailures', consecutiveFailures, 0, { integer: true });
    checkNumber('snapshot.openedAt', openedAt, 0);
    if (state === 'closed') {
      if (this.#state !== 'closed') this.#close();
      this.#consecutive = consecutiveFailures ?? 0;
      return;
    }
    const since = this.#clock.now() - (openedAt ?? this.#clock.now());
    this.#open(new CircuitOpenError(this.name, undefined, `circuit "${this.name}" restored ${state}`), {
      remainingMs: state === 'halfOpen' ? 0 : Math.max(0, this.#resetAfterMs - since),
      openedAt: openedAt ?? this.#clock.now(),
    });
    this.#consecutive = consecutiveFailures ?? 0;
  }

  /**
   * Stops the breaker's timers and removes its listeners. Calls still go through the breaker
   * afterwards, but an open breaker no longer moves to half-open on its own.
   */
  dispose(): void {
    this.#disposed = true;
    if (this.#resetTimer !== undefined) this.#clock.clearTimeout(this.#resetTimer);
    this.#resetTimer = undefined;
    this.#deadlines?.dispose();
    for (const fn of this.#onDispose.splice(0)) fn();
    this.removeAllListeners();
  }

  /** Same as {@link Circuit.dispose}, for `using`. */
  [Symbol.dispose](): void {
    this.dispose();
  }

  /** @internal Hooks for the Redis wrapper (connection-aware opening). */
  get [internal]() {
    return {
      /** Opens now (no-op when already open). */
      trip: (cause: unknown) => {
        if (this.#state !== 'open') this.#open(cause);
      },
      /** Rejects every pending timed call with the error made from its arguments. */
      expirePending: (makeError: (args: A) => unknown): number =>
        this.#deadlines?.expireAll((node) => makeError((node as Pending<A, R>).args)) ?? 0,
      /** Number of pending timed calls. */
      pending: (): number => this.#deadlines?.size ?? 0,
      /** Runs `fn` when the breaker is disposed. */
      onDispose: (fn: () => void): void => {
        this.#onDispose.push(fn);
      },
    };
  }

  // ---------------------------------------------------------------- internals

  #run(args: A, trial: boolean): Promise<R> {
    let promise: Promise<R>;
    try {
      promise = this.#fn(...args);
    } catch (error) {
      promise = Promise.reject(error);
    }
    const generation = this.#generation;
    if (this.#deadlines === undefined) {
      return promise.then(
        trial ? (value) => this.#trialSucceeded(value, generation) : this.#succeeded,
        (error: unknown) => this.#failed(error, args, trial, generation),
      );
    }
    return this.#runTimed(promise, args, trial, generation);
  }

  // No named closure per call here: tools that keep function names (esbuild keepNames, used by
  // tsx) wrap each one in a defineProperty call, which costs more than the rest of the call.
  #runTimed(promise: Promise<R>, args: A, trial: boolean, generation: number): Promise<R> {
    const deadlines = this.#deadlines as DeadlineList;
    const node = new Pending<A, R>(args, trial, generation);
    const result = new Promise<R>((resolve, reject) => {
      node.resolve = resolve;
      node.reject = reject;
    });
    deadlines.add(node);
    promise.then(
      (value) => {
        if (!node.linked) return;
        deadlines.remove(node);
        node.resolve(trial ? this.#trialSucceeded(value, generation) : this.#succeeded(value));
      },
      (error: unknown) => {
        if (!node.linked) return;
        deadlines.remove(node);
        this.#failed(error, args, trial, generation).then(node.resolve, node.reject);
      },
    );
    return result;
  }

  #expired(node: Pending<A, R>, reason: unknown): void {
    let error = reason;
    if (error === undefined) {
      this.#stats.timeouts++;
      error = new CircuitTimeoutError(this.name, this.#timeoutMs as number);
    }
    this.#failed(error, node.args, node.trial, node.generation).then(node.resolve, node.reject);
  }

  readonly #succeeded = (value: R): R => {
    this.#consecutive = 0;
    this.#stats.successes++;
    this.#window?.record(false);
    return value;
  };

  #trialSucceeded(value: R, generation: number): R {
    this.#stats.successes++;
    if (generation === this.#generation && this.#state === 'halfOpen') this.#close();
    return value;
  }

  #failed(error: unknown, args: A, trial: boolean, generation: number): Promise<R> {
    if (!this.#isFailure(error)) {
      if (trial) this.#trialSucceeded(undefined as R, generation);
      else this.#succeeded(undefined as R);
      return Promise.reject(error);
    }
    this.#stats.failures++;
    this.#lastCause = error;
    if (generation === this.#generation) {
      if (trial) {
        if (this.#state === 'halfOpen') this.#open(error);
      } else if (this.#state === 'closed') {
        this.#consecutive++;
        const rateTripped = this.#window?.record(true) ?? false;
        if (this.#consecutive >= this.#failureThreshold || rateTripped) this.#open(error);
      }
    }
    if (this.listenerCount('failure') > 0) this.emit('failure', error);
    if (this.#fallback) return this.#useFallback(error, args);
    return Promise.reject(error);
  }

  #rejectCall(args: A): Promise<R> {
    this.#stats.rejects++;
    const error = new CircuitOpenError(this.name, this.#state === 'open' ? this.#retryAt : undefined, undefined, {
      cause: this.#lastCause,
    });
    this.emit('reject', error);
    if (this.#fallback) return this.#useFallback(error, args);
    return Promise.reject(error);
  }

  #useFallback(error: unknown, args: A): Promise<R> {
    this.#stats.fallbacks++;
    this.emit('fallback', error);
    try {
      return Promise.resolve((this.#fallback as (error: unknown, ...args: A) => R | Promise<R>)(error, ...args));
    } catch (fallbackError) {
      return Promise.reject(fallbackError);
    }
  }

  #setState(to: CircuitState): void {
    const from = this.#state;
    this.#state = to;
    this.emit('stateChange', from, to);
  }

  #open(cause: unknown, restored?: { remainingMs: number; openedAt: number }): void {
    if (this.#resetTimer !== undefined) this.#clock.clearTimeout(this.#resetTimer);
    this.#generation++;
    this.#trialInFlight = false;
    this.#lastCause = cause;
    this.#openedAt = restored?.openedAt ?? this.#clock.now();
    this.#stats.opens++;
    const delay = restored?.remainingMs ?? this.#resetAfterMs;
    this.#retryAt = this.#clock.now() + delay;
    this.#window?.reset();
    if (this.#disposed) {
      this.#resetTimer = undefined;
    } else {
      this.#resetTimer = this.#clock.setTimeout(this.#halfOpen, delay).unref();
    }
    if (this.#state !== 'open') {
      this.#setState('open');
      this.emit('open', cause);
      const reason = cause instanceof Error ? redact(cause.message) : String(cause);
      this.#logger.warn({ circuit: this.name, cause: reason, resetAfterMs: delay }, 'circuit opened');
    }
  }

  readonly #halfOpen = (): void => {
    this.#resetTimer = undefined;
    if (this.#state !== 'open') return;
    this.#trialInFlight = false;
    this.#setState('halfOpen');
    this.emit('halfOpen');
    this.#logger.debug?.({ circuit: this.name }, 'circuit half-open: one trial allowed');
    if (this.#trial) this.#runTrial(this.#trial);
  };

  #runTrial(trial: CircuitTrial): void {
    this.#trialInFlight = true;
    const generation = this.#generation;
    withTimeout((signal) => trial({ signal }), {
      timeoutMs: this.#trialTimeoutMs,
      clock: this.#clock,
      what: `trial of circuit "${this.name}"`,
    }).then(
      () => this.#trialSucceeded(undefined as R, generation),
      (error: unknown) => {
        this.#stats.failures++;
        if (generation === this.#generation && this.#state === 'halfOpen') this.#open(error);
      },
    );
  }

  #close(): void {
    if (this.#resetTimer !== undefined) this.#clock.clearTimeout(this.#resetTimer);
    this.#resetTimer = undefined;
    this.#generation++;
    this.#consecutive = 0;
    this.#trialInFlight = false;
    this.#retryAt = undefined;
    this.#window?.reset();
    this.#setState('closed');
    this.emit('close');
    this.#logger.info({ circuit: this.name }, 'circuit closed');
  }
}

/**
 * Creates a circuit breaker around an async function: after `failureThreshold` consecutive
 * failures (default 3) calls are rejected at once with {@link CircuitOpenError} (or served by
 * `fallback`) for `resetAfterMs` (default 30 s); then one trial decides whether to close again.
 * Options are validated at once.
 *
 * @param fn - the function to protect (a Telegram, database or HTTP call)
 * @param options - thresholds, timings, fallback; see {@link CircuitOptions}
 * @returns the breaker; call it with `breaker.fire(...args)`
 * @throws TypeError when an option is invalid, naming the option
 *
 * @example
 * ```ts
 * import { createCircuit } from '@botkit/circuit';
 * import { isBotkitError } from '@botkit/core';
 *
 * const getWeather = createCircuit((city: string) => fetch(`https://wttr.in/${city}?format=3`).then((r) => r.text()), {
 *   timeoutMs: 2000,
 *   fallback: () => 'Weather is unavailable right now',
 * });
 * bot.command('weather', async (ctx) => ctx.reply(await getWeather.fire(ctx.match || 'Berlin')));
 * health.add(getWeather.probe());
 * ```
 */
export function createCircuit<A extends unknown[], R>(
  fn: (...args: A) => Promise<R>,
  options: CircuitOptions<A, R> = {},
): Circuit<A, R> {
  return new Circuit(fn, options);
}
