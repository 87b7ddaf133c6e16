/**
 * pnpm bench failover
 *
 * - detect / switch: RUNS outages against the @botkit/testing emulator with real timers on a
 *   scaled clock (SCALE x faster than wall time; emulator and failover share it), default
 *   detection settings (getWebhookInfo every 10 s, 2 failures to switch), 1 update/s of traffic.
 *   Figures are scaled seconds, what a real deployment would see; loopback latency is magnified
 *   SCALE times, so they are pessimistic.
 *   - detect: Telegram can no longer reach the webhook -> the failover falls back to polling.
 *   - switch: deleteWebhook / setWebhook request -> first update handled in the new mode (both directions).
 * - webhook-throughput: updates/s through failover.handler vs grammY's webhookCallback on node:http
 *   (same grammY bot, same secret check, 20 concurrent keep-alive clients), interleaved rounds.
 */
import { detectionRun, throughputRig } from '../packages/failover/test/bench-support.js';
import { interleave, percentile, report } from './lib.js';

const SCALE = 20;
const RUNS = 20;

async function throughput() {
  const rounds = 10;
  const rig = await throughputRig({ requests: 3000, concurrency: 20 });
  try {
    const result = await interleave({
      rounds,
      warmup: 2,
      ours: () => rig.load('ours'),
      baseline: () => rig.load('grammy'),
    });
    report({
      subject: 'failover',
      case: 'webhook-throughput',
      metric: 'updates_per_s',
      ours: result.ours,
      baseline: result.baseline,
      baseline_name: "grammY webhookCallback(bot, 'http')",
      better: 'higher',
      rounds,
      extra: { concurrency: 20, requests_per_round: 3000 },
    });
  } finally {
    await rig.close();
  }
}

async function detection() {
  const detect: number[] = [];
  const toPolling: number[] = [];
  const toWebhook: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const run = await detectionRun(SCALE);
    detect.push(run.detectMs / 1000);
    toPolling.push(run.toPollingMs / 1000);
    toWebhook.push(run.toWebhookMs / 1000);
  }
  report({
    subject: 'failover',
    case: 'detect',
    metric: 's_p95',
    ours: percentile(detect, 95),
    better: 'lower',
    rounds: RUNS,
    extra: { p50: percentile(detect, 50), max: Math.max(...detect), scale: SCALE, target_p95: 30 },
  });
  report({
    subject: 'failover',
    case: 'switch',
    metric: 's_p95',
    ours: percentile([...toPolling, ...toWebhook], 95),
    better: 'lower',
    rounds: RUNS,
    extra: {
      to_polling_p95: percentile(toPolling, 95),
      to_webhook_p95: percentile(toWebhook, 95),
      scale: SCALE,
      target_p95: 5,
    },
  });
}

export default async function main() {
  await throughput();
  await detection();
}
