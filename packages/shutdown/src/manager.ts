import { constants } from 'node:os';
import { sleep, TimeoutError } from '@botkit/core';
import { EventEmitter } from 'eventemitter3';
import { ShuttingDownError } from './errors.js';
import {
  type HookOptions,
  type ResolvedOptions,
  resolveOptions,
  type ShutdownOptions,
  validateHook,
} from './options.js';
import { PHASES, type Phase } from './phases.js';
import type { HookOutcome, HookResult, ShutdownReport, TaskReport } from './report.js';
import { type DrainCounters, type Task, TaskTracker } from './tracker.js';

/**
 * What a hook receives.
 *
 * @example
 * ```ts
 * shutdown.add('search-index', ({ signal }) => index.flush({ signal }), { phase: 'flush' });
 * ```
 */
export interface HookContext {
  /** Aborted when the hook's time limit (or the run's deadline) passes: stop and return. */
  readonly signal: AbortSignal;
  /** Why the shutdown began (`SIGTERM`, `uncaughtException`, or the reason given to `shutdown()`). */
  readonly reason: string;
}

/**
 * A teardown step: any function, sync or async. `() => redis.quit()` and `() => monitor.stop()`
 * both fit.
 *
 * @example
 * ```ts
 * import type { Hook } from '@botkit/shutdown';
 *
 * const closePool: Hook = ({ signal }) => pool.end();
 * ```
 */
export type Hook = (context: HookContext) => unknown;

/**
 * Events of a {@link ShutdownManager}. Listeners run synchronously; an exception thrown by a
 * listener is logged and ignored.
 *
 * @example
 * ```ts
 * shutdown.on('shutdownStarted', (reason) => logger.info({ reason }, 'not ready any more'));
 * shutdown.on('phaseStarted', (phase) => logger.info({ phase }, 'phase'));
 * shutdown.on('hookFinished', ({ name, outcome, durationMs }) => logger.info({ name, outcome, durationMs }));
 * ```
 */
export interface ShutdownEvents {
  /** The run began (readiness is now false and `signal` is aborted). */
  shutdownStarted: [reason: string];
  /** A phase began; its hooks are being called. */
  phaseStarted: [phase: Phase];
  /** A hook ended, with its duration and outcome. */
  hookFinished: [result: HookResult];
  /** The run ended, just before `exit(report.exitCode)`. */
  shutdownFinished: [report: ShutdownReport];
}

/**
 * The small structural view of a shutdown manager that other packages accept (for example the
 * `shutdown` option of `@botkit/health`, which turns readiness false when shutdown begins).
 * {@link ShutdownManager} satisfies it; so can your own object.
 *
 * @example
 * ```ts
 * import type { ShutdownState } from '@botkit/shutdown';
 *
 * function readiness(state: ShutdownState) {
 *   let ready = !state.isShuttingDown;
 *   state.on('shutdownStarted', () => { ready = false; });
 *   return () => ready;
 * }
 * ```
 */
export interface ShutdownState {
  /** True from the moment a shutdown begins. */
  readonly isShuttingDown: boolean;
  /** Aborted the moment a shutdown begins. */
  readonly signal: AbortSignal;
  /**
   * Subscribes to the start of a shutdown.
   *
   * @param event - `'shutdownStarted'`
   * @param listener - called synchronously with the reason
   */
  on(event: 'shutdownStarted', listener: (reason: string) => void): unknown;
  /**
   * Unsubscribes a listener added with `on`.
   *
   * @param event - `'shutdownStarted'`
   * @param listener - the listener to remove
   */
  off(event: 'shutdownStarted', listener: (reason: string) => void): unknown;
}

