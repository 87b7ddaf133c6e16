/**
 * Real signals to real child processes running fixtures/child.ts (how they are started, on
 * sources and without a build step: see helpers.ts).
 *
 * Durations are measured from the child's own timestamps (see fixtures/child.ts), so the
 * parent's scheduling on a loaded machine does not count against the library.
 */
import { describe, expect, it } from 'vitest';
import { type Child, type ChildEvent, startChild } from './helpers.js';

const at = (child: Child, event: string) => {
  const found = child.find(event);
  if (!found) throw new Error(`no "${event}" event; saw ${child.events.map((e) => e.event).join(', ')}`);
  return found.at;
};

/** Names of finished hooks in the order they finished, without the fixture's keep-alive hook. */
const hooksInOrder = (child: Child) =>
  child
    .all('hookFinished')
    .map((e) => e.name)
    .filter((name) => name !== 'keep-alive');

describe('signals to a real process', () => {
  it('SIGTERM with 100 tasks in flight: all complete, hooks run in phase order, exit 0', async () => {
    const child = startChild('drain');
    await child.waitFor('ready');
    child.process.kill('SIGTERM');
    const { code } = await child.exited;

    expect(code, child.stderr()).toBe(0);
    expect(child.all('taskDone')).toHaveLength(100);
    const names = child.events.map((e) => e.event);
    const lastTask = names.lastIndexOf('taskDone');
    expect(child.all('phaseStarted').map((e) => e.phase)).toEqual([
      'intake',
      'drain',
      'services',
      'connections',
      'flush',
    ]);
    // Every task finished before the services phase began.
    expect(lastTask).toBeLessThan(child.events.findIndex((e) => e.event === 'phaseStarted' && e.phase === 'services'));
    // keep-alive is a second flush hook: it may finish before or after flush-hook.
    expect(hooksInOrder(child)).toEqual([
      'intake-hook',
      'drain-hook',
      'services-hook',
      'connections-hook',
      'flush-hook',
    ]);
    expect(child.find('shutdownFinished')).toMatchObject({
      exitCode: 0,
      tasks: { inFlight: expect.any(Number), aborted: 0, abandoned: 0 },
    });
    expect(child.find('exit')).toMatchObject({ code: 0 });
  });

  it('with a deadline too short: tasks are aborted and the process exits 1 within the deadline + 100 ms', async () => {
    const timeoutMs = 800;
    const child = startChild('deadline', { timeoutMs });
    await child.waitFor('ready');
    child.process.kill('SIGTERM');
    const { code } = await child.exited;

    expect(code, child.stderr()).toBe(1);
    expect(child.all('taskAborted')).toHaveLength(10);
    const elapsed = at(child, 'exit') - at(child, 'shutdownStarted');
    expect(elapsed).toBeGreaterThanOrEqual(timeoutMs - 1);
    expect(elapsed).toBeLessThanOrEqual(timeoutMs + 100);
    expect(child.find('shutdownFinished')).toMatchObject({
      exitCode: 1,
      timedOut: true,
      tasks: { aborted: 11, abandoned: 1 },
    });
    // The services hook that ignored its signal did not stop the run from ending on time.
    expect(child.all('hookFinished').find((e) => e.name === 'stubborn')).toMatchObject({ outcome: 'timeout' });
  });

  it('a second SIGTERM during shutdown forces exit 1 at once (143 with exitCodeFromSignal)', async () => {
    const plain = startChild('hang', { timeoutMs: 30_000 });
    const fromSignal = startChild('hang', { timeoutMs: 30_000, exitCodeFromSignal: true });
    for (const child of [plain, fromSignal]) {
      await child.waitFor('ready');
      child.process.kill('SIGTERM');
      await child.waitFor('phaseStarted');
    }
    // Wait until the hanging services hook is running.
    for (const child of [plain, fromSignal]) {
      await child.waitUntil((events) => events.some((e) => e.event === 'phaseStarted' && e.phase === 'services'));
    }
    const sentAt = performance.now();
    plain.process.kill('SIGTERM');
    fromSignal.process.kill('SIGTERM');
    const [a, b] = await Promise.all([plain.exited, fromSignal.exited]);

    expect(a.code, plain.stderr()).toBe(1);
    expect(b.code, fromSignal.stderr()).toBe(143);
    for (const child of [plain, fromSignal]) {
      const signals = child.all('signal');
      expect(signals).toHaveLength(2);
      // Child's own view: from the second signal to the exit.
      expect(at(child, 'exit') - (signals[1] as ChildEvent).at).toBeLessThanOrEqual(100);
      expect(child.find('shutdownFinished')).toBeUndefined();
    }
    // Parent's view includes signal delivery and scheduling on a shared CI machine: generous bound.
    expect(Math.max(a.parentAt, b.parentAt) - sentAt).toBeLessThan(2000);
  });

  it.each(['uncaught', 'unhandled'])(
    'with handleErrors, an %s error runs every phase then exits 1',
    async (scenario) => {
      const child = startChild(scenario, { handleErrors: true });
      const { code } = await child.exited;

      expect(code, child.stderr()).toBe(1);
      expect(child.find('shutdownStarted')).toMatchObject({
        reason: scenario === 'uncaught' ? 'uncaughtException' : 'unhandledRejection',
      });
      expect(hooksInOrder(child)).toEqual([
        'intake-hook',
        'drain-hook',
        'services-hook',
        'connections-hook',
        'flush-hook',
      ]);
      expect(child.all('hookFinished').every((e) => e.outcome === 'ok')).toBe(true);
      expect(child.find('shutdownFinished')).toMatchObject({
        exitCode: 1,
        error: scenario === 'uncaught' ? 'boom from a timer' : 'rejected and forgotten',
      });
    },
  );

  it('signal is aborted and readiness flips within 10 ms of SIGTERM, before the pre-drain delay and intake', async () => {
    const preDrainDelayMs = 300;
    const child = startChild('readiness', { preDrainDelayMs });
    await child.waitFor('ready');
    child.process.kill('SIGTERM');
    const { code } = await child.exited;

    expect(code, child.stderr()).toBe(0);
    const received = at(child, 'signal');
    expect(at(child, 'signalAborted') - received).toBeLessThanOrEqual(10);
    expect(at(child, 'readinessFalse') - received).toBeLessThanOrEqual(10);
    expect(child.find('readinessFalse')).toMatchObject({ ready: false, flag: true });
    // Intake (stop taking updates) only after the pre-drain delay.
    const intake = child.events.find((e) => e.event === 'phaseStarted' && e.phase === 'intake');
    expect((intake?.at ?? 0) - received).toBeGreaterThanOrEqual(preDrainDelayMs - 1);
  });
});
