/**
 * How many backups to keep, with restic's `forget --keep-*` semantics: the policies are OR-ed
 * (a backup kept by any of them stays); `keepDaily: 7` keeps the newest backup of each of the
 * last 7 days *that have a backup*; when there are fewer such periods than asked, the oldest
 * backup is kept as well. Periods are calendar periods in UTC (ISO weeks).
 * An empty policy keeps everything. The newest backup is never removed.
 *
 * @example
 * ```ts
 * import type { RetentionPolicy } from '@botkit/backup';
 *
 * const retention: RetentionPolicy = { keepLast: 24, keepDaily: 7, keepWeekly: 4, keepMonthly: 12 };
 * ```
 */
export interface RetentionPolicy {
  /** Keep the N most recent backups. @defaultValue `0` */
  keepLast?: number | undefined;
  /** Keep the newest backup of each of the last N hours that have one. @defaultValue `0` */
  keepHourly?: number | undefined;
  /** Keep the newest backup of each of the last N days that have one. @defaultValue `0` */
  keepDaily?: number | undefined;
  /** Keep the newest backup of each of the last N ISO weeks that have one. @defaultValue `0` */
  keepWeekly?: number | undefined;
  /** Keep the newest backup of each of the last N months that have one. @defaultValue `0` */
  keepMonthly?: number | undefined;
  /** Keep the newest backup of each of the last N years that have one. @defaultValue `0` */
  keepYearly?: number | undefined;
}

/**
 * Anything with an id and a creation time, as {@link planRetention} needs.
 *
 * @example
 * ```ts
 * const item: RetentionItem = { id: 'sqlite-20260101T000000000Z-ab12', createdAtMs: Date.UTC(2026, 0, 1) };
 * ```
 */
export interface RetentionItem {
  /** Unique id. */
  id: string;
  /** Creation time, epoch milliseconds. */
  createdAtMs: number;
}

/**
 * What {@link planRetention} decided.
 *
 * @example
 * ```ts
 * const plan: RetentionPlan<RetentionItem> = planRetention(items, { keepLast: 3 });
 * for (const item of plan.remove) console.log('would remove', item.id);
 * ```
 */
export interface RetentionPlan<T extends RetentionItem> {
  /** Items to keep, newest first. */
  keep: T[];
  /** Items to remove, newest first. */
  remove: T[];
  /** Why each kept item is kept (`last`, `daily`, `newest`, `protected`...), by id. */
  reasons: Map<string, string[]>;
}

const POLICY_KEYS = ['keepLast', 'keepHourly', 'keepDaily', 'keepWeekly', 'keepMonthly', 'keepYearly'] as const;

/** @internal Validates a retention policy; throws a TypeError naming the bad option. */
export function validateRetention(policy: RetentionPolicy, prefix = 'retention.'): void {
  if (typeof policy !== 'object' || policy === null)
    throw new TypeError(`Expected ${prefix.slice(0, -1)} to be an object`);
  for (const key of POLICY_KEYS) {
    const value = policy[key];
    if (value !== undefined && (!Number.isInteger(value) || value < 0)) {
      throw new TypeError(`Expected ${prefix}${key} to be an integer >= 0, got ${String(value)}`);
    }
  }
}

/** @internal ISO 8601 week-numbering year and week of a UTC time. */
export function isoWeek(ms: number): { year: number; week: number } {
  const date = new Date(ms);
  const day = (date.getUTCDay() + 6) % 7; // Monday = 0
  const thursday = Date.UTC(date.getUTCFullYear(), date.getUTCMonth(), date.getUTCDate() - day + 3);
  const year = new Date(thursday).getUTCFullYear();
  const week = 1 + Math.floor((thursday - Date.UTC(year, 0, 1)) / (7 * 86_400_000));
  return { year, week };
}

type Bucker = (ms: number, nr: number) => number;

const hourly: Bucker = (ms) => Math.floor(ms / 3_600_000);
const daily: Bucker = (ms) => Math.floor(ms / 86_400_000);
const weekly: Bucker = (ms) => {
  const { year, week } = isoWeek(ms);
  return year * 100 + week;
};
const monthly: Bucker = (ms) => {
  const d = new Date(ms);
  return d.getUTCFullYear() * 100 + d.getUTCMonth();
};
const yearly: Bucker = (ms) => new Date(ms).getUTCFullYear();

/**
 * Decides which backups a {@link RetentionPolicy} keeps, exactly like restic's `forget`
 * (newest first; for each rule, the newest backup of each new period counts until the rule's
 * count is used up; the oldest backup is kept while a rule still has counts left). The newest
 * backup and the `protect`ed ids are always kept.
 *
 * @param items - backups (any order)
 * @param policy - the retention policy
 * @param protect - ids that must be kept (e.g. being verified or restored)
 * @returns what to keep and what to remove, newest first
 *
 * @example
 * ```ts
 * import { planRetention } from '@botkit/backup';
 *
 * const day = 86_400_000;
 * const items = [0, 1, 2, 3].map((i) => ({ id: `b${i}`, createdAtMs: i * day }));
 * planRetention(items, { keepDaily: 2 }).remove.map((b) => b.id); // ['b1']: b0 is kept as the oldest
 * ```
 */
export function planRetention<T extends RetentionItem>(
  items: readonly T[],
  policy: RetentionPolicy,
  protect: Iterable<string> = [],
): RetentionPlan<T> {
  validateRetention(policy, '');
  const list = [...items].sort((a, b) => b.createdAtMs - a.createdAtMs || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0));
  const protectedIds = new Set(protect);
  const reasons = new Map<string, string[]>();
  const keep: T[] = [];
  const remove: T[] = [];
  const empty = POLICY_KEYS.every((key) => !policy[key]);
  const buckets = [
    { count: policy.keepLast ?? 0, bucker: ((_ms, nr) => nr) as Bucker, last: Number.NaN, reason: 'last' },
    { count: policy.keepHourly ?? 0, bucker: hourly, last: Number.NaN, reason: 'hourly' },
    { count: policy.keepDaily ?? 0, bucker: daily, last: Number.NaN, reason: 'daily' },
    { count: policy.keepWeekly ?? 0, bucker: weekly, last: Number.NaN, reason: 'weekly' },
    { count: policy.keepMonthly ?? 0, bucker: monthly, last: Number.NaN, reason: 'monthly' },
    { count: policy.keepYearly ?? 0, bucker: yearly, last: Number.NaN, reason: 'yearly' },
  ];
  list.forEach((item, nr) => {
    const why: string[] = [];
    if (empty) why.push('policy is empty');
    if (nr === 0) why.push('newest');
    if (protectedIds.has(item.id)) why.push('protected');
    for (const bucket of buckets) {
      if (bucket.count <= 0) continue;
      const value = bucket.bucker(item.createdAtMs, nr);
      if (value !== bucket.last || nr === list.length - 1) {
        bucket.last = value;
        bucket.count--;
        why.push(bucket.reason);
      }
    }
    if (why.length > 0) {
      keep.push(item);
      reasons.set(item.id, why);
    } else {
      remove.push(item);
    }
  });
  return { keep, remove, reasons };
}
