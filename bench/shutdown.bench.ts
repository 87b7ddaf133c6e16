/**
 * `pnpm bench shutdown`
 *
 * - `drain-overhead`: a real child process with N tasks in flight of known length receives
 *   SIGTERM; we measure, with the child's own clock, the time from the end of the longest task to
 *   the process exit. Ours (createShutdown().install() + track(), hooks in every phase) against a
 *   hand-written handler (`process.on('SIGTERM', async () => { await Promise.all(tasks); process.exit(0) })`).
 * - `track-overhead`: updates per second through an async handler wrapped in `track()` against
 *   the same handler untracked (ratio; higher is better).
 *
 * The child mode of this file (env BOTKIT_SHUTDOWN_BENCH_CHILD) is the forked process of
 * `drain-overhead`, so the benchmark is one self-contained file.
 */
import { spawn } from 'node:child_process';
import { writeSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { createShutdown } from '@botkit/shutdown';
import { interleave, report, timeConcurrent } from './lib.js';

const SUBJECT = 'shutdown';
const TASKS = 1000;
const LONGEST_MS = 500;
const now = () => performance.timeOrigin + performance.now();
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

async function child(mode: string): Promise<void> {
  let lastDone = 0;
  let signalAt = 0;
  const done = () => {
    lastDone = now();
  };
  process.on('exit', (code) => {
    writeSync(1, `${JSON.stringify({ event: 'result', code, signalAt, lastDone, exitAt: now() })}\n`);
  });
  process.on('SIGTERM', () => {
    signalAt = now();
  });
  const lengths = Array.from({ length: TASKS }, (_, i) => 50 + ((i * 7919) % (LONGEST_MS - 50)));
  lengths[0] = LONGEST_MS;
  if (mode === 'ours') {
    const shutdown = createShutdown({ timeoutMs: 30_000 }).install();
    for (const phase of ['intake', 'drain', 'services', 'connections', 'flush'] as const) {
      shutdown.add(phase, () => {}, { phase });
    }
    for (const ms of lengths) void shutdown.track(sleep(ms).then(done));
  } else {
    const tasks = lengths.map((ms) => sleep(ms).then(done));
    process.on('SIGTERM', async () => {
      await Promise.all(tasks);
      process.exit(0);
    });
  }
  setInterval(() => {}, 60_000);
  writeSync(1, `${JSON.stringify({ event: 'ready' })}\n`);
}

const root = fileURLToPath(new URL('../', import.meta.url));
const tsxLoader = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;

/** One forked run: returns ms from the end of the longest task to exit, by the child's clock. */
function drainOnce(mode: 'ours' | 'baseline'): Promise<number> {
  return new Promise((resolve, reject) => {
    const proc = spawn(process.execPath, ['--import', tsxLoader, fileURLToPath(import.meta.url)], {
      cwd: root,
      env: { ...process.env, TSX_TSCONFIG_PATH: `${root}tsconfig.json`, BOTKIT_SHUTDOWN_BENCH_CHILD: mode },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    proc.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      if (!out.includes('"ready"') && (out + chunk).includes('"ready"')) proc.kill('SIGTERM');
      out += chunk;
    });
    proc.on('close', (code) => {
      const line = out.split('\n').find((l) => l.includes('"result"'));
      if (code !== 0 || !line) return reject(new Error(`${mode} child exited ${code}: ${out}`));
      const result = JSON.parse(line) as { signalAt: number; lastDone: number; exitAt: number };
      if (!(result.signalAt > 0 && result.signalAt < result.lastDone)) {
        return reject(new Error(`${mode}: SIGTERM did not arrive while tasks were in flight`));
      }
      resolve(result.exitAt - result.lastDone);
    });
  });
}

export default async function bench(): Promise<void> {
  const drainRounds = 6;
  const drain = await interleave({
    rounds: drainRounds,
    warmup: 1,
    ours: () => drainOnce('ours'),
    baseline: () => drainOnce('baseline'),
  });
  report({
    subject: SUBJECT,
    case: 'drain-overhead',
    metric: 'ms_after_longest_task',
    ours: drain.ours,
    baseline: drain.baseline,
    baseline_name: 'process.on(SIGTERM) + Promise.all(tasks) + process.exit',
    better: 'lower',
    rounds: drainRounds,
    extra: { tasks: TASKS, longest_task_ms: LONGEST_MS, hooks: 5 },
  });

  // track(): the same async handler, tracked or not, 100k calls, 64 in flight.
  const updates = 100_000;
  const shutdown = createShutdown();
  const payload = { update_id: 1, message: { message_id: 1, date: 0, chat: { id: 7, type: 'private' }, text: 'hi' } };
  const handler = async () => {
    JSON.stringify(payload);
    await Promise.resolve();
  };
  const trackRounds = 10;
  const track = await interleave({
    rounds: trackRounds,
    warmup: 2,
    ours: async () => updates / ((await timeConcurrent(updates, 64, () => shutdown.track(handler()))) / 1000),
    baseline: async () => updates / ((await timeConcurrent(updates, 64, () => handler())) / 1000),
  });
  report({
    subject: SUBJECT,
    case: 'track-overhead',
    metric: 'updates_per_s',
    ours: track.ours,
    baseline: track.baseline,
    baseline_name: 'untracked async handler',
    better: 'higher',
    rounds: trackRounds,
  });
}

const childMode = process.env.BOTKIT_SHUTDOWN_BENCH_CHILD;
if (childMode) await child(childMode);
