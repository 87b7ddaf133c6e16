import type { Clock, ClockTimer, Logger } from '@botkit/core';
import { isBotkitError } from '@botkit/core';
import { Cron } from 'croner';

/**
 * Options of {@link Backups.schedule}.
 *
 * @example
 * ```ts
 * backups.schedule('30 3 * * *', { timezone: 'Europe/Berlin', prune: true });
 * ```
 */
export interface ScheduleOptions {
  /** IANA time zone the cron expression is read in. @defaultValue the process's local zone */
  timezone?: string | undefined;
  /** Run `prune()` after each successful backup. @defaultValue `true` */
  prune?: boolean | undefined;
}

/**
 * A running schedule, returned by {@link Backups.schedule}.
 *
 * @example
 * ```ts
 * const schedule = backups.schedule('0 * * * *');
 * console.log(schedule.nextRunAt());
 * await schedule.stop();
 * ```
 */
export interface ScheduleHandle {
  /**
   * When the next run is due.
   *
   * @returns the time of the next run, or undefined when stopped or no run is left
   */
  nextRunAt(): Date | undefined;
  /** Whether a scheduled backup is running now. */
  readonly running: boolean;
  /** Stops the schedule; aborts a running backup and waits for it to end. Idempotent. */
  stop(): Promise<void>;
  /** Same as `stop()`, for `await using`. */
  [Symbol.asyncDispose](): Promise<void>;
}

const MAX_DELAY_MS = 2 ** 31 - 1;

/** @internal */
export function createSchedule(input: {
  cronExpression: string;
  options: ScheduleOptions;
  clock: Clock;
  logger: Logger;
  run: (signal: AbortSignal) => Promise<void>;
  onStop: () => void;
}): ScheduleHandle {
  const { cronExpression, options, clock, logger } = input;
  if (typeof cronExpression !== 'string' || cronExpression.trim() === '') {
    throw new TypeError(
      `Expected cronExpression to be a cron pattern such as '0 * * * *', got ${String(cronExpression)}`,
    );
  }
  let cron: Cron;
  try {
    cron = new Cron(cronExpression, { paused: true, ...(options.timezone ? { timezone: options.timezone } : {}) });
  } catch (error) {
    throw new TypeError(
      `Expected cronExpression to be a valid cron pattern, got ${JSON.stringify(cronExpression)}: ${String(error)}`,
    );
  }
  const controller = new AbortController();
  let timer: ClockTimer | undefined;
  let next: Date | undefined;
  let current: Promise<void> | undefined;
  let stopped = false;

  const arm = (after?: number) => {
    if (stopped) return;
    const now = clock.now();
    // From the run just fired (not only from now): a timer that fires a little before the wall
    // clock reaches the scheduled time must not schedule the same run again.
    next = cron.nextRun(new Date(Math.max(now, after ?? now))) ?? undefined;
    if (!next) return;
    const delay = next.getTime() - now;
    // setTimeout cannot wait longer than ~24.8 days: wait in steps and re-arm (yearly schedules).
    timer = clock.setTimeout(delay > MAX_DELAY_MS ? () => arm() : fire, Math.min(delay, MAX_DELAY_MS)).unref();
  };
  const fire = () => {
    timer = undefined;
    if (stopped) return;
    if (!current) {
      current = input
        .run(controller.signal)
        .catch((error: unknown) => {
          if (controller.signal.aborted) return;
          if (isBotkitError(error, 'BOTKIT_BACKUP_LOCKED'))
            logger.info({ err: error }, 'scheduled backup skipped: locked');
          else logger.error({ err: error }, 'scheduled backup failed');
        })
        .finally(() => {
          current = undefined;
        });
    } else {
      logger.warn({}, 'scheduled backup skipped: the previous one is still running');
    }
    arm(next?.getTime());
  };
  arm();

  const handle: ScheduleHandle = {
    nextRunAt: () => (stopped ? undefined : next),
    get running() {
      return current !== undefined;
    },
    async stop() {
      if (!stopped) {
        stopped = true;
        if (timer) clock.clearTimeout(timer);
        timer = undefined;
        controller.abort(new Error('schedule stopped'));
        cron.stop();
        input.onStop();
      }
      await current;
    },
    [Symbol.asyncDispose]: () => handle.stop(),
  };
  return handle;
}
