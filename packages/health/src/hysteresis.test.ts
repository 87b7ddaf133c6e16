import type { ProbeStatus } from '@botkit/core';
import { createTestClock } from '@botkit/core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createHealthMonitor } from './monitor.js';
import type { HealthAlert, StateChange } from './types.js';

type Result = 'healthy' | 'degraded' | 'unhealthy';

/** The reference model, written independently of hysteresis.ts, in the plainest possible way. */
function referenceModel(results: Result[], failAfter: number, recoverAfter: number) {
  let status: ProbeStatus = 'unknown';
  let fails = 0;
  let passes = 0;
  const changes: Array<[ProbeStatus, ProbeStatus]> = [];
  const alerts: Array<'failed' | 'recovered'> = [];
  for (const r of results) {
    const before: ProbeStatus = status;
    if (r === 'unhealthy') {
      fails += 1;
      passes = 0;
      if (status !== 'unhealthy' && fails >= failAfter) {
        status = 'unhealthy';
        alerts.push('failed');
      }
    } else {
      passes += 1;
      fails = 0;
      if (status === 'unhealthy') {
        if (passes >= recoverAfter) {
          status = r;
          alerts.push('recovered');
        }
      } else {
        status = r;
      }
    }
    if (status !== before) changes.push([before, status]);
  }
  return { status, changes, alerts };
}

/** Feeds a scripted sequence of results through a real monitor (test clock) and records what it emits. */
async function runMonitor(results: Result[], failureThreshold: number, recoveryThreshold: number) {
  const clock = createTestClock();
  let i = 0;
  const monitor = createHealthMonitor({
    clock,
    failureThreshold,
    recoveryThreshold,
    probes: [{ name: 'dep', check: async () => ({ status: results[i++] as Result }) }],
  });
  const changes: StateChange[] = [];
  const alerts: HealthAlert[] = [];
  const sunk: HealthAlert[] = [];
  monitor.on('stateChange', (c) => changes.push(c));
  monitor.on('alert', (a) => alerts.push(a));
  monitor.onAlert((a) => {
    sunk.push(a);
  });
  for (let n = 0; n < results.length; n++) await monitor.runAll();
  await monitor.stop();
  return { monitor, changes, alerts, sunk };
}

const resultArb = fc.constantFrom<Result>('healthy', 'degraded', 'unhealthy');

describe('hysteresis (property, against a reference model)', () => {
  it('state changes and alerts match the model exactly, one alert per change, for thresholds 1..5', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(resultArb, { maxLength: 40 }),
        fc.integer({ min: 1, max: 5 }),
        fc.integer({ min: 1, max: 5 }),
        async (results, failAfter, recoverAfter) => {
          const model = referenceModel(results, failAfter, recoverAfter);
          const got = await runMonitor(results, failAfter, recoverAfter);
          expect(got.changes.map((c) => [c.from, c.to])).toEqual(model.changes);
          expect(got.alerts.map((a) => a.kind)).toEqual(model.alerts);
          expect(got.sunk.map((a) => a.kind)).toEqual(model.alerts);
          expect(got.monitor.status().probes.dep?.status).toBe(model.status);
          // Alerts alternate: never two `failed` (or two `recovered`) in a row.
          for (let k = 1; k < model.alerts.length; k++) expect(model.alerts[k]).not.toBe(model.alerts[k - 1]);
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('alternating pass/fail results never alert when both thresholds are >= 2', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 2, max: 5 }),
        fc.integer({ min: 2, max: 5 }),
        fc.integer({ min: 1, max: 60 }),
        fc.boolean(),
        fc.constantFrom<Result>('healthy', 'degraded'),
        async (failAfter, recoverAfter, length, startWithFail, pass) => {
          const results = Array.from({ length }, (_, k) => ((k % 2 === 0) === startWithFail ? 'unhealthy' : pass));
          const got = await runMonitor(results, failAfter, recoverAfter);
          expect(got.alerts).toEqual([]);
        },
      ),
      { numRuns: 500 },
    );
  });

  it('a failure marked immediate trips at once, then recovery still needs the threshold', async () => {
    const clock = createTestClock();
    const script = [
      { status: 'healthy' as const },
      { status: 'unhealthy' as const, immediate: true, message: 'token revoked' },
      { status: 'healthy' as const },
      { status: 'healthy' as const },
    ];
    let i = 0;
    const monitor = createHealthMonitor({
      clock,
      failureThreshold: 5,
      recoveryThreshold: 2,
      probes: [{ name: 'telegram', check: async () => script[i++]! }],
    });
    const alerts: string[] = [];
    monitor.on('alert', (a) => alerts.push(`${a.kind}:${a.message ?? ''}`));
    await monitor.runAll();
    await monitor.runAll();
    expect(monitor.status().probes.telegram?.status).toBe('unhealthy');
    await monitor.runAll();
    expect(monitor.status().probes.telegram?.status).toBe('unhealthy');
    await monitor.runAll();
    expect(monitor.status().probes.telegram?.status).toBe('healthy');
    expect(alerts).toEqual(['failed:token revoked', 'recovered:']);
  });
});
