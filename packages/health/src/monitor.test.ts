import { createTestClock, type Probe, type ProbeResult, sleep } from '@botkit/core';
import { describe, expect, it } from 'vitest';
import { createHealthMonitor } from './monitor.js';

const TOKEN = '123456789:AAHk-secret_secret_secret_secret_XYZ';

function settled<T>(promise: Promise<T>) {
  const state = { done: false, value: undefined as T | undefined, error: undefined as unknown };
  promise.then(
    (value) => Object.assign(state, { done: true, value }),
    (error: unknown) => Object.assign(state, { done: true, error }),
  );
  return state;
}

describe('createHealthMonitor', () => {
  it('fails a probe that never resolves exactly at its timeout and aborts its signal', async () => {
    const clock = createTestClock();
    let seen: AbortSignal | undefined;
    const hang: Probe = {
      name: 'hang',
      check: ({ signal }) => {
        seen = signal;
        return new Promise<ProbeResult>(() => {});
      },
    };
    const monitor = createHealthMonitor({ clock, failureThreshold: 1 });
    monitor.addProbe(hang, { timeoutMs: 500 });
    const run = settled(monitor.runAll());
    await clock.advance(499);
    expect(run.done).toBe(false);
    expect(seen?.aborted).toBe(false);
    await clock.advance(1);
    expect(run.done).toBe(true);
    expect(seen?.aborted).toBe(true);
    const probe = run.value?.probes.hang;
    expect(probe?.status).toBe('unhealthy');
    expect(probe?.message).toMatch(/timed out after 500 ms/);
    expect(probe?.latencyMs).toBe(500);
  });

  it('fails a hanging probe within its timeout + 50 ms on the real clock (bound widened to +250 ms for loaded CI)', async () => {
    const monitor = createHealthMonitor({ failureThreshold: 1, timeoutMs: 200 });
    let aborted = false;
    monitor.addProbe({
      name: 'hang',
      check: ({ signal }) =>
        new Promise<ProbeResult>(() => {
          signal.addEventListener('abort', () => {
            aborted = true;
          });
        }),
    });
    const started = performance.now();
    const status = await monitor.runAll();
    const elapsed = performance.now() - started;
    expect(status.probes.hang?.status).toBe('unhealthy');
    expect(aborted).toBe(true);
    expect(elapsed).toBeGreaterThanOrEqual(195);
    expect(elapsed).toBeLessThan(450);
  });

  it('reports a throwing probe as unhealthy with its message, secrets redacted', async () => {
    const monitor = createHealthMonitor({ failureThreshold: 1 });
    monitor.addProbe({
      name: 'db',
      check: async () => {
        throw new Error(`connect ECONNREFUSED postgres://bot:hunter2@db:5432/app with bot${TOKEN}`);
      },
    });
    const status = await monitor.runAll();
    const db = status.probes.db;
    expect(db?.status).toBe('unhealthy');
    expect(db?.message).toContain('ECONNREFUSED');
    expect(JSON.stringify(status)).not.toContain('hunter2');
    expect(JSON.stringify(status)).not.toContain(TOKEN);
  });

  it('redacts secrets in messages and string details a probe returns', async () => {
    const monitor = createHealthMonitor();
    monitor.addProbe({
      name: 'x',
      check: async () => ({
        status: 'healthy',
        message: `url redis://:s3cretpw@h:1`,
        details: { url: 'postgres://u:pw1234@h/db' },
      }),
    });
    const json = JSON.stringify(await monitor.runAll());
    expect(json).not.toContain('s3cretpw');
    expect(json).not.toContain('pw1234');
  });

  it('runAll takes as long as the slowest probe, not the sum', async () => {
    const clock = createTestClock();
    const delayed = (name: string, ms: number): Probe => ({
      name,
      check: async ({ signal }) => {
        await sleep(ms, { clock, signal });
        return { status: 'healthy' };
      },
    });
    const monitor = createHealthMonitor({
      clock,
      probes: [delayed('a', 100), delayed('b', 300), delayed('c', 200)],
    });
    const run = settled(monitor.runAll());
    await clock.advance(299);
    expect(run.done).toBe(false);
    await clock.advance(1);
    expect(run.done).toBe(true);
    expect(Object.values(run.value?.probes ?? {}).map((p) => p.latencyMs)).toEqual([100, 300, 200]);
  });

  it('status() holds overall status, readiness, message, latency, last check, streaks and since', async () => {
    const clock = createTestClock(Date.UTC(2026, 0, 1));
    let redis: ProbeResult = { status: 'healthy' };
    const monitor = createHealthMonitor({ clock, failureThreshold: 2, recoveryThreshold: 1 });
    monitor.addProbe({ name: 'redis', check: async () => redis });
    monitor.addProbe(
      { name: 'cache', check: async () => ({ status: 'unhealthy', message: 'down' }) },
      {
        critical: false,
        failureThreshold: 1,
      },
    );
    const before = monitor.status();
    expect(before.ready).toBe(false);
    expect(before.checkedAt).toBeNull();
    expect(before.probes.redis).toMatchObject({ status: 'unknown', lastCheckedAt: null, latencyMs: null });

    await monitor.runAll();
    let s = monitor.status();
    expect(s.status).toBe('degraded'); // a non-critical probe is down
    expect(s.ready).toBe(true);
    expect(s.probes.cache).toMatchObject({
      status: 'unhealthy',
      critical: false,
      message: 'down',
      consecutiveFailures: 1,
    });

    await clock.advance(1000);
    redis = { status: 'unhealthy', message: 'ECONNREFUSED' };
    await monitor.runAll();
    s = monitor.status();
    expect(s.probes.redis).toMatchObject({ status: 'healthy', lastResult: 'unhealthy', consecutiveFailures: 1 });
    await clock.advance(1000);
    await monitor.runAll();
    s = monitor.status();
    expect(s.status).toBe('unhealthy');
    expect(s.ready).toBe(false);
    expect(s.probes.redis).toMatchObject({
      status: 'unhealthy',
      message: 'ECONNREFUSED',
      consecutiveFailures: 2,
      since: '2026-01-01T00:00:02.000Z',
      lastCheckedAt: '2026-01-01T00:00:02.000Z',
    });
  });

  it('heartbeat: runs on the interval, never overlaps, and stop() aborts the run in flight', async () => {
    const clock = createTestClock(0);
    let active = 0;
    let maxActive = 0;
    let runs = 0;
    let lastSignal: AbortSignal | undefined;
    const slow: Probe = {
      name: 'slow',
      check: async ({ signal }) => {
        lastSignal = signal;
        runs++;
        active++;
        maxActive = Math.max(maxActive, active);
        try {
          await sleep(1500, { clock, signal });
          return { status: 'healthy' };
        } finally {
          active--;
        }
      },
    };
    const monitor = createHealthMonitor({ clock, intervalMs: 1000, jitter: 0, timeoutMs: 5000, probes: [slow] });
    monitor.start();
    monitor.start(); // idempotent
    await clock.advance(0);
    expect(runs).toBe(1);
    await clock.advance(1500); // first run ends at 1500, next starts at 2500
    expect(runs).toBe(1);
    await clock.advance(1000);
    expect(runs).toBe(2);
    // A manual runAll during a heartbeat run joins it rather than starting another check.
    const joined = monitor.runAll();
    expect(runs).toBe(2);
    await clock.advance(1500);
    await joined;
    expect(maxActive).toBe(1);
    await clock.advance(1000);
    expect(runs).toBe(3);
    await monitor.stop();
    expect(lastSignal?.aborted).toBe(true);
    expect(clock.pendingTimers).toBe(0);
    await clock.advance(10_000);
    expect(runs).toBe(3);
  });

  it('runAll rejects with the signal reason and records nothing when aborted', async () => {
    const clock = createTestClock();
    const monitor = createHealthMonitor({ clock });
    monitor.addProbe({
      name: 'p',
      check: async ({ signal }) => {
        await sleep(1000, { clock, signal });
        return { status: 'healthy' };
      },
    });
    const controller = new AbortController();
    const run = monitor.runAll({ signal: controller.signal });
    controller.abort(new Error('gave up'));
    await expect(run).rejects.toThrow('gave up');
    expect(monitor.status().probes.p?.lastCheckedAt).toBeNull();
    expect(clock.pendingTimers).toBe(0);
  });

  it('logs and survives a failing alert sink; stop() waits for deliveries', async () => {
    const errors: unknown[] = [];
    const monitor = createHealthMonitor({
      failureThreshold: 1,
      logger: { info: () => {}, warn: () => {}, error: (o) => errors.push(o) },
      probes: [{ name: 'p', check: async () => ({ status: 'unhealthy' }) }],
    });
    let delivered = 0;
    monitor.onAlert(async () => {
      throw new Error(`boom ${TOKEN}`);
    });
    const off = monitor.onAlert(async () => {
      await new Promise((r) => setTimeout(r, 20));
      delivered++;
    });
    await monitor.runAll();
    await monitor.stop();
    expect(delivered).toBe(1);
    expect(JSON.stringify(errors)).toContain('boom');
    expect(JSON.stringify(errors)).not.toContain(TOKEN);
    off();
  });

  it('validates options eagerly, naming the option', () => {
    expect(() => createHealthMonitor({ failureThreshold: 0 })).toThrow(/failureThreshold >= 1, got 0/);
    expect(() => createHealthMonitor({ recoveryThreshold: 1.5 })).toThrow(/recoveryThreshold/);
    expect(() => createHealthMonitor({ intervalMs: -1 })).toThrow(/intervalMs > 0/);
    expect(() => createHealthMonitor({ timeoutMs: Number.NaN })).toThrow(/timeoutMs/);
    expect(() => createHealthMonitor({ jitter: 1 })).toThrow(/jitter/);
    const monitor = createHealthMonitor();
    const p: Probe = { name: 'a', check: async () => ({ status: 'healthy' }) };
    monitor.addProbe(p);
    expect(() => monitor.addProbe(p)).toThrow(/already registered/);
    expect(() => monitor.addProbe({ name: 'b', check: p.check }, { timeoutMs: 0 })).toThrow(/timeoutMs > 0/);
  });
});
