import { createTestClock, isBotkitError, sleep, type TestClock } from '@botkit/core';
import { afterEach, describe, expect, expectTypeOf, it, vi } from 'vitest';
import {
  createShutdown,
  type HookResult,
  PHASES,
  type ShutdownManager,
  type ShutdownOptions,
  type ShutdownReport,
  type ShutdownState,
} from './index.js';

function setup(options: ShutdownOptions = {}) {
  const clock = createTestClock(0);
  const exitCalls: Array<{ code: number; at: number }> = [];
  const shutdown = createShutdown({ clock, exit: (code) => exitCalls.push({ code, at: clock.now() }), ...options });
  return { clock, shutdown, exitCalls };
}

/** Starts a run and advances the test clock until it has finished. */
async function runToEnd(shutdown: ShutdownManager, clock: TestClock, reason = 'test'): Promise<ShutdownReport> {
  let report: ShutdownReport | undefined;
  void shutdown.shutdown(reason).then((r) => {
    report = r;
  });
  for (let i = 0; i < 1000 && !report; i++) if (!(await clock.next())) await new Promise((r) => setImmediate(r));
  if (!report) throw new Error('shutdown run did not finish');
  return report;
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe('phases', () => {
  it('runs phases in order intake → drain → services → connections → flush, hooks of one phase in parallel, and exits 0', async () => {
    const { clock, shutdown, exitCalls } = setup();
    const log: string[] = [];
    const hook = (name: string, ms: number) => async () => {
      log.push(`start ${name} @${clock.now()}`);
      await sleep(ms, { clock });
      log.push(`end ${name} @${clock.now()}`);
    };
    // Registered in reverse: order comes from phases, not from registration.
    shutdown.add('logs', hook('logs', 10), { phase: 'flush' });
    shutdown.add('redis', hook('redis', 50), { phase: 'connections' });
    shutdown.add('health', hook('health', 100), { phase: 'services' });
    shutdown.add('scheduler', hook('scheduler', 100), { phase: 'services' });
    shutdown.add('queue', hook('queue', 20), { phase: 'drain' });
    shutdown.add('poller', hook('poller', 30), { phase: 'intake' });
    const phases: string[] = [];
    shutdown.on('phaseStarted', (phase) => phases.push(phase));

    const report = await runToEnd(shutdown, clock);

    expect(phases).toEqual([...PHASES]);
    expect(log).toEqual([
      'start poller @0',
      'end poller @30',
      'start queue @30',
      'end queue @50',
      'start health @50',
      'start scheduler @50',
      'end health @150',
      'end scheduler @150',
      'start redis @150',
      'end redis @200',
      'start logs @200',
      'end logs @210',
    ]);
    expect(report.exitCode).toBe(0);
    expect(report.durationMs).toBe(210);
    expect(report.hooks.map((h) => [h.name, h.outcome])).toEqual([
      ['poller', 'ok'],
      ['queue', 'ok'],
      ['health', 'ok'],
      ['scheduler', 'ok'],
      ['redis', 'ok'],
      ['logs', 'ok'],
    ]);
    expect(exitCalls).toEqual([{ code: 0, at: 210 }]);
    expect(clock.pendingTimers).toBe(0);
  });

  it('reports a hook that throws, with its error, runs later hooks and exits 1', async () => {
    const { clock, shutdown, exitCalls } = setup();
    const boom = new Error('redis already closed');
    const ran: string[] = [];
    shutdown.add('sync-throw', () => {
      throw boom;
    });
    shutdown.add('rejects', async () => {
      throw new Error('async failure');
    });
    shutdown.add(
      'pg',
      () => {
        ran.push('pg');
      },
      { phase: 'connections' },
    );

    const report = await runToEnd(shutdown, clock);

    expect(ran).toEqual(['pg']);
    expect(report.hooks.find((h) => h.name === 'sync-throw')).toMatchObject({ outcome: 'error', error: boom });
    expect(report.hooks.find((h) => h.name === 'rejects')).toMatchObject({
      outcome: 'error',
      error: expect.objectContaining({ message: 'async failure' }),
    });
    expect(report.hooks.find((h) => h.name === 'pg')?.outcome).toBe('ok');
    expect(report.exitCode).toBe(1);
    expect(exitCalls.map((e) => e.code)).toEqual([1]);
  });

  it('abandons a hook that hangs forever at its timeout; later phases still run', async () => {
    const { clock, shutdown } = setup({ timeoutMs: 10_000, hookTimeoutMs: 2000 });
    let hookSignal: AbortSignal | undefined;
    shutdown.add('hangs', ({ signal }) => {
      hookSignal = signal;
      return new Promise(() => {});
    });
    shutdown.add('hangs-own-timeout', () => new Promise(() => {}), { phase: 'connections', timeoutMs: 500 });
    const flushedAt: number[] = [];
    shutdown.add('flush', () => void flushedAt.push(clock.now()), { phase: 'flush' });

    const report = await runToEnd(shutdown, clock);

    const hangs = report.hooks.find((h) => h.name === 'hangs');
    expect(hangs).toMatchObject({ outcome: 'timeout', durationMs: 2000 });
    expect(isBotkitError(hangs?.error, 'BOTKIT_TIMEOUT')).toBe(true);
    expect(hookSignal?.aborted).toBe(true);
    expect(report.hooks.find((h) => h.name === 'hangs-own-timeout')).toMatchObject({
      outcome: 'timeout',
      durationMs: 500,
    });
    expect(flushedAt).toEqual([2500]);
    expect(report.exitCode).toBe(1);
    expect(report.timedOut).toBe(false);
    expect(clock.pendingTimers).toBe(0);
  });

  it('never exceeds timeoutMs even when a hook ignores its signal; unstarted hooks are reported as skipped', async () => {
    const { clock, shutdown, exitCalls } = setup({ timeoutMs: 1000 });
    shutdown.add('stubborn', () => new Promise(() => {}), { timeoutMs: 60_000 });
    shutdown.add('redis', () => {}, { phase: 'connections' });
    const finished: HookResult[] = [];
    shutdown.on('hookFinished', (result) => finished.push(result));

    const report = await runToEnd(shutdown, clock);

    expect(exitCalls).toEqual([{ code: 1, at: 1000 }]);
    expect(report.timedOut).toBe(true);
    expect(report.durationMs).toBe(1000);
    expect(report.hooks).toEqual([
      expect.objectContaining({ name: 'stubborn', outcome: 'timeout', durationMs: 1000 }),
      { name: 'redis', phase: 'connections', outcome: 'skipped', durationMs: 0 },
    ]);
    expect(finished).toEqual(report.hooks);
    expect(clock.pendingTimers).toBe(0);
  });

  it('does not run a hook removed with the function add() returned', async () => {
    const { clock, shutdown } = setup();
    const ran: string[] = [];
    const remove = shutdown.add('removed', () => void ran.push('removed'));
    shutdown.add('kept', () => void ran.push('kept'));
    remove();
    remove();
    const report = await runToEnd(shutdown, clock);
    expect(ran).toEqual(['kept']);
    expect(report.hooks.map((h) => h.name)).toEqual(['kept']);
  });

  it('passes each hook its signal and the reason', async () => {
    const { clock, shutdown } = setup();
    const seen: Array<{ aborted: boolean; reason: string }> = [];
    shutdown.add('look', ({ signal, reason }) => void seen.push({ aborted: signal.aborted, reason }));
    await runToEnd(shutdown, clock, 'deploy');
    expect(seen).toEqual([{ aborted: false, reason: 'deploy' }]);
  });
  it('runs a hook added during the run when its phase has not started yet', async () => {
    const { clock, shutdown } = setup();
    const ran: string[] = [];
    shutdown.add(
      'intake',
      () => {
        shutdown.add('late-connection', () => void ran.push('late-connection'), { phase: 'connections' });
      },
      { phase: 'intake' },
    );
    const report = await runToEnd(shutdown, clock);
    expect(ran).toEqual(['late-connection']);
    expect(report.exitCode).toBe(0);
  });

  it('is silent by default', async () => {
    const spies = (['log', 'info', 'warn', 'error', 'debug'] as const).map((m) =>
      vi.spyOn(console, m).mockImplementation(() => {}),
    );
    const clock = createTestClock(0);
    const shutdown = createShutdown({ clock, exit: () => {} });
    shutdown.add('fails', () => {
      throw new Error('x');
    });
    shutdown.add('hangs', () => new Promise(() => {}), { timeoutMs: 10 });
    await runToEnd(shutdown, clock);
    for (const spy of spies) expect(spy).not.toHaveBeenCalled();
  });
});

describe('shutdown()', () => {
  it('is idempotent: concurrent calls share one run and hooks run once', async () => {
    const { clock, shutdown, exitCalls } = setup();
    const hook = vi.fn(() => sleep(100, { clock }));
    shutdown.add('once', hook);
    const first = shutdown.shutdown('first');
    const second = shutdown.shutdown('second');
    expect(second).toBe(first);
    await clock.advance(100);
    const report = await first;
    expect(report.reason).toBe('first');
    expect(await shutdown.shutdown('third')).toBe(report);
    expect(hook).toHaveBeenCalledTimes(1);
    expect(exitCalls).toHaveLength(1);
  });

  it('aborts signal, flips isShuttingDown and emits shutdownStarted synchronously', () => {
    const { shutdown } = setup();
    const started: string[] = [];
    shutdown.on('shutdownStarted', (reason) => started.push(reason));
    expect(shutdown.isShuttingDown).toBe(false);
    expect(shutdown.signal.aborted).toBe(false);
    void shutdown.shutdown('SIGTERM');
    expect(shutdown.isShuttingDown).toBe(true);
    expect(shutdown.signal.aborted).toBe(true);
    expect(isBotkitError(shutdown.signal.reason, 'BOTKIT_SHUTTING_DOWN')).toBe(true);
    expect(started).toEqual(['SIGTERM']);
  });

  it('calls intake hooks before shutdown() returns when there is no pre-drain delay', () => {
    const { shutdown } = setup();
    const stop = vi.fn(() => new Promise<void>(() => {}));
    shutdown.add('poller', stop, { phase: 'intake' });
    void shutdown.shutdown();
    expect(stop).toHaveBeenCalledTimes(1);
  });

  it('with preDrainDelayMs, turns readiness false at once but keeps serving until the delay has passed', async () => {
    const { clock, shutdown } = setup({ preDrainDelayMs: 5000 });
    const stop = vi.fn();
    shutdown.add('poller', stop, { phase: 'intake' });
    const middleware = shutdown.middleware();
    void shutdown.shutdown('SIGTERM');
    expect(shutdown.signal.aborted).toBe(true);
    await clock.advance(4999);
    expect(stop).not.toHaveBeenCalled();
    await expect(middleware({}, async () => {})).resolves.toBeUndefined();
    await clock.advance(1);
    expect(stop).toHaveBeenCalledTimes(1);
    const refused = middleware({}, async () => {});
    await expect(refused).rejects.toMatchObject({ code: 'BOTKIT_SHUTTING_DOWN', reason: 'SIGTERM' });
  });

  it('emits hookFinished with duration and outcome, and shutdownFinished with the report; a throwing listener is ignored', async () => {
    const errors: unknown[] = [];
    const logger = { info() {}, warn() {}, error: (obj: unknown) => void errors.push(obj) };
    const { clock, shutdown } = setup({ logger });
    shutdown.add('a', () => sleep(40, { clock }));
    shutdown.on('phaseStarted', () => {
      throw new Error('listener bug');
    });
    const results: HookResult[] = [];
    const reports: ShutdownReport[] = [];
    shutdown.on('hookFinished', (r) => results.push(r));
    shutdown.on('shutdownFinished', (r) => reports.push(r));
    const report = await runToEnd(shutdown, clock);
    expect(results).toEqual([{ name: 'a', phase: 'services', outcome: 'ok', durationMs: 40 }]);
    expect(reports).toEqual([report]);
    expect(report.exitCode).toBe(0);
    expect(errors.length).toBe(PHASES.length);
  });
});

describe('track()', () => {
  it('drain waits for every tracked task before later phases; tracked is observable', async () => {
    const { clock, shutdown } = setup();
    const results = [100, 300, 200].map((ms) => shutdown.track(sleep(ms, { clock }).then(() => ms)));
    const viaFunction = shutdown.track((signal) => sleep(250, { clock, signal }).then(() => 'fn'));
    expect(shutdown.tracked).toBe(4);
    const servicesAt: number[] = [];
    shutdown.add('services', () => void servicesAt.push(clock.now()));

    const report = await runToEnd(shutdown, clock);

    expect(await Promise.all(results)).toEqual([100, 300, 200]);
    expect(await viaFunction).toBe('fn');
    expect(servicesAt).toEqual([300]);
    expect(shutdown.tracked).toBe(0);
    expect(report.tasks).toEqual({ inFlight: 4, completed: 4, failed: 0, aborted: 0, abandoned: 0 });
    expect(report.exitCode).toBe(0);
    expect(clock.pendingTimers).toBe(0);
  });

  it('aborts the signal of tasks still running when the drain time is up, waits the grace period, then moves on with exit 1', async () => {
    const { clock, shutdown, exitCalls } = setup({ timeoutMs: 10_000, drainTimeoutMs: 500, abortGraceMs: 200 });
    let obedientSignal: AbortSignal | undefined;
    const obedient = shutdown.track((signal) => {
      obedientSignal = signal;
      return sleep(60_000, { clock, signal });
    });
    obedient.catch(() => {});
    const stubborn = shutdown.track(() => new Promise<void>(() => {}));
    const quick = shutdown.track(sleep(100, { clock }));
    const servicesAt: number[] = [];
    shutdown.add('services', () => void servicesAt.push(clock.now()));

    const report = await runToEnd(shutdown, clock);

    await expect(quick).resolves.toBeUndefined();
    await expect(obedient).rejects.toMatchObject({ code: 'BOTKIT_TIMEOUT' });
    expect(obedientSignal?.aborted).toBe(true);
    expect(servicesAt).toEqual([700]);
    expect(report.tasks).toEqual({ inFlight: 3, completed: 1, failed: 0, aborted: 2, abandoned: 1 });
    expect(report.exitCode).toBe(1);
    expect(exitCalls).toEqual([{ code: 1, at: 700 }]);
    void stubborn;
  });

  it('moves on as soon as aborted tasks settle within the grace period', async () => {
    const { clock, shutdown } = setup({ timeoutMs: 10_000, drainTimeoutMs: 500, abortGraceMs: 1000 });
    const task = shutdown.track((signal) => sleep(60_000, { clock, signal }));
    task.catch(() => {});
    const servicesAt: number[] = [];
    shutdown.add('services', () => void servicesAt.push(clock.now()));
    const report = await runToEnd(shutdown, clock);
    expect(servicesAt).toEqual([500]);
    expect(report.tasks).toMatchObject({ aborted: 1, abandoned: 0 });
  });

  it('passes results and errors through unchanged; a task that rejects is not a shutdown failure', async () => {
    const { clock, shutdown } = setup();
    const failure = new Error('403: bot was blocked by the user');
    await expect(shutdown.track(Promise.resolve(42))).resolves.toBe(42);
    const failing = shutdown.track(sleep(10, { clock }).then(() => Promise.reject(failure)));
    failing.catch(() => {});
    const report = await runToEnd(shutdown, clock);
    await expect(failing).rejects.toBe(failure);
    expect(report.tasks).toEqual({ inFlight: 1, completed: 1, failed: 1, aborted: 0, abandoned: 0 });
    expect(report.exitCode).toBe(0);
  });

  it('rejects a function task that throws, without tracking it', async () => {
    const { shutdown } = setup();
    const error = new Error('sync');
    await expect(
      shutdown.track(() => {
        throw error;
      }),
    ).rejects.toBe(error);
    expect(shutdown.tracked).toBe(0);
  });

  it('keeps the drain counts when the deadline ends the grace period', async () => {
    const { clock, shutdown, exitCalls } = setup({ timeoutMs: 800, drainTimeoutMs: 500, abortGraceMs: 5000 });
    void shutdown.track(sleep(100, { clock }));
    void shutdown.track(() => new Promise<void>(() => {}));
    const report = await runToEnd(shutdown, clock);
    expect(report.timedOut).toBe(true);
    expect(report.tasks).toEqual({ inFlight: 2, completed: 1, failed: 0, aborted: 1, abandoned: 1 });
    expect(exitCalls).toEqual([{ code: 1, at: 800 }]);
  });

  it('hands an already aborted signal to a function tracked after the drain time is over', async () => {
    const { clock, shutdown } = setup({ drainTimeoutMs: 100 });
    shutdown.track((signal) => sleep(60_000, { clock, signal })).catch(() => {});
    await runToEnd(shutdown, clock);
    let late: AbortSignal | undefined;
    await shutdown.track(async (signal) => {
      late = signal;
    });
    expect(late?.aborted).toBe(true);
  });

  it('counts the whole run against the deadline when tracked tasks outlive it', async () => {
    const { clock, shutdown, exitCalls } = setup({ timeoutMs: 1000, drainTimeoutMs: 5000 });
    shutdown.track(() => new Promise<void>(() => {}));
    const report = await runToEnd(shutdown, clock);
    expect(exitCalls).toEqual([{ code: 1, at: 1000 }]);
    expect(report.timedOut).toBe(true);
    expect(report.tasks).toMatchObject({ inFlight: 1, aborted: 1, abandoned: 1 });
  });
});

describe('process', () => {
  const counts = () =>
    ['SIGTERM', 'SIGINT', 'SIGHUP', 'uncaughtException', 'unhandledRejection'].map((e) => process.listenerCount(e));

  it('never touches process until install(); shutdown() without install does not exit', async () => {
    const before = counts();
    const exit = vi.spyOn(process, 'exit').mockImplementation((() => undefined) as never);
    const clock = createTestClock(0);
    const shutdown = createShutdown({ clock, handleErrors: true });
    shutdown.add('x', () => {});
    expect(counts()).toEqual(before);
    const report = await runToEnd(shutdown, clock);
    expect(report.exitCode).toBe(0);
    expect(exit).not.toHaveBeenCalled();
    expect(counts()).toEqual(before);
  });

  it('install() adds one listener per signal (and error handlers when asked); uninstall() removes them all', () => {
    const before = counts();
    const shutdown = createShutdown({ signals: ['SIGTERM', 'SIGHUP'], handleErrors: true });
    expect(shutdown.install()).toBe(shutdown);
    shutdown.install();
    expect(shutdown.installed).toBe(true);
    const [term, int, hup, uncaught, unhandled] = before as [number, number, number, number, number];
    expect(counts()).toEqual([term + 1, int, hup + 1, uncaught + 1, unhandled + 1]);
    shutdown.uninstall();
    shutdown.uninstall();
    expect(shutdown.installed).toBe(false);
    expect(counts()).toEqual(before);
  });

  it('await using runs the shutdown and uninstalls', async () => {
    const before = counts();
    const ran = vi.fn();
    {
      await using shutdown = createShutdown({ exit: () => {} }).install();
      shutdown.add('x', ran);
      expect(counts()).not.toEqual(before);
    }
    expect(ran).toHaveBeenCalledTimes(1);
    expect(counts()).toEqual(before);
  });
});

describe('types', () => {
  it('a manager is a ShutdownState (what @botkit/health accepts)', () => {
    const shutdown = createShutdown();
    const state: ShutdownState = shutdown;
    expectTypeOf(shutdown).toExtend<ShutdownState>();
    expectTypeOf(state.isShuttingDown).toEqualTypeOf<boolean>();
    let ready = true;
    const listener = () => {
      ready = false;
    };
    state.on('shutdownStarted', listener);
    void shutdown.shutdown();
    expect(ready).toBe(false);
    state.off('shutdownStarted', listener);
    expect(shutdown.listenerCount('shutdownStarted')).toBe(0);
  });

  it('types event payloads', () => {
    const shutdown = createShutdown();
    shutdown.on('hookFinished', (result) => {
      expectTypeOf(result).toEqualTypeOf<HookResult>();
    });
    shutdown.on('shutdownFinished', (report) => {
      expectTypeOf(report.exitCode).toEqualTypeOf<0 | 1>();
    });
    // @ts-expect-error unknown event name
    shutdown.on('stopped', () => {});
  });
});