/**
 * Update middleware for grammY (`bot.use`) and Telegraf (`bot.use`): tracks every update while
 * it is handled and, once the `intake` phase has begun, rejects new updates with
 * {@link ShuttingDownError} instead of handling them.
 *
 * @example
 * ```ts
 * import type { ShutdownMiddleware } from '@botkit/shutdown';
 *
 * const middleware: ShutdownMiddleware = shutdown.middleware();
 * bot.use(middleware);
 * ```
 */
export type ShutdownMiddleware = (ctx: unknown, next: () => Promise<void>) => Promise<void>;

interface HookEntry {
  readonly name: string;
  readonly fn: Hook;
  readonly phase: Phase;
  readonly timeoutMs: number | undefined;
}

interface RunningHook {
  readonly entry: HookEntry;
  readonly finish: (outcome: HookOutcome, error?: unknown) => void;
}

interface Run {
  readonly reason: string;
  readonly startedAt: number;
  readonly deadlineAt: number;
  readonly promise: Promise<ShutdownReport>;
  readonly resolve: (report: ShutdownReport) => void;
  readonly cancel: AbortController;
  readonly results: HookResult[];
  readonly running: Set<RunningHook>;
  deadline: ReturnType<ResolvedOptions['clock']['setTimeout']> | undefined;
  phaseIndex: number;
  /** Progress of the drain phase once it has begun. */
  drain: { inFlight: number; counters: DrainCounters; aborted: number | undefined } | undefined;
  tasks: TaskReport;
  error: unknown;
  failedByError: boolean;
  finished: boolean;
}

const NO_TASKS: TaskReport = Object.freeze({ inFlight: 0, completed: 0, failed: 0, aborted: 0, abandoned: 0 });

/**
 * Graceful shutdown for a bot: signal handling (only once installed), a task tracker for
 * updates in flight, and ordered teardown phases (`intake` → `drain` → `services` →
 * `connections` → `flush`) under one deadline. Create it with {@link createShutdown}.
 *
 * @example
 * ```ts
 * import { createShutdown } from '@botkit/shutdown';
 *
 * const shutdown = createShutdown({ timeoutMs: 25_000 }).install();
 * bot.use(shutdown.middleware());
 * shutdown.add('bot', () => bot.stop(), { phase: 'intake' });
 * shutdown.add('redis', () => redis.quit(), { phase: 'connections' });
 * shutdown.on('shutdownFinished', (report) => console.log('exit', report.exitCode));
 * ```
 */
export class ShutdownManager extends EventEmitter<ShutdownEvents> implements ShutdownState {
  readonly #options: ResolvedOptions;
  readonly #hooks = new Set<HookEntry>();
  readonly #tracker = new TaskTracker();
  readonly #controller = new AbortController();
  #run: Run | undefined;
  #accepting = true;
  #installed = false;

  /**
   * Prefer {@link createShutdown}.
   *
   * @param options - see {@link ShutdownOptions}
   * @throws TypeError naming the first invalid option
   */
  constructor(options: ShutdownOptions = {}) {
    super();
    this.#options = resolveOptions(options);
  }

  /** True from the moment a shutdown begins (readiness should report not ready). */
  get isShuttingDown(): boolean {
    return this.#run !== undefined;
  }

  /** Aborted (with a {@link ShuttingDownError}) the moment a shutdown begins. */
  get signal(): AbortSignal {
    return this.#controller.signal;
  }

  /** Number of tracked tasks (including updates seen by the middleware) in flight. */
  get tracked(): number {
    return this.#tracker.pending;
  }

  /** True while signal handlers are installed (see {@link ShutdownManager.install}). */
  get installed(): boolean {
    return this.#installed;
  }

