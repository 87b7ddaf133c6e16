import { runInNewContext } from 'node:vm';
import { setFlagsFromString } from 'node:v8';
import { createTestClock, isBotkitError, type TestClock } from '@botkit/core';
import { describe, expect, it } from 'vitest';
import { type CircuitState, createCircuit } from './circuit.js';
import { CircuitErrorCode } from './errors.js';

const boom = () => new Error('boom');

/** A controllable async function: each call returns a promise the test settles. */
function controllable<T = string>() {
  const calls: { resolve: (v: T) => void; reject: (e: unknown) => void; args: unknown[] }[] = [];
  const fn = (...args: unknown[]) =>
    new Promise<T>((resolve, reject) => {
      calls.push({ resolve, reject, args });
    });
  return { fn, calls };
}

async function settle<T>(promise: Promise<T>): Promise<{ ok: true; value: T } | { ok: false; error: unknown }> {
  try {
    return { ok: true, value: await promise };
  } catch (error) {
    return { ok: false, error };
  }
}

function failing(clock: TestClock, options: Parameters<typeof createCircuit>[1] = {}) {
  let calls = 0;
  let fail = true;
  const breaker = createCircuit(
    async (x: number) => {
      calls++;
      if (fail) throw boom();
      return x * 2;
    },
    { clock, ...options },
  );
  return {
    breaker,
    get calls() {
      return calls;
    },
    heal() {
      fail = false;
    },
  };
}

