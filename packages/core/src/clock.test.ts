import { describe, expect, it } from 'vitest';
import { withTimeout } from './abort.js';
import { createTestClock, sleep, systemClock } from './clock.js';
import { isBotkitError } from './errors.js';

describe('createTestClock', () => {
  it('fires timers in due order only when advanced, and moves now()', async () => {
    const clock = createTestClock(1000);
    const fired: string[] = [];
    clock.setTimeout(() => fired.push('b'), 200);
    clock.setTimeout(() => fired.push('a'), 100);
    clock.setTimeout(() => fired.push('a2'), 100);
    await clock.advance(99);
    expect(fired).toEqual([]);
    expect(clock.now()).toBe(1099);
    await clock.advance(1);
    expect(fired).toEqual(['a', 'a2']);
    await clock.advance(1000);
    expect(fired).toEqual(['a', 'a2', 'b']);
    expect(clock.now()).toBe(2100);
  });

  it('runs timers scheduled by timers within the same advance, at their own time', async () => {
    const clock = createTestClock(0);
    const at: number[] = [];
    clock.setTimeout(() => {
      at.push(clock.now());
      clock.setTimeout(() => at.push(clock.now()), 50);
    }, 50);
    await clock.advance(100);
    expect(at).toEqual([50, 100]);
  });

  it('lets async continuations run between timers', async () => {
    const clock = createTestClock(0);
    const log: number[] = [];
    const loop = async () => {
      for (let i = 0; i < 3; i++) {
        await sleep(10, { clock });
        log.push(clock.now());
      }
    };
    const done = loop();
    await clock.advance(30);
    await done;
    expect(log).toEqual([10, 20, 30]);
  });

  it('clearTimeout cancels; next() jumps to the next timer', async () => {
    const clock = createTestClock(0);
    let fired = 0;
    const t = clock.setTimeout(() => fired++, 10);
    clock.clearTimeout(t);
    clock.setTimeout(() => fired++, 500);
    expect(clock.pendingTimers).toBe(1);
    expect(await clock.next()).toBe(true);
    expect(fired).toBe(1);
    expect(clock.now()).toBe(500);
    expect(await clock.next()).toBe(false);
  });

  it('rejects negative advances', async () => {
    await expect(createTestClock().advance(-1)).rejects.toThrow(RangeError);
  });
});

describe('sleep', () => {
  it('rejects with the abort reason and leaves no timer behind', async () => {
    const clock = createTestClock();
    const controller = new AbortController();
    const pending = sleep(1000, { clock, signal: controller.signal });
    expect(clock.pendingTimers).toBe(1);
    controller.abort(new Error('stop'));
    await expect(pending).rejects.toThrow('stop');
    expect(clock.pendingTimers).toBe(0);
  });

  it('rejects at once for an already aborted signal', async () => {
    await expect(sleep(10, { signal: AbortSignal.abort(new Error('early')) })).rejects.toThrow('early');
  });

  it('works on the system clock', async () => {
    const start = systemClock.now();
    await sleep(5);
    expect(systemClock.now()).toBeGreaterThanOrEqual(start);
  });
});

describe('withTimeout', () => {
  it('rejects with BOTKIT_TIMEOUT and aborts the derived signal even if fn ignores it', async () => {
    const clock = createTestClock();
    let inner: AbortSignal | undefined;
    const pending = withTimeout(
      (signal) => {
        inner = signal;
        return new Promise(() => {});
      },
      { timeoutMs: 100, clock, what: 'probe redis' },
    );
    const settled = pending.catch((e: unknown) => e);
    await clock.advance(100);
    const error = await settled;
    expect(isBotkitError(error, 'BOTKIT_TIMEOUT')).toBe(true);
    expect(String(error)).toMatch(/probe redis timed out after 100 ms/);
    expect(inner?.aborted).toBe(true);
  });

  it('resolves with the value and clears its timer', async () => {
    const clock = createTestClock();
    await expect(withTimeout(async () => 42, { timeoutMs: 100, clock })).resolves.toBe(42);
    expect(clock.pendingTimers).toBe(0);
  });

  it('propagates the outer abort reason', async () => {
    const controller = new AbortController();
    const pending = withTimeout(() => new Promise(() => {}), { signal: controller.signal });
    controller.abort(new Error('outer'));
    await expect(pending).rejects.toThrow('outer');
  });

  it('turns a synchronous throw into a rejection', async () => {
    await expect(
      withTimeout(() => {
        throw new Error('sync');
      }),
    ).rejects.toThrow('sync');
  });
});
