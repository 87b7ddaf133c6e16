import { constants } from 'node:os';
import { type Clock, type Logger, noopLogger, systemClock } from '@botkit/core';
import { isPhase, type Phase } from './phases.js';

/**
 * Options of {@link createShutdown}. Every duration is in milliseconds.
 *
 * @example
 * ```ts
 * import { createShutdown } from '@botkit/shutdown';
 *
 * const shutdown = createShutdown({ timeoutMs: 25_000, preDrainDelayMs: 5_000, handleErrors: true }).install();
 * ```
 */
export interface ShutdownOptions {
  /**
   * Hard deadline of the whole run, from the signal to `exit()`. When it passes, hooks still
   * running are abandoned and the run ends with exit code 1. Keep it below Kubernetes'
   * `terminationGracePeriodSeconds`.
   * @defaultValue `30000`
   */
  timeoutMs?: number | undefined;
  /**
   * Signals that start a graceful shutdown once {@link ShutdownManager.install} is called.
   * @defaultValue `['SIGTERM', 'SIGINT']`
   */
  signals?: readonly NodeJS.Signals[] | undefined;
  /**
   * Pause after readiness turns false (`isShuttingDown`, `signal`, `shutdownStarted`) and before
   * the `intake` phase, so the bot keeps serving while a load balancer stops routing to it.
   * Must be less than `timeoutMs`.
   * @defaultValue `0`
   */
  preDrainDelayMs?: number | undefined;
  /**
   * How long the `drain` phase waits for tracked tasks before aborting their signal.
   * @defaultValue half of `timeoutMs - preDrainDelayMs`
   */
  drainTimeoutMs?: number | undefined;
  /**
   * After tracked tasks are aborted, how long to wait for them to settle before abandoning them.
   * @defaultValue `Math.min(1000, timeoutMs / 10)`
   */
  abortGraceMs?: number | undefined;
  /**
   * Time limit of a hook that was added without its own `timeoutMs`, so that one hanging hook
   * cannot use up the time of later phases. Always capped by the time left before `timeoutMs`.
   * @defaultValue `timeoutMs / 5`
   */
  hookTimeoutMs?: number | undefined;
  /**
   * Called with the exit code when a run ends, and when a second signal forces an exit.
   * @defaultValue `process.exit` while installed; nothing when not installed
   */
  exit?: ((code: number) => void) | undefined;
  /**
   * When a second signal forces the exit, exit with `128 + signal number` (143 for SIGTERM,
   * 130 for SIGINT) instead of 1.
   * @defaultValue `false`
   */
  exitCodeFromSignal?: boolean | undefined;
  /**
   * Once installed, route `uncaughtException` and `unhandledRejection` into a graceful shutdown
   * that exits with code 1.
   * @defaultValue `false`
   */
  handleErrors?: boolean | undefined;
  /**
   * Where to log what happens (pino-compatible).
   * @defaultValue silent
   */
  logger?: Logger | undefined;
  /**
   * Source of time for every timer (inject `createTestClock()` in tests).
   * @defaultValue `systemClock`
   */
  clock?: Clock | undefined;
}

/**
 * Options of {@link ShutdownManager.add}.
 *
 * @example
 * ```ts
 * shutdown.add('pg', () => pool.end(), { phase: 'connections', timeoutMs: 5000 });
 * ```
 */
export interface HookOptions {
  /**
   * The phase the hook runs in.
   * @defaultValue `'services'`
   */
  phase?: Phase | undefined;
  /**
   * Time limit of this hook; when it passes the hook's signal is aborted and the hook is
   * reported as `timeout` and abandoned. Capped by the time left before the run's deadline.
   * @defaultValue the manager's `hookTimeoutMs`
   */
  timeoutMs?: number | undefined;
}

/** @internal Options after defaults and validation. */
export interface ResolvedOptions {
  readonly timeoutMs: number;
  readonly signals: readonly NodeJS.Signals[];
  readonly preDrainDelayMs: number;
  readonly drainTimeoutMs: number;
  readonly abortGraceMs: number;
  readonly hookTimeoutMs: number;
  readonly exit: ((code: number) => void) | undefined;
  readonly exitCodeFromSignal: boolean;
  readonly handleErrors: boolean;
  readonly logger: Logger;
  readonly clock: Clock;
}

const UNCATCHABLE = new Set(['SIGKILL', 'SIGSTOP']);