describe('createCircuit', () => {
  it('opens after 3 consecutive failures and then rejects without calling the function', async () => {
    const clock = createTestClock();
    const t = failing(clock);
    for (let i = 0; i < 3; i++) await expect(t.breaker.fire(1)).rejects.toThrow('boom');
    expect(t.breaker.state).toBe('open');
    const error = (await settle(t.breaker.fire(1))) as { ok: false; error: unknown };
    expect(isBotkitError(error.error, CircuitErrorCode.Open)).toBe(true);
    expect(t.calls).toBe(3);
    expect(t.breaker.stats()).toMatchObject({ failures: 3, rejects: 1, opens: 1 });
  });

  it('counts consecutive failures only: a success in between resets the count', async () => {
    const clock = createTestClock();
    let fail = true;
    const breaker = createCircuit(
      async () => {
        if (fail) throw boom();
        return 'ok';
      },
      { clock },
    );
    for (const outcome of [true, true, false, true, true, false, true, true]) {
      fail = outcome;
      await settle(breaker.fire());
    }
    expect(breaker.state).toBe('closed');
    await settle(breaker.fire());
    expect(breaker.state).toBe('open');
  });

  it('does not count errors that isFailure rejects, but passes them to the caller', async () => {
    const clock = createTestClock();
    const notFound = Object.assign(new Error('404'), { status: 404 });
    const breaker = createCircuit(
      async () => {
        throw notFound;
      },
      { clock, isFailure: (e) => (e as { status?: number }).status !== 404 },
    );
    for (let i = 0; i < 10; i++) await expect(breaker.fire()).rejects.toBe(notFound);
    expect(breaker.state).toBe('closed');
    expect(breaker.stats().failures).toBe(0);
  });

  it('after resetAfterMs lets exactly one trial through even with 1000 concurrent callers', async () => {
    const clock = createTestClock();
    const { fn, calls } = controllable<string>();
    const breaker = createCircuit(fn, { clock, resetAfterMs: 10_000, failureThreshold: 1 });
    const first = settle(breaker.fire());
    calls[0]?.reject(boom());
    await first;
    expect(breaker.state).toBe('open');
    await clock.advance(9_999);
    expect(breaker.state).toBe('open');
    await clock.advance(1);
    expect(breaker.state).toBe('halfOpen');
    const results = Array.from({ length: 1000 }, () => settle(breaker.fire()));
    expect(calls).toHaveLength(2); // the first failure + one trial
    calls[1]?.resolve('back');
    const settled = await Promise.all(results);
    expect(settled.filter((r) => r.ok)).toHaveLength(1);
    expect(settled.filter((r) => !r.ok && isBotkitError(r.error, CircuitErrorCode.Open))).toHaveLength(999);
    expect(breaker.state).toBe('closed');
  });

  it('a failed trial opens again for another resetAfterMs', async () => {
    const clock = createTestClock();
    const t = failing(clock, { failureThreshold: 1, resetAfterMs: 1000 });
    await settle(t.breaker.fire(1));
    await clock.advance(1000);
    expect(t.breaker.state).toBe('halfOpen');
    await settle(t.breaker.fire(1));
    expect(t.breaker.state).toBe('open');
    await clock.advance(999);
    expect(t.breaker.state).toBe('open');
    t.heal();
    await clock.advance(1);
    expect(await t.breaker.fire(2)).toBe(4);
    expect(t.breaker.state).toBe('closed');
  });

  it('emits typed events in order', async () => {
    const clock = createTestClock();
    const t = failing(clock, { failureThreshold: 2, resetAfterMs: 100 });
    const seen: string[] = [];
    t.breaker.on('stateChange', (from: CircuitState, to: CircuitState) => seen.push(`${from}->${to}`));
    t.breaker.on('open', () => seen.push('open'));
    t.breaker.on('halfOpen', () => seen.push('halfOpen'));
    t.breaker.on('close', () => seen.push('close'));
    t.breaker.on('reject', (e) => seen.push(`reject:${e.code}`));
    t.breaker.on('failure', () => seen.push('failure'));
    await settle(t.breaker.fire(1));
    await settle(t.breaker.fire(1));
    await settle(t.breaker.fire(1));
    await clock.advance(100);
    t.heal();
    await t.breaker.fire(1);
    expect(seen).toEqual([
      'failure',
      'closed->open',
      'open',
      'failure',
      'reject:BOTKIT_CIRCUIT_OPEN',
      'open->halfOpen',
      'halfOpen',
      'halfOpen->closed',
      'close',
    ]);
  });

  it('serves calls from the fallback while open and when a call fails', async () => {
    const clock = createTestClock();
    const reasons: unknown[] = [];
    const breaker = createCircuit(
      async (_id: number): Promise<string> => {
        throw boom();
      },
      { clock, fallback: (_error, id) => `cached ${id}`, failureThreshold: 2 },
    );
    breaker.on('fallback', (e) => reasons.push(e));
    expect(await breaker.fire(1)).toBe('cached 1');
    expect(await breaker.fire(2)).toBe('cached 2');
    expect(breaker.state).toBe('open');
    expect(await breaker.fire(3)).toBe('cached 3');
    expect(reasons).toHaveLength(3);
    expect(isBotkitError(reasons[2], CircuitErrorCode.Open)).toBe(true);
    expect(breaker.stats().fallbacks).toBe(3);
  });

  it('opt-in error-rate mode opens at the percentage once the volume is reached', async () => {
    const clock = createTestClock();
    let n = 0;
    const breaker = createCircuit(
      async () => {
        n++;
        if (n % 2 === 0) throw boom(); // 50 % failures, never 2 in a row
      },
      { clock, failureThreshold: Number.POSITIVE_INFINITY, errorThresholdPercentage: 50, volumeThreshold: 10 },
    );
    for (let i = 0; i < 9; i++) await settle(breaker.fire());
    expect(breaker.state).toBe('closed'); // 9 calls < volume
    await settle(breaker.fire());
    expect(breaker.state).toBe('open');
  });

  it('forgets old failures after the rolling window', async () => {
    const clock = createTestClock();
    let fail = true;
    const breaker = createCircuit(
      async () => {
        if (fail) throw boom();
      },
      {
        clock,
        failureThreshold: Number.POSITIVE_INFINITY,
        errorThresholdPercentage: 50,
        volumeThreshold: 4,
        rollingWindowMs: 1000,
      },
    );
    await settle(breaker.fire());
    await settle(breaker.fire());
    await clock.advance(1500);
    fail = false;
    for (let i = 0; i < 3; i++) await settle(breaker.fire());
    fail = true;
    await settle(breaker.fire()); // 1 failure in 4 recent calls = 25 %
    expect(breaker.state).toBe('closed');
  });

  it('uses no timer per call while closed, and one shared timer with timeoutMs', async () => {
    const clock = createTestClock();
    const plain = controllable();
    const breaker = createCircuit(plain.fn, { clock });
    const pending = Array.from({ length: 1000 }, () => breaker.fire());
    expect(clock.pendingTimers).toBe(0);
    for (const call of plain.calls) call.resolve('x');
    await Promise.all(pending);

    const slow = controllable();
    const timed = createCircuit(slow.fn, { clock, timeoutMs: 500, failureThreshold: 5000 });
    const results = Array.from({ length: 1000 }, () => settle(timed.fire()));
    expect(clock.pendingTimers).toBe(1);
    await clock.advance(499);
    expect(timed.stats().timeouts).toBe(0); // never early
    await clock.advance(11); // at most one tick (min(10 ms, timeoutMs / 10)) late
    const settled = await Promise.all(results);
    expect(settled.every((r) => !r.ok && isBotkitError(r.error, CircuitErrorCode.Timeout))).toBe(true);
    expect(timed.stats()).toMatchObject({ timeouts: 1000, failures: 1000 });
    expect(clock.pendingTimers).toBe(0);
  });

  it('times out calls in order of their start and ignores a reply that comes after the timeout', async () => {
    const clock = createTestClock();
    const slow = controllable();
    const breaker = createCircuit(slow.fn, { clock, timeoutMs: 100 });
    const a = settle(breaker.fire());
    await clock.advance(60);
    const b = settle(breaker.fire());
    await clock.advance(39);
    expect(breaker.stats().timeouts).toBe(0);
    await clock.advance(11); // one tick of 10 ms late at most
    expect(await a).toMatchObject({ ok: false });
    slow.calls[0]?.resolve('late');
    slow.calls[1]?.resolve('in time');
    expect(await b).toEqual({ ok: true, value: 'in time' });
    expect(breaker.stats()).toMatchObject({ timeouts: 1, successes: 1 });
  });

  it('runs the trial option instead of a caller when half-open', async () => {
    const clock = createTestClock();
    let healthy = false;
    let trials = 0;
    const t = failing(clock, {
      failureThreshold: 1,
      resetAfterMs: 100,
      trial: async () => {
        trials++;
        if (!healthy) throw boom();
      },
    });
    await settle(t.breaker.fire(1));
    await clock.advance(100);
    expect(trials).toBe(1);
    expect(t.breaker.state).toBe('open');
    healthy = true;
    t.heal();
    await clock.advance(100);
    expect(trials).toBe(2);
    expect(t.breaker.state).toBe('closed');
    expect(t.calls).toBe(1);
  });

  it('reports a probe: healthy closed, degraded open with fallback, unhealthy open without', async () => {
    const clock = createTestClock();
    const signal = new AbortController().signal;
    const bare = failing(clock, { failureThreshold: 1, name: 'telegram' });
    const probe = bare.breaker.probe();
    expect(probe.name).toBe('circuit:telegram');
    expect((await probe.check({ signal })).status).toBe('healthy');
    await settle(bare.breaker.fire(1));
    const open = await probe.check({ signal });
    expect(open.status).toBe('unhealthy');
    expect(open.message).toContain('open');

    const withFallback = createCircuit(
      async () => {
        throw boom();
      },
      { clock, failureThreshold: 1, fallback: () => undefined },
    );
    await withFallback.fire();
    expect((await withFallback.probe('x').check({ signal })).status).toBe('degraded');
  });

  it('round-trips its state through toJSON and restore', async () => {
    const clock = createTestClock();
    const t = failing(clock, { failureThreshold: 1, resetAfterMs: 1000 });
    await settle(t.breaker.fire(1));
    await clock.advance(400);
    const snapshot = JSON.parse(JSON.stringify(t.breaker));
    expect(snapshot).toMatchObject({ state: 'open', consecutiveFailures: 1 });

    const restored = failing(clock, { failureThreshold: 1, resetAfterMs: 1000 });
    restored.breaker.restore(snapshot);
    expect(restored.breaker.state).toBe('open');
    await expect(restored.breaker.fire(1)).rejects.toMatchObject({ code: CircuitErrorCode.Open });
    await clock.advance(599);
    expect(restored.breaker.state).toBe('open');
    await clock.advance(1);
    expect(restored.breaker.state).toBe('halfOpen');
    expect(restored.calls).toBe(0);
    expect(() =>
      restored.breaker.restore({ name: 'x', state: 'weird' as CircuitState, consecutiveFailures: 0 }),
    ).toThrow(/snapshot\.state/);
  });

  it('dispose() clears its timers', async () => {
    const clock = createTestClock();
    const t = failing(clock, { failureThreshold: 1 });
    await settle(t.breaker.fire(1));
    expect(clock.pendingTimers).toBe(1);
    t.breaker.dispose();
    expect(clock.pendingTimers).toBe(0);
  });

  it('retains nothing per call: 1 million calls while closed grow the heap by < 1 MB', async () => {
    // The benchmark runs the full 10 million calls (case heap-10m); 1 million keeps this test fast.
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    const breaker = createCircuit(async (x: number) => x, { timeoutMs: 1000 });
    const batch = async () => {
      for (let i = 0; i < 1000; i++) await breaker.fire(i);
    };
    await batch(); // warm up (JIT, hidden classes)
    gc();
    const before = process.memoryUsage().heapUsed;
    for (let i = 0; i < 1000; i++) await batch();
    gc();
    const grownBytes = process.memoryUsage().heapUsed - before;
    expect(breaker.stats().successes).toBe(1_001_000);
    expect(grownBytes).toBeLessThan(1024 * 1024);
    breaker.dispose();
  });

  it('rejects bad options with a TypeError naming the option', () => {
    const fn = async () => 1;
    const cases: [Record<string, unknown>, RegExp][] = [
      [{ failureThreshold: 0 }, /failureThreshold/],
      [{ failureThreshold: 1.5 }, /failureThreshold/],
      [{ failureThreshold: Number.NaN }, /failureThreshold/],
      [{ resetAfterMs: -1 }, /resetAfterMs/],
      [{ timeoutMs: -5 }, /timeoutMs/],
      [{ timeoutMs: 0 }, /timeoutMs/],
      [{ errorThresholdPercentage: 150 }, /errorThresholdPercentage/],
      [{ volumeThreshold: 0 }, /volumeThreshold/],
      [{ rollingWindowMs: -10 }, /rollingWindowMs/],
      [{ isFailure: 'yes' }, /isFailure/],
      [{ fallback: 42 }, /fallback/],
      [{ name: '' }, /name/],
      [{ failureThreshold: Number.POSITIVE_INFINITY }, /failureThreshold/],
    ];
    for (const [options, pattern] of cases) {
      expect(() => createCircuit(fn, options)).toThrow(TypeError);
      expect(() => createCircuit(fn, options)).toThrow(pattern);
    }
    expect(() => createCircuit('nope' as unknown as () => Promise<void>)).toThrow(TypeError);
  });
});
