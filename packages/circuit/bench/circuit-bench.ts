/**
 * Benchmark of @botkit/circuit (run with `pnpm bench circuit`; see shared/BENCH.md). It lives in
 * the package so that ioredis, opossum and cockatiel (dev dependencies of the package) resolve;
 * bench/circuit.bench.ts re-exports it.
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { startRedis } from '@botkit/test-harness';
import { ConsecutiveBreaker, circuitBreaker, handleAll } from 'cockatiel';
import { Redis } from 'ioredis';
import CircuitBreaker from 'opossum';
import { interleave, percentile, report, timeConcurrent } from '../../../bench/lib.js';
import { circuitOf, createCircuit, withCircuit } from '../src/index.js';

const subject = 'circuit';
const noop = () => {};
const nullFn = async (): Promise<number> => 1;

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

async function ready(client: Redis): Promise<void> {
  if (client.status !== 'ready') await new Promise((resolve) => client.once('ready', resolve));
}

/** ns per sequential call of `fire`, over `calls` calls. */
async function nsPerCall(calls: number, fire: () => Promise<unknown>): Promise<number> {
  const start = process.hrtime.bigint();
  for (let i = 0; i < calls; i++) await fire();
  return Number(process.hrtime.bigint() - start) / calls;
}

async function redisThroughput(): Promise<void> {
  const server = await startRedis();
  try {
    const raw = new Redis(server.url);
    const inner = new Redis(server.url);
    const wrapped = withCircuit(inner);
    await Promise.all([ready(raw), ready(inner)]);
    await raw.set('bench:key', 'x'.repeat(64));
    for (const [name, concurrency, count] of [
      ['redis-get-c1', 1, 2000],
      ['redis-get-c64', 64, 10_000],
    ] as const) {
      // Wall-clock ops/s is what BENCH.md asks for; this process' CPU time per operation is
      // recorded beside it because, unlike wall-clock time, other processes on a shared machine
      // barely move it.
      const cpu = new Map<Redis, number[]>([
        [wrapped, []],
        [raw, []],
      ]);
      const opsPerS = (client: Redis) => async () => {
        const before = process.cpuUsage();
        const ms = await timeConcurrent(count, concurrency, () => client.get('bench:key'));
        const used = process.cpuUsage(before);
        cpu.get(client)?.push((used.user + used.system) / count);
        return (count / ms) * 1000;
      };
      // Many short interleaved rounds: the machine is shared, and a median of 30 resists bursts.
      const result = await interleave({ rounds: 30, warmup: 3, ours: opsPerS(wrapped), baseline: opsPerS(raw) });
      const oursCpu = percentile(cpu.get(wrapped) ?? [], 50);
      const baselineCpu = percentile(cpu.get(raw) ?? [], 50);
      report({
        subject,
        case: name,
        metric: 'ops_per_s',
        ours: result.ours,
        baseline: result.baseline,
        baseline_name: 'raw ioredis',
        better: 'higher',
        rounds: 30,
        ours_cpu_us_per_op: Number(oursCpu.toFixed(3)),
        baseline_cpu_us_per_op: Number(baselineCpu.toFixed(3)),
        cpu_ratio: Number((oursCpu / baselineCpu).toFixed(3)),
      });
    }
    raw.disconnect();
    inner.disconnect();
  } finally {
    await server.cleanup();
  }
}

async function closedOverhead(): Promise<void> {
  const calls = 200_000;
  const ours = createCircuit(nullFn);
  const opossum = new CircuitBreaker(nullFn, {
    timeout: false, // no timer per call: the fairest opossum configuration
    rollingPercentilesEnabled: false,
    enableSnapshots: false,
  });
  const cockatiel = circuitBreaker(handleAll, { halfOpenAfter: 30_000, breaker: new ConsecutiveBreaker(3) });
  // The unwrapped function alone, warmed up, for reference (median of 5).
  for (let i = 0; i < 3; i++) await nsPerCall(calls, nullFn);
  const directRuns: number[] = [];
  for (let i = 0; i < 5; i++) directRuns.push(await nsPerCall(calls, nullFn));
  const direct = percentile(directRuns, 50);
  const vsOpossum = await interleave({
    rounds: 10,
    warmup: 2,
    ours: () => nsPerCall(calls, () => ours.fire()),
    baseline: () => nsPerCall(calls, () => opossum.fire()),
  });
  report({
    subject,
    case: 'closed-overhead-vs-opossum',
    metric: 'ns_per_op',
    ours: vsOpossum.ours,
    baseline: vsOpossum.baseline,
    baseline_name: 'opossum 10 (timeout: false, percentiles off)',
    better: 'lower',
    rounds: 10,
    unwrapped_ns_per_op: Math.round(direct),
  });
  const vsCockatiel = await interleave({
    rounds: 10,
    warmup: 2,
    ours: () => nsPerCall(calls, () => ours.fire()),
    baseline: () => nsPerCall(calls, () => cockatiel.execute(nullFn)),
  });
  report({
    subject,
    case: 'closed-overhead-vs-cockatiel',
    metric: 'ns_per_op',
    ours: vsCockatiel.ours,
    baseline: vsCockatiel.baseline,
    baseline_name: 'cockatiel 4 ConsecutiveBreaker',
    better: 'lower',
    rounds: 10,
    unwrapped_ns_per_op: Math.round(direct),
  });
  opossum.shutdown();
}

