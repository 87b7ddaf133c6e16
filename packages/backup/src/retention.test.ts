import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isoWeek, planRetention, type RetentionItem, type RetentionPolicy } from './retention.js';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const T0 = Date.UTC(2025, 0, 1);

/**
 * Reference model of restic's `forget --keep-*`, written declaratively (not as restic's loop):
 * keep-last keeps the N newest; each period rule keeps the newest backup of each of the N most
 * recent periods that contain a backup, plus the oldest backup when fewer than N such periods
 * exist; rules are OR-ed; an empty policy keeps everything. We add: the newest and protected
 * backups are always kept.
 */
function reference(items: RetentionItem[], policy: RetentionPolicy, protect: string[]): Set<string> {
  const sorted = [...items].sort((a, b) => b.createdAtMs - a.createdAtMs || (a.id < b.id ? 1 : -1));
  const rules: Array<[number | undefined, (ms: number) => string]> = [
    [policy.keepHourly, (ms) => new Date(ms).toISOString().slice(0, 13)],
    [policy.keepDaily, (ms) => new Date(ms).toISOString().slice(0, 10)],
    [
      policy.keepWeekly,
      (ms) => {
        const { year, week } = isoWeek(ms);
        return `${year}-W${week}`;
      },
    ],
    [policy.keepMonthly, (ms) => new Date(ms).toISOString().slice(0, 7)],
    [policy.keepYearly, (ms) => new Date(ms).toISOString().slice(0, 4)],
  ];
  const empty = !policy.keepLast && rules.every(([n]) => !n);
  if (empty) return new Set(items.map((i) => i.id));
  const keep = new Set<string>(protect.filter((id) => items.some((i) => i.id === id)));
  if (sorted[0]) keep.add(sorted[0].id);
  for (const item of sorted.slice(0, policy.keepLast ?? 0)) keep.add(item.id);
  for (const [n, key] of rules) {
    if (!n) continue;
    const newestOfPeriod = new Map<string, RetentionItem>();
    for (const item of sorted)
      if (!newestOfPeriod.has(key(item.createdAtMs))) newestOfPeriod.set(key(item.createdAtMs), item);
    const periods = [...newestOfPeriod.values()];
    for (const item of periods.slice(0, n)) keep.add(item.id);
    const oldest = sorted[sorted.length - 1];
    if (n > periods.length && oldest) keep.add(oldest.id);
  }
  return keep;
}

const gap = fc.oneof(
  fc.integer({ min: 0, max: HOUR }),
  fc.integer({ min: HOUR, max: 2 * DAY }),
  fc.integer({ min: DAY, max: 45 * DAY }),
);
const itemsArb = fc.array(gap, { maxLength: 60 }).map((gaps) => {
  let t = T0;
  return gaps.map((g, i) => {
    t += g;
    return { id: `b${String(i).padStart(3, '0')}`, createdAtMs: t };
  });
});
const count = fc.option(fc.integer({ min: 0, max: 8 }), { nil: undefined });
const policyArb = fc.record({
  keepLast: count,
  keepHourly: count,
  keepDaily: count,
  keepWeekly: count,
  keepMonthly: count,
  keepYearly: count,
});

describe('planRetention (restic forget semantics)', () => {
  it('matches the reference model of restic rules for any backups and policy', () => {
    fc.assert(
      fc.property(itemsArb, policyArb, fc.array(fc.nat(59), { maxLength: 3 }), (items, policy, protectIdx) => {
        const shuffled = [...items].reverse();
        const protect = protectIdx.map((i) => `b${String(i).padStart(3, '0')}`);
        const plan = planRetention(shuffled, policy, protect);
        const expected = reference(items, policy, protect);
        expect(new Set(plan.keep.map((i) => i.id))).toEqual(expected);
        expect(plan.keep.length + plan.remove.length).toBe(items.length);
        if (items.length > 0) {
          const newest = items.reduce((a, b) => (b.createdAtMs >= a.createdAtMs ? b : a));
          expect(plan.remove.map((i) => i.id)).not.toContain(newest.id);
        }
      }),
      { numRuns: 2000 },
    );
  });

  it('a period counts only if it has a backup: keepDaily 3 over days 1, 2, 5, 9 keeps 9, 5 and 2', () => {
    const items = [1, 2, 5, 9].map((d) => ({ id: `day${d}`, createdAtMs: T0 + d * DAY }));
    const plan = planRetention(items, { keepDaily: 3 });
    expect(plan.keep.map((i) => i.id)).toEqual(['day9', 'day5', 'day2']);
    expect(plan.remove.map((i) => i.id)).toEqual(['day1']);
  });

  it('keeps the newest backup of each day, and the oldest one while counts are left', () => {
    const items = [
      { id: 'd1-morning', createdAtMs: T0 + DAY + 8 * HOUR },
      { id: 'd1-evening', createdAtMs: T0 + DAY + 20 * HOUR },
      { id: 'd2-morning', createdAtMs: T0 + 2 * DAY + 8 * HOUR },
      { id: 'd2-evening', createdAtMs: T0 + 2 * DAY + 20 * HOUR },
    ];
    const plan = planRetention(items, { keepDaily: 5 });
    expect(plan.keep.map((i) => i.id)).toEqual(['d2-evening', 'd1-evening', 'd1-morning']);
  });

  it('policies are OR-ed and an empty policy keeps everything', () => {
    const items = Array.from({ length: 10 }, (_, i) => ({ id: `h${i}`, createdAtMs: T0 + i * HOUR }));
    expect(planRetention(items, {}).remove).toEqual([]);
    const plan = planRetention(items, { keepLast: 2, keepDaily: 1 });
    expect(plan.keep.map((i) => i.id)).toEqual(['h9', 'h8']);
    expect(plan.reasons.get('h9')).toEqual(expect.arrayContaining(['newest', 'last', 'daily']));
  });

  it('uses ISO weeks (2026-01-01 is in week 1 of 2026, 2024-12-30 in week 1 of 2025)', () => {
    expect(isoWeek(Date.UTC(2026, 0, 1))).toEqual({ year: 2026, week: 1 });
    expect(isoWeek(Date.UTC(2024, 11, 30))).toEqual({ year: 2025, week: 1 });
    expect(isoWeek(Date.UTC(2021, 0, 3))).toEqual({ year: 2020, week: 53 });
  });
});