  /**
   * Registers a teardown hook. Hooks of one phase run in parallel, phases in order. A hook that
   * throws or exceeds its time limit is reported and abandoned; later hooks still run.
   *
   * @param name - shown in events, logs and the report
   * @param fn - the hook; receives `{ signal, reason }`
   * @param options - `phase` (default `'services'`) and `timeoutMs`
   * @returns a function that removes the hook (idempotent)
   * @throws TypeError when the name is empty, `fn` is not a function, the phase is unknown or
   *   the timeout is not a positive number
   *
   * @example
   * ```ts
   * const remove = shutdown.add('pg', () => pool.end(), { phase: 'connections', timeoutMs: 5000 });
   * remove(); // no longer needed
   * ```
   */
  add(name: string, fn: Hook, options: HookOptions = {}): () => void {
    const { phase, timeoutMs } = validateHook(name, fn, options);
    const entry: HookEntry = { name, fn, phase, timeoutMs };
    this.#hooks.add(entry);
    if (this.#run && PHASES.indexOf(phase) < this.#run.phaseIndex) {
      this.#options.logger.warn({ hook: name, phase }, 'shutdown hook added after its phase ran; it will not run');
    }
    return () => {
      this.#hooks.delete(entry);
    };
  }

  /**
   * Tracks a task so the `drain` phase waits for it. A function receives an AbortSignal that
   * is aborted when the drain time is up (already aborted if it is over). The task's own
   * result or error is passed through unchanged.
   *
   * @param task - a promise, or `(signal) => promise`
   * @returns a promise settling like the task
   * @throws TypeError when `task` is neither a promise nor a function
   *
   * @example
   * ```ts
   * bot.on('message', (ctx) => {
   *   void shutdown.track((signal) => transcribe(ctx.message, { signal }));
   * });
   * ```
   */
  track<T>(task: Task<T>): Promise<T> {
    return this.#tracker.track(task);
  }

