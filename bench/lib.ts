/**
 * Shared benchmark helpers (see shared/BENCH.md): interleaved A/B rounds, medians, and the
 * `BENCH {json}` line format, appended to bench/results/<subject>.jsonl.
 */
import { appendFileSync, mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** One result line. `ratio` = ours / baseline; any extra field is printed as it is. */
export interface BenchResult {
  subject: string;
  case: string;
  metric: string;
  ours: number;
  baseline?: number;
  baseline_name?: string;
  ratio?: number;
  better: 'higher' | 'lower';
  rounds: number;
  [extra: string]: unknown;
}

const resultsDir = fileURLToPath(new URL('./results/', import.meta.url));

/** Prints `BENCH {...}` on stdout and appends the same JSON to bench/results/<subject>.jsonl. */
export function report(result: BenchResult): BenchResult {
  const line: BenchResult = { ...result };
  if (result.baseline !== undefined && result.ratio === undefined) {
    line.ratio = round(result.ours / result.baseline, 3);
  }
  line.ours = round(line.ours, 3);
  if (line.baseline !== undefined) line.baseline = round(line.baseline, 3);
  const json = JSON.stringify({ ...line, at: new Date().toISOString() });
  console.log(`BENCH ${JSON.stringify(line)}`);
  mkdirSync(resultsDir, { recursive: true });
  appendFileSync(`${resultsDir}${line.subject}.jsonl`, `${json}\n`);
  return line;
}

/** Rounds to `digits` decimals (significant for small numbers). */
export function round(value: number, digits = 3): number {
  if (!Number.isFinite(value)) return value;
  if (Math.abs(value) >= 1) return Number(value.toFixed(digits));
  return Number(value.toPrecision(digits + 1));
}

/** Median of a list of numbers. */
export function median(values: number[]): number {
  return percentile(values, 50);
}

/** The p-th percentile (0-100, nearest-rank) of a list of numbers. */
export function percentile(values: number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank] as number;
}

/**
 * Measures `ours` and `baseline` alternately (A B A B ...) for `rounds` rounds after `warmup`
 * unmeasured rounds of each; every call returns one measurement (ops/s, ms, MB...).
 * Returns the medians and the raw samples.
 */
export async function interleave(options: {
  rounds: number;
  warmup?: number;
  ours: () => Promise<number> | number;
  baseline: () => Promise<number> | number;
}): Promise<{ ours: number; baseline: number; oursSamples: number[]; baselineSamples: number[] }> {
  const { rounds, warmup = 1 } = options;
  for (let i = 0; i < warmup; i++) {
    await options.ours();
    await options.baseline();
  }
  const a: number[] = [];
  const b: number[] = [];
  for (let i = 0; i < rounds; i++) {
    // Alternate which goes first so neither always runs on a warmer or cooler machine.
    if (i % 2 === 0) {
      a.push(await options.ours());
      b.push(await options.baseline());
    } else {
      b.push(await options.baseline());
      a.push(await options.ours());
    }
  }
  return { ours: median(a), baseline: median(b), oursSamples: a, baselineSamples: b };
}

/** Runs `fn` `count` times with at most `concurrency` in flight; returns elapsed ms. */
export async function timeConcurrent(count: number, concurrency: number, fn: (i: number) => Promise<unknown>) {
  let next = 0;
  const start = performance.now();
  const worker = async () => {
    while (next < count) await fn(next++);
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, worker));
  return performance.now() - start;
}