/** @internal Throws a TypeError unless `value` is a finite number above (or at) `min`. */
export function expectMs(name: string, value: unknown, allowZero: boolean): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || (!allowZero && value === 0)) {
    throw new TypeError(`Expected ${name} to be a finite number ${allowZero ? '>= 0' : '> 0'}, got ${String(value)}`);
  }
  return value;
}

function expectBoolean(name: string, value: unknown): boolean {
  if (value === undefined) return false;
  if (typeof value !== 'boolean') throw new TypeError(`Expected ${name} to be a boolean, got ${typeof value}`);
  return value;
}

/** @internal Applies defaults and validates eagerly, naming the offending option. */
export function resolveOptions(options: ShutdownOptions): ResolvedOptions {
  if (typeof options !== 'object' || options === null) {
    throw new TypeError(`Expected options to be an object, got ${options === null ? 'null' : typeof options}`);
  }
  const timeoutMs = expectMs('timeoutMs', options.timeoutMs ?? 30_000, false);
  const preDrainDelayMs = expectMs('preDrainDelayMs', options.preDrainDelayMs ?? 0, true);
  if (preDrainDelayMs >= timeoutMs) {
    throw new TypeError(`Expected preDrainDelayMs (${preDrainDelayMs}) to be less than timeoutMs (${timeoutMs})`);
  }
  const drainTimeoutMs = expectMs('drainTimeoutMs', options.drainTimeoutMs ?? (timeoutMs - preDrainDelayMs) / 2, true);
  const abortGraceMs = expectMs('abortGraceMs', options.abortGraceMs ?? Math.min(1000, timeoutMs / 10), true);
  const hookTimeoutMs = expectMs('hookTimeoutMs', options.hookTimeoutMs ?? timeoutMs / 5, false);

  const signals = options.signals ?? ['SIGTERM', 'SIGINT'];
  if (!Array.isArray(signals)) throw new TypeError(`Expected signals to be an array of signal names`);
  for (const signal of signals as unknown[]) {
    if (typeof signal !== 'string' || !Object.hasOwn(constants.signals, signal)) {
      throw new TypeError(`Expected signals to contain signal names such as 'SIGTERM', got ${String(signal)}`);
    }
    if (UNCATCHABLE.has(signal)) throw new TypeError(`Expected signals to be catchable, got ${signal}`);
  }

  if (options.exit !== undefined && typeof options.exit !== 'function') {
    throw new TypeError(`Expected exit to be a function, got ${typeof options.exit}`);
  }
  const logger = options.logger ?? noopLogger;
  for (const level of ['info', 'warn', 'error'] as const) {
    if (typeof logger?.[level] !== 'function') throw new TypeError(`Expected logger.${level} to be a function`);
  }
  const clock = options.clock ?? systemClock;
  for (const method of ['now', 'setTimeout', 'clearTimeout'] as const) {
    if (typeof clock?.[method] !== 'function') throw new TypeError(`Expected clock.${method} to be a function`);
  }
  return {
    timeoutMs,
    signals: Object.freeze([...signals]),
    preDrainDelayMs,
    drainTimeoutMs,
    abortGraceMs,
    hookTimeoutMs,
    exit: options.exit,
    exitCodeFromSignal: expectBoolean('exitCodeFromSignal', options.exitCodeFromSignal),
    handleErrors: expectBoolean('handleErrors', options.handleErrors),
    logger,
    clock,
  };
}

/** @internal Validates the arguments of `add()`. */
export function validateHook(name: unknown, fn: unknown, options: HookOptions): { phase: Phase; timeoutMs?: number } {
  if (typeof name !== 'string' || name.length === 0) {
    throw new TypeError(
      `Expected hook name to be a non-empty string, got ${typeof name === 'string' ? "''" : typeof name}`,
    );
  }
  if (typeof fn !== 'function') throw new TypeError(`Expected hook "${name}" to be a function, got ${typeof fn}`);
  if (typeof options !== 'object' || options === null) {
    throw new TypeError(`Expected options of hook "${name}" to be an object`);
  }
  const phase = options.phase ?? 'services';
  if (!isPhase(phase)) {
    throw new TypeError(
      `Unknown phase ${JSON.stringify(phase)} for hook "${name}"; expected one of intake, drain, services, connections, flush`,
    );
  }
  if (options.timeoutMs === undefined) return { phase };
  return { phase, timeoutMs: expectMs(`timeoutMs of hook "${name}"`, options.timeoutMs, false) };
}