  /**
   * Middleware for grammY and Telegraf that tracks every update being handled and, once the
   * `intake` phase has begun, refuses new updates by rejecting with {@link ShuttingDownError}:
   * a webhook then answers non-2xx and Telegram redelivers; a poller that was stopped in
   * `intake` never confirmed them. Install it first (`bot.use` before your handlers).
   *
   * @returns a `(ctx, next)` middleware
   *
   * @example
   * ```ts
   * const bot = new Bot(token);
   * bot.use(shutdown.middleware());
   * bot.catch((err) => {
   *   if (!isBotkitError(err.error, 'BOTKIT_SHUTTING_DOWN')) console.error(err);
   * });
   * ```
   */
  middleware(): ShutdownMiddleware {
    return (_ctx, next) => {
      if (!this.#accepting) return Promise.reject(new ShuttingDownError(this.#run?.reason ?? 'shutdown'));
      let handled: Promise<void>;
      try {
        handled = next();
      } catch (error) {
        return Promise.reject(error);
      }
      return this.#tracker.track(handled);
    };
  }

  /**
   * Starts a graceful shutdown (idempotent: concurrent and later calls share one run). Aborts
   * `signal` and emits `shutdownStarted` synchronously; with `preDrainDelayMs` 0 the `intake`
   * hooks are also called synchronously, before this returns.
   *
   * @param reason - recorded in events, logs and the report
   * @returns the report of the run, once it has ended
   *
   * @example
   * ```ts
   * const report = await shutdown.shutdown('maintenance');
   * if (report.exitCode !== 0) console.error(report.hooks.filter((h) => h.outcome !== 'ok'));
   * ```
   */
  shutdown(reason = 'shutdown'): Promise<ShutdownReport> {
    return (this.#run ?? this.#start(String(reason))).promise;
  }

  /**
   * Installs handlers for the configured signals (and, with `handleErrors`, for
   * `uncaughtException`/`unhandledRejection`). Until then the manager never touches `process`.
   * While installed, the end of a run calls `process.exit` (unless `exit` is given) and a
   * second signal forces the exit at once. Idempotent.
   *
   * @returns this manager
   *
   * @example
   * ```ts
   * const shutdown = createShutdown().install();
   * ```
   */
  install(): this {
    if (this.#installed) return this;
    this.#installed = true;
    for (const signal of this.#options.signals) process.on(signal, this.#onSignal);
    if (this.#options.handleErrors) {
      process.on('uncaughtException', this.#onUncaught);
      process.on('unhandledRejection', this.#onUnhandled);
    }
    return this;
  }

  /**
   * Removes every process listener added by {@link ShutdownManager.install}. A run in progress
   * continues but no longer exits the process by default. Idempotent.
   *
   * @returns this manager
   *
   * @example
   * ```ts
   * shutdown.uninstall();
   * ```
   */
  uninstall(): this {
    if (!this.#installed) return this;
    this.#installed = false;
    for (const signal of this.#options.signals) process.off(signal, this.#onSignal);
    process.off('uncaughtException', this.#onUncaught);
    process.off('unhandledRejection', this.#onUnhandled);
    return this;
  }

  /**
   * Runs the shutdown (reason `'dispose'`, or waits for the run in progress), then uninstalls.
   * For `await using`.
   *
   * @example
   * ```ts
   * await using shutdown = createShutdown({ exit: () => {} });
   * ```
   */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.shutdown('dispose');
    this.uninstall();
  }

  readonly #onSignal = (signal: NodeJS.Signals): void => {
    if (!this.#run) {
      this.#options.logger.info({ signal }, 'signal received, shutting down gracefully');
      this.#start(signal);
      return;
    }
    const code = this.#options.exitCodeFromSignal ? 128 + (constants.signals[signal] ?? 0) : 1;
    this.#options.logger.warn({ signal, exitCode: code }, 'second signal received, forcing exit');
    this.#exit(code);
  };

  readonly #onUncaught = (error: unknown): void => this.#onError(error, 'uncaughtException');
  readonly #onUnhandled = (reason: unknown): void => this.#onError(reason, 'unhandledRejection');

  #onError(error: unknown, kind: 'uncaughtException' | 'unhandledRejection'): void {
    this.#options.logger.error({ err: error, kind }, `${kind}, shutting down`);
    const run = this.#run ?? this.#start(kind);
    run.failedByError = true;
    if (run.error === undefined) run.error = error;
  }

  #exit(code: number): void {
    const exit = this.#options.exit ?? (this.#installed ? (c: number) => process.exit(c) : undefined);
    if (!exit) return;
    try {
      exit(code);
    } catch (error) {
      this.#options.logger.error({ err: error }, 'exit() threw');
    }
  }

  #emit<E extends keyof ShutdownEvents>(event: E, ...args: ShutdownEvents[E]): void {
    try {
      (this.emit as (event: E, ...args: ShutdownEvents[E]) => boolean)(event, ...args);
    } catch (error) {
      this.#options.logger.error({ err: error, event }, 'shutdown event listener threw');
    }
  }

  #start(reason: string): Run {
    const { clock, timeoutMs, logger } = this.#options;
    const startedAt = clock.now();
    let resolve!: (report: ShutdownReport) => void;
    const promise = new Promise<ShutdownReport>((r) => {
      resolve = r;
    });
    const run: Run = {
      reason,
      startedAt,
      deadlineAt: startedAt + timeoutMs,
      promise,
      resolve,
      cancel: new AbortController(),
      results: [],
      running: new Set(),
      deadline: undefined,
      phaseIndex: -1,
      drain: undefined,
      tasks: NO_TASKS,
      error: undefined,
      failedByError: false,
      finished: false,
    };
    this.#run = run;
    // Kept referenced on purpose: a hook awaiting a promise that never settles must not let the
    // event loop empty and the process end with a success code before the deadline.
    run.deadline = clock.setTimeout(() => this.#finish(run, true), timeoutMs);
    this.#controller.abort(new ShuttingDownError(reason));
    logger.info({ reason, timeoutMs }, 'shutdown started');
    this.#emit('shutdownStarted', reason);
    this.#phases(run).then(
      () => this.#finish(run, false),
      (error: unknown) => {
        logger.error({ err: error }, 'shutdown failed unexpectedly');
        run.failedByError = true;
        this.#finish(run, false);
      },
    );
    return run;
  }

  async #phases(run: Run): Promise<void> {
    const { preDrainDelayMs, clock } = this.#options;
    if (preDrainDelayMs > 0) {
      await sleep(preDrainDelayMs, { clock, signal: run.cancel.signal }).catch(() => {});
    }
    for (let index = 0; index < PHASES.length; index++) {
      if (run.finished) return;
      const phase = PHASES[index] as Phase;
      run.phaseIndex = index;
      // Refuse new updates in the same tick as the intake hooks (e.g. `bot.stop()`) are called,
      // so a poller records its offset before any update is refused.
      if (phase === 'intake') this.#accepting = false;
      this.#options.logger.debug?.({ phase }, 'shutdown phase started');
      this.#emit('phaseStarted', phase);
      if (phase === 'drain') await this.#drain(run);
      else await this.#runHooks(run, phase, run.deadlineAt);
    }
  }

  #runHooks(run: Run, phase: Phase, capAt: number): Promise<unknown> {
    const hooks = [...this.#hooks].filter((hook) => hook.phase === phase);
    if (hooks.length === 0) return Promise.resolve();
    return Promise.all(hooks.map((hook) => this.#runHook(run, hook, capAt)));
  }

  #runHook(run: Run, entry: HookEntry, capAt: number): Promise<void> {
    const { clock, logger } = this.#options;
    const startedAt = clock.now();
    const limitMs = Math.max(0, Math.min(entry.timeoutMs ?? this.#options.hookTimeoutMs, capAt - startedAt));
    const controller = new AbortController();
    return new Promise<void>((resolve) => {
      let done = false;
      const finish = (outcome: HookOutcome, error?: unknown) => {
        if (done) return;
        done = true;
        clock.clearTimeout(timer);
        run.running.delete(running);
        if (outcome === 'timeout') controller.abort(error);
        const result: HookResult =
          outcome === 'ok'
            ? { name: entry.name, phase: entry.phase, outcome, durationMs: clock.now() - startedAt }
            : { name: entry.name, phase: entry.phase, outcome, durationMs: clock.now() - startedAt, error };
        run.results.push(result);
        if (outcome === 'ok') logger.debug?.({ hook: entry.name, durationMs: result.durationMs }, 'shutdown hook done');
        else logger.warn({ hook: entry.name, outcome, err: error }, 'shutdown hook failed');
        this.#emit('hookFinished', result);
        resolve();
      };
      const running: RunningHook = { entry, finish };
      run.running.add(running);
      const timer = clock.setTimeout(
        () => finish('timeout', new TimeoutError(limitMs, `shutdown hook "${entry.name}"`)),
        limitMs,
      );
      let value: unknown;
      try {
        value = entry.fn({ signal: controller.signal, reason: run.reason });
      } catch (error) {
        finish('error', error);
        return;
      }
      Promise.resolve(value).then(
        () => finish('ok'),
        (error: unknown) => finish('error', error),
      );
    });
  }

  async #drain(run: Run): Promise<void> {
    const { clock, drainTimeoutMs, abortGraceMs } = this.#options;
    const drainStart = clock.now();
    const drainEnd = Math.min(drainStart + drainTimeoutMs, run.deadlineAt);
    const drain = {
      inFlight: this.#tracker.pending,
      counters: this.#tracker.beginDrain(),
      aborted: undefined as number | undefined,
    };
    run.drain = drain;
    const hooks = this.#runHooks(run, 'drain', drainEnd);
    let abandoned = 0;
    const idle = await this.#tracker.waitIdle(drainEnd - drainStart, clock, run.cancel.signal);
    if (run.finished) return; // the run's deadline passed; #finish reported the tasks
    if (!idle) {
      drain.aborted = this.#tracker.pending;
      this.#tracker.endDrain();
      this.#tracker.abort(new TimeoutError(drainTimeoutMs, 'drain'));
      const graceMs = Math.min(abortGraceMs, run.deadlineAt - clock.now());
      const settled = await this.#tracker.waitIdle(graceMs, clock, run.cancel.signal);
      if (run.finished) return;
      abandoned = settled ? 0 : this.#tracker.pending;
    }
    this.#tracker.endDrain();
    run.tasks = {
      inFlight: drain.inFlight,
      completed: drain.counters.completed,
      failed: drain.counters.failed,
      aborted: drain.aborted ?? 0,
      abandoned,
    };
    await hooks;
  }

  #finish(run: Run, timedOut: boolean): void {
    if (run.finished) return;
    run.finished = true;
    const { clock, logger } = this.#options;
    if (run.deadline) clock.clearTimeout(run.deadline);
    run.cancel.abort();
    if (timedOut) {
      // The deadline passed: abandon what is still running and record what never started.
      const pending = this.#tracker.pending;
      const { drain } = run;
      if (drain && run.phaseIndex === PHASES.indexOf('drain')) {
        // Deadline during the drain: tasks not yet aborted are aborted now, and all are left behind.
        run.tasks = {
          inFlight: drain.inFlight,
          completed: drain.counters.completed,
          failed: drain.counters.failed,
          aborted: drain.aborted ?? pending,
          abandoned: pending,
        };
      } else if (!drain && pending > 0) {
        run.tasks = { inFlight: pending, completed: 0, failed: 0, aborted: pending, abandoned: pending };
      }
      this.#tracker.endDrain();
      this.#tracker.abort(new TimeoutError(this.#options.timeoutMs, 'shutdown'));
      for (const running of [...run.running]) {
        running.finish('timeout', new TimeoutError(this.#options.timeoutMs, 'shutdown'));
      }
      for (const entry of this.#hooks) {
        if (PHASES.indexOf(entry.phase) > run.phaseIndex) {
          const result: HookResult = { name: entry.name, phase: entry.phase, outcome: 'skipped', durationMs: 0 };
          run.results.push(result);
          this.#emit('hookFinished', result);
        }
      }
    }
    const failed =
      timedOut || run.failedByError || run.tasks.aborted > 0 || run.results.some((result) => result.outcome !== 'ok');
    const report: ShutdownReport = {
      reason: run.reason,
      exitCode: failed ? 1 : 0,
      timedOut,
      startedAt: run.startedAt,
      durationMs: clock.now() - run.startedAt,
      hooks: Object.freeze([...run.results]),
      tasks: run.tasks,
      ...(run.error === undefined ? {} : { error: run.error }),
    };
    logger.info({ exitCode: report.exitCode, durationMs: report.durationMs, timedOut }, 'shutdown finished');
    this.#emit('shutdownFinished', report);
    run.resolve(report);
    this.#exit(report.exitCode);
  }
}

/**
 * Creates a {@link ShutdownManager}. Nothing touches `process` until `install()`.
 *
 * @param options - deadline, signals, pre-drain delay, exit, logger, clock (see {@link ShutdownOptions})
 * @returns the manager
 * @throws TypeError naming the first invalid option (e.g. a negative `timeoutMs`)
 *
 * @example
 * ```ts
 * import { createShutdown } from '@botkit/shutdown';
 *
 * const shutdown = createShutdown({ timeoutMs: 25_000, handleErrors: true }).install();
 * bot.use(shutdown.middleware());
 * shutdown.add('poller', () => bot.stop(), { phase: 'intake' });
 * shutdown.add('redis', () => redis.quit(), { phase: 'connections' });
 * shutdown.add('pg', () => pool.end(), { phase: 'connections' });
 * ```
 */
export function createShutdown(options: ShutdownOptions = {}): ShutdownManager {
  return new ShutdownManager(options);
}
