import { type Clock, createTestClock, type WebhookInfo } from '@botkit/core';
import { createSwitchPolicy, createWebhookDetector } from '@botkit/failover';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

const HOUR = 3_600_000;

function maxInAnyHour(times: number[]): number {
  let best = 0;
  for (let i = 0; i < times.length; i++) {
    let j = i;
    while (j < times.length && (times[j] as number) < (times[i] as number) + HOUR) j++;
    best = Math.max(best, j - i);
  }
  return best;
}

describe('switching policy', () => {
  it('dwells minPollingDwellMs, doubles after each return that fails in probation, caps at 1 h', () => {
    const p = createSwitchPolicy({ minPollingDwellMs: 120_000, probationMs: 60_000 });
    p.recordFallback(0);
    expect(p.nextReturnAt()).toBe(120_000);
    p.recordReturn(120_000);
    expect(p.inProbation(150_000)).toBe(true);
    p.recordFallback(150_000); // failed in probation
    expect(p.failedReturns).toBe(1);
    expect(p.currentDwellMs).toBe(240_000);
    for (let i = 0; i < 10; i++) {
      const at = p.nextReturnAt();
      p.recordReturn(at);
      p.recordFallback(at + 1000);
    }
    expect(p.currentDwellMs).toBe(HOUR);
  });

  it('resets the backoff after a probation that passed', () => {
    const p = createSwitchPolicy();
    p.recordFallback(0);
    p.recordReturn(p.nextReturnAt());
    p.recordFallback(p.nextReturnAt() + 1000);
    expect(p.failedReturns).toBe(1);
    const back = p.nextReturnAt();
    p.recordReturn(back);
    expect(p.inProbation(back + 60_000)).toBe(false);
    p.recordFallback(back + 10 * 60_000);
    expect(p.failedReturns).toBe(0);
    expect(p.currentDwellMs).toBe(120_000);
  });

  it('never allows more than maxChangesPerHour changes in any sliding hour, however the webhook fails (property)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: 2 * HOUR }), { minLength: 1, maxLength: 60 }),
        fc.integer({ min: 0, max: 300_000 }),
        fc.integer({ min: 2, max: 10 }),
        (lifetimes, minPollingDwellMs, budget) => {
          const p = createSwitchPolicy({ minPollingDwellMs, maxChangesPerHour: budget });
          const changes: number[] = [0];
          p.recordFallback(0);
          let now = 0;
          for (const life of lifetimes) {
            now = Math.max(now, p.nextReturnAt());
            p.recordReturn(now);
            changes.push(now);
            now += life;
            p.recordFallback(now);
            changes.push(now);
          }
          expect(maxInAnyHour(changes)).toBeLessThanOrEqual(budget);
        },
      ),
    );
  });

  it('validates options eagerly, naming the option', () => {
    expect(() => createSwitchPolicy({ probationMs: -1 })).toThrow(/probationMs/);
    expect(() => createSwitchPolicy({ minPollingDwellMs: 10, maxPollingDwellMs: 5 })).toThrow(/maxPollingDwellMs/);
    expect(() => createSwitchPolicy({ maxChangesPerHour: 1 })).toThrow(/maxChangesPerHour/);
  });
});

/**
 * A scenario on the test clock: Telegram's view of a webhook whose health toggles every 5 s while
 * updates arrive every second; the detector (checks every 10 s, 2 failures to switch) and the policy
 * decide as the failover does.
 */
async function flappingHour(clock: Clock & { advance(ms: number): Promise<void> }, hours: number) {
  const start = clock.now();
  const healthyAt = (t: number) => Math.floor((t - start) / 5000) % 2 === 0;
  const detector = createWebhookDetector({ failuresToSwitch: 2 });
  const policy = createSwitchPolicy();
  let mode: 'webhook' | 'polling' = 'webhook';
  let lastSwitchAt = start;
  let lastRequestAt: number | undefined;
  let pending = 0;
  let lastErrorAt: number | undefined;
  const changes: number[] = [];
  const switchTo = (to: 'webhook' | 'polling') => {
    mode = to;
    lastSwitchAt = clock.now();
    detector.reset();
    changes.push(clock.now());
    if (to === 'polling') policy.recordFallback(clock.now());
    else policy.recordReturn(clock.now());
  };
  // Telegram: one new update per second, delivered (or failed) at once when on the webhook.
  const deliver = () => {
    if (mode === 'webhook') {
      pending += 1;
      if (healthyAt(clock.now())) {
        pending = 0;
        lastRequestAt = clock.now();
      } else {
        lastErrorAt = clock.now();
      }
    }
    clock.setTimeout(deliver, 1000);
  };
  const check = () => {
    const now = clock.now();
    if (mode === 'webhook') {
      const info: WebhookInfo = {
        url: 'https://bot.example.com/tg',
        has_custom_certificate: false,
        pending_update_count: pending,
        ...(lastErrorAt !== undefined
          ? { last_error_date: Math.floor(lastErrorAt / 1000), last_error_message: 'Connection refused' }
          : {}),
      };
      const v = detector.observe({ info, lastSwitchAt, lastWebhookRequestAt: lastRequestAt });
      if (v.status === 'unhealthy' && (v.shouldSwitch || policy.inProbation(now))) switchTo('polling');
    } else {
      pending = 0; // polling drains the queue
      if (now >= policy.nextReturnAt()) switchTo('webhook');
    }
    clock.setTimeout(check, policy.inProbation(now) ? 5000 : 10_000);
  };
  clock.setTimeout(deliver, 1000);
  clock.setTimeout(check, 10_000);
  for (let i = 0; i < hours * 60; i++) await clock.advance(60_000);
  return changes;
}

describe('flapping endpoint (test clock)', () => {
  it('an endpoint toggling health every 5 s causes at most 6 mode changes per hour', async () => {
    const clock = createTestClock();
    const changes = await flappingHour(clock, 3);
    expect(changes.length).toBeGreaterThan(2); // it did flap
    expect(maxInAnyHour(changes)).toBeLessThanOrEqual(6);
  });
});