async function rejectOpen(): Promise<void> {
  // The Redis wrapper while open (what a bot sees), on a client that is not even connected.
  const client = new Redis({ lazyConnect: true, port: 1 });
  const redis = withCircuit(client);
  circuitOf(redis)?.restore({ name: 'redis', state: 'open', consecutiveFailures: 3, openedAt: Date.now() });
  const generic = createCircuit(nullFn);
  generic.restore({ name: 'x', state: 'open', consecutiveFailures: 3, openedAt: Date.now() });
  const sample = async (fire: () => Promise<unknown>, n: number) => {
    const out: number[] = new Array(n);
    for (let i = 0; i < n; i++) {
      const start = performance.now();
      await fire().catch(noop);
      out[i] = (performance.now() - start) * 1000;
    }
    return out;
  };
  await sample(() => redis.get('k'), 20_000); // warm-up
  const rounds = 5;
  const p99s: number[] = [];
  const p50s: number[] = [];
  for (let r = 0; r < rounds; r++) {
    const samples = await sample(() => redis.get('k'), 20_000);
    p99s.push(percentile(samples, 99));
    p50s.push(percentile(samples, 50));
  }
  const genericSamples = await sample(() => generic.fire(), 20_000);
  report({
    subject,
    case: 'reject-open',
    metric: 'p99_us',
    ours: percentile(p99s, 50),
    better: 'lower',
    rounds,
    p50_us: percentile(p50s, 50),
    create_circuit_p99_us: percentile(genericSamples, 99),
    goal_p99_us: 20,
  });
  client.disconnect();
}

async function heap10m(): Promise<void> {
  const calls = 10_000_000;
  const run = async (fire: () => Promise<unknown>) => {
    for (let i = 0; i < 1000; i++) await fire();
    gc();
    const before = process.memoryUsage().heapUsed;
    for (let i = 0; i < calls; i++) await fire();
    gc();
    return process.memoryUsage().heapUsed - before;
  };
  const ours = createCircuit(nullFn, { timeoutMs: 1000 });
  const grown = await run(() => ours.fire());
  const opossum = new CircuitBreaker(nullFn, { timeout: false, rollingPercentilesEnabled: false });
  const grownOpossum = await run(() => opossum.fire());
  opossum.shutdown();
  report({
    subject,
    case: 'heap-10m',
    metric: 'heap_growth_bytes',
    ours: grown,
    baseline: grownOpossum,
    baseline_name: 'opossum 10 (timeout: false, percentiles off)',
    better: 'lower',
    rounds: 1,
    calls,
  });
}

async function settleAfterKill(): Promise<void> {
  const capMs = 30_000;
  const commandTimeoutMs = 1000;
  const rounds = 3;
  const ours: number[] = [];
  let baseline = Number.NaN;
  for (let round = 0; round < rounds; round++) {
    const server = await startRedis();
    const raw = new Redis(server.url); // ioredis defaults
    const wrapped = withCircuit(new Redis(server.url), { commandTimeoutMs });
    raw.on('error', noop);
    wrapped.on('error', noop);
    await Promise.all([ready(raw), ready(wrapped)]);
    // Worst time from issuing a call to its settling, over 100 calls: 50 issued at the kill, 50
    // issued 100 ms later (arriving while the connection is down).
    const measure = async (client: Redis): Promise<number> => {
      const one = () => {
        const issued = performance.now();
        return client
          .set('k', 'v')
          .catch(noop)
          .then(() => performance.now() - issued);
      };
      const first = Array.from({ length: 50 }, one);
      await new Promise((resolve) => setTimeout(resolve, 100));
      const later = Array.from({ length: 50 }, one);
      const all = Promise.all([...first, ...later]).then((ms) => Math.max(...ms));
      const capped = new Promise<number>((resolve) => setTimeout(() => resolve(capMs), capMs).unref());
      return Promise.race([all, capped]);
    };
    await server.kill();
    const measuring = [measure(wrapped)];
    if (round === 0) measuring.push(measure(raw)); // raw ioredis takes tens of seconds: once
    const [oursMs, rawMs] = await Promise.all(measuring);
    ours.push(oursMs as number);
    if (rawMs !== undefined) baseline = rawMs;
    raw.disconnect();
    wrapped.disconnect();
    await server.cleanup();
  }
  report({
    subject,
    case: 'settle-after-kill',
    metric: 'ms',
    ours: percentile(ours, 50),
    baseline,
    baseline_name: `raw ioredis defaults (capped at ${capMs} ms, 1 round)`,
    better: 'lower',
    rounds,
    command_timeout_ms: commandTimeoutMs,
    ours_max_ms: Math.max(...ours),
  });
}

/** `pnpm bench circuit` */
export default async function bench(): Promise<void> {
  // CIRCUIT_BENCH_ONLY=redis-get,reject-open runs only some groups (while iterating locally).
  const only = process.env.CIRCUIT_BENCH_ONLY?.split(',');
  const groups: [string, () => Promise<void>][] = [
    ['closed-overhead', closedOverhead],
    ['reject-open', rejectOpen],
    ['redis-get', redisThroughput],
    ['settle-after-kill', settleAfterKill],
    ['heap-10m', heap10m],
  ];
  for (const [name, run] of groups) if (!only || only.includes(name)) await run();
}
