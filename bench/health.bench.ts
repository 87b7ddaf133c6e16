/**
 * `pnpm bench health`: /health throughput and p99 with cached results, served by
 * createHealthServer in this process, loaded by wrk from a second process on loopback; baseline is
 * a bare node:http handler returning the same JSON bytes. Plus: 1000 concurrent /health requests
 * must cause zero extra probe executions.
 */
import { execFile } from 'node:child_process';
import { Agent, createServer, get, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createHealthMonitor, createHealthServer } from '../packages/health/src/index.js';
import { interleave, report } from './lib.js';

const SUBJECT = 'health';
const ROUNDS = 6;
const DURATION = '3s';
const CONNECTIONS = 32;
/** p99 is measured in separate runs at a moderate load, not at saturation where queueing dominates. */
const P99_CONNECTIONS = 8;

interface WrkResult {
  rps: number;
  p99Ms: number;
}

function toMs(value: string): number {
  const match = /^([\d.]+)(us|ms|s|m)$/.exec(value.trim());
  if (!match) throw new Error(`cannot parse wrk latency ${value}`);
  const n = Number(match[1]);
  return match[2] === 'us' ? n / 1000 : match[2] === 'ms' ? n : match[2] === 's' ? n * 1000 : n * 60_000;
}

function wrk(url: string, connections = CONNECTIONS): Promise<WrkResult> {
  return new Promise((resolve, reject) => {
    execFile(
      '/usr/bin/wrk',
      ['-t1', `-c${connections}`, `-d${DURATION}`, '--latency', url],
      { timeout: 60_000 },
      (error, stdout) => {
        if (error) return reject(error);
        const rps = /Requests\/sec:\s+([\d.]+)/.exec(stdout);
        const p99 = /^\s+99%\s+(\S+)/m.exec(stdout);
        const errors = /Non-2xx or 3xx responses: (\d+)/.exec(stdout);
        if (!rps || !p99) return reject(new Error(`unexpected wrk output:\n${stdout}`));
        if (errors) return reject(new Error(`wrk saw ${errors[1]} error responses`));
        resolve({ rps: Number(rps[1]), p99Ms: toMs(p99[1] as string) });
      },
    );
  });
}

function listen(server: Server): Promise<string> {
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () => resolve(`http://127.0.0.1:${(server.address() as AddressInfo).port}`)),
  );
}

export default async function bench(): Promise<void> {
  let probeRuns = 0;
  const probe = (name: string) => ({
    name,
    check: async () => {
      probeRuns++;
      return { status: 'healthy' as const, message: `${name} ok`, details: { pool: { total: 4, idle: 3 } } };
    },
  });
  const monitor = createHealthMonitor({ probes: [probe('redis'), probe('postgres'), probe('telegram')] });
  await monitor.runAll();
  const health = createHealthServer(monitor, { port: 0, host: '127.0.0.1' });
  await health.start();
  const oursUrl = `${health.url}/health`;

  const body = Buffer.from(await (await fetch(oursUrl)).arrayBuffer());
  const bare = createServer((_req, res) => {
    res.writeHead(200, {
      'content-type': 'application/json; charset=utf-8',
      'cache-control': 'no-store',
      'content-length': body.length,
    });
    res.end(body);
  });
  const bareUrl = `${await listen(bare)}/health`;

  try {
    const rps = await interleave({
      rounds: ROUNDS,
      warmup: 1,
      ours: async () => (await wrk(oursUrl)).rps,
      baseline: async () => (await wrk(bareUrl)).rps,
    });
    const p99 = await interleave({
      rounds: ROUNDS,
      warmup: 0,
      ours: async () => (await wrk(oursUrl, P99_CONNECTIONS)).p99Ms,
      baseline: async () => (await wrk(bareUrl, P99_CONNECTIONS)).p99Ms,
    });
    report({
      subject: SUBJECT,
      case: 'health-rps',
      metric: 'req_per_s',
      ours: rps.ours,
      baseline: rps.baseline,
      baseline_name: 'bare node:http',
      better: 'higher',
      rounds: ROUNDS,
      extra: { connections: CONNECTIONS, duration: DURATION, load: 'wrk -t1, second process, loopback' },
    });
    report({
      subject: SUBJECT,
      case: 'health-p99',
      metric: 'ms',
      ours: p99.ours,
      baseline: p99.baseline,
      baseline_name: 'bare node:http',
      better: 'lower',
      rounds: ROUNDS,
      extra: { connections: P99_CONNECTIONS, duration: DURATION, load: 'wrk -t1, second process, loopback' },
    });

    // Probe storm: 1000 concurrent /health requests, each on its own connection.
    const agent = new Agent({ keepAlive: false, maxSockets: 1000 });
    const before = probeRuns;
    const statuses = await Promise.all(
      Array.from(
        { length: 1000 },
        () =>
          new Promise<number>((resolve, reject) => {
            get(oursUrl, { agent }, (res) => {
              res.resume();
              res.on('end', () => resolve(res.statusCode ?? 0));
            }).on('error', reject);
          }),
      ),
    );
    agent.destroy();
    if (statuses.some((s) => s !== 200)) throw new Error('probe storm: a request failed');
    report({
      subject: SUBJECT,
      case: 'probe-storm',
      metric: 'extra_probe_runs',
      ours: probeRuns - before,
      better: 'lower',
      rounds: 1,
      extra: { requests: 1000, concurrent: 1000, probes: 3 },
    });
  } finally {
    await health.stop();
    bare.closeAllConnections();
    await new Promise((r) => bare.close(r));
  }
}
