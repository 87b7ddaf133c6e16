import type { Phase } from './phases.js';

/**
 * How a hook ended: `ok` (resolved in time), `error` (threw or rejected), `timeout` (its time
 * limit or the run's deadline passed first; it was abandoned), `skipped` (never started because
 * the run's deadline passed before its phase).
 *
 * @example
 * ```ts
 * import type { HookOutcome } from '@botkit/shutdown';
 *
 * const failed = (outcome: HookOutcome) => outcome !== 'ok';
 * ```
 */
export type HookOutcome = 'ok' | 'error' | 'timeout' | 'skipped';

/**
 * What happened to one hook, emitted as `hookFinished` and listed in the {@link ShutdownReport}.
 *
 * @example
 * ```ts
 * shutdown.on('hookFinished', (result) => {
 *   if (result.outcome !== 'ok') console.warn(`${result.phase}/${result.name}: ${result.outcome}`, result.error);
 * });
 * ```
 */
export interface HookResult {
  /** The name given to `add()`. */
  readonly name: string;
  /** The phase it ran in. */
  readonly phase: Phase;
  /** How it ended. */
  readonly outcome: HookOutcome;
  /** Milliseconds from its start to its end (0 when skipped). */
  readonly durationMs: number;
  /** The thrown value (`error`) or a `BOTKIT_TIMEOUT` error (`timeout`); absent when `ok`. */
  readonly error?: unknown;
}

/**
 * What happened to tracked tasks during the `drain` phase.
 *
 * @example
 * ```ts
 * const report = await shutdown.shutdown('deploy');
 * console.log(`${report.tasks.completed} finished, ${report.tasks.aborted} aborted`);
 * ```
 */
export interface TaskReport {
  /** Tasks in flight when the `drain` phase began. */
  readonly inFlight: number;
  /** Tasks that settled (resolved or rejected) before the drain time was up. */
  readonly completed: number;
  /** Of `completed`, how many rejected (the app's own errors; they do not change the exit code). */
  readonly failed: number;
  /** Tasks still running when the drain time was up; their signal was aborted. */
  readonly aborted: number;
  /** Of `aborted`, how many were still running after the grace period and were left behind. */
  readonly abandoned: number;
}

/**
 * The outcome of a whole shutdown run, emitted as `shutdownFinished` and returned by
 * `shutdown()`.
 *
 * @example
 * ```ts
 * shutdown.on('shutdownFinished', (report) => {
 *   logger.info({ exitCode: report.exitCode, durationMs: report.durationMs, hooks: report.hooks }, 'bye');
 * });
 * ```
 */
export interface ShutdownReport {
  /** Why the run began: a signal name, `uncaughtException`, `unhandledRejection` or the reason given to `shutdown()`. */
  readonly reason: string;
  /**
   * 0 when every hook succeeded and every tracked task finished within the deadline; 1 when a
   * hook failed or timed out, a task had to be aborted, the deadline passed, or the run was
   * started by an uncaught error.
   */
  readonly exitCode: 0 | 1;
  /** True when the run's deadline (`timeoutMs`) ended it. */
  readonly timedOut: boolean;
  /** When the run began (`clock.now()`, epoch ms). */
  readonly startedAt: number;
  /** Milliseconds from the beginning to the end of the run. */
  readonly durationMs: number;
  /** Every hook, in the order they finished; skipped hooks last. */
  readonly hooks: readonly HookResult[];
  /** Tracked tasks during the `drain` phase. */
  readonly tasks: TaskReport;
  /** The uncaught error or unhandled rejection that started or disturbed the run, if any. */
  readonly error?: unknown;
}
