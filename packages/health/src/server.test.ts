import { EventEmitter } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { ProbeResult, ProbeStatus } from '@botkit/core';
import { EventEmitter as EventEmitter3 } from 'eventemitter3';
import * as promClient from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import { createHealthMonitor, type HealthMonitor } from './monitor.js';
import { createHealthServer, type HealthServer, healthHandler } from './server.js';

const servers: HealthServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.stop()));
});

function scripted(initial: ProbeStatus) {
  let status: ProbeStatus = initial;
  let calls = 0;
  const probe = {
    name: 'db',
    check: async (): Promise<ProbeResult> => {
      calls++;
      return { status, message: `db is ${status}`, details: { pool: 3 } };
    },
  };
  return {
    probe,
    set: (s: ProbeStatus) => {
      status = s;
    },
    get calls() {
      return calls;
    },
  };
}

async function serve(monitor: HealthMonitor, options: Parameters<typeof createHealthServer>[1] = {}) {
  const server = createHealthServer(monitor, { port: 0, host: '127.0.0.1', promClient, ...options });
  servers.push(server);
  await server.start();
  return server;
}

describe('createHealthServer', () => {
  it('serves /live, /ready, /health with no-store, and never runs a probe for a request', async () => {
    const db = scripted('healthy');
    const monitor = createHealthMonitor({ failureThreshold: 1, recoveryThreshold: 1, probes: [db.probe] });
    const server = await serve(monitor);

    expect((await fetch(`${server.url}/live`)).status).toBe(200);
    const notYet = await fetch(`${server.url}/ready`);
    expect(notYet.status).toBe(503); // never checked yet
    expect(notYet.headers.get('cache-control')).toBe('no-store');

    await monitor.runAll();
    const calls = db.calls;
    const ready = await fetch(`${server.url}/ready`);
    expect(ready.status).toBe(200);
    const health = await fetch(`${server.url}/health`);
    expect(health.status).toBe(200);
    expect(health.headers.get('cache-control')).toBe('no-store');
    const body = (await health.json()) as {
      status: string;
      probes: Record<string, { status: string; message?: string }>;
    };
    expect(body.status).toBe('healthy');
    expect(body.probes.db).toMatchObject({ status: 'healthy', message: 'db is healthy' });
    expect(body.probes.db).not.toHaveProperty('details'); // summary by default

    await Promise.all(Array.from({ length: 50 }, () => fetch(`${server.url}/health`).then((r) => r.arrayBuffer())));
    expect(db.calls).toBe(calls);

    db.set('unhealthy');
    await monitor.runAll();
    expect((await fetch(`${server.url}/ready`)).status).toBe(503);
    const sick = await fetch(`${server.url}/health`);
    expect(sick.status).toBe(503);
    expect(((await sick.json()) as { status: string }).status).toBe('unhealthy');
    expect((await fetch(`${server.url}/live`)).status).toBe(200);
    expect((await fetch(`${server.url}/nope`)).status).toBe(404);
    expect((await fetch(`${server.url}/health`, { method: 'POST' })).status).toBe(405);
  });

  it('details none | summary | full control what /health reveals', async () => {
    const db = scripted('degraded');
    const monitor = createHealthMonitor({ probes: [db.probe] });
    await monitor.runAll();
    const none = await serve(monitor, { details: 'none' });
    const full = await serve(monitor, { details: 'full' });
    expect(await (await fetch(`${none.url}/health`)).json()).toEqual({ status: 'degraded', ready: true });
    const fullBody = (await (await fetch(`${full.url}/health`)).json()) as {
      probes: Record<string, { details?: unknown; consecutiveSuccesses?: number }>;
    };
    expect(fullBody.probes.db?.details).toEqual({ pool: 3 });
    expect(fullBody.probes.db?.consecutiveSuccesses).toBe(1);
    expect(() => healthHandler(monitor, { details: 'all' as never })).toThrow(/details/);

    // Stats change between probe runs; `full` shows them live, without running a probe.
    let queries = 1;
    monitor.addStats({ name: 'pg', stats: () => ({ queries_total: queries }) });
    const statsOf = async () =>
      ((await (await fetch(`${full.url}/health`)).json()) as { stats: { pg: { queries_total: number } } }).stats.pg;
    expect(await statsOf()).toEqual({ queries_total: 1 });
    queries = 5;
    expect(await statsOf()).toEqual({ queries_total: 5 });
    expect(db.calls).toBe(1);
  });

  it('/ready answers 503 for the first request after shutdown starts (event or flag)', async () => {
    const monitor = createHealthMonitor({ probes: [scripted('healthy').probe] });
    await monitor.runAll();

    // Through the event alone (the flag not yet visible).
    const viaEvent = Object.assign(new EventEmitter(), { isShuttingDown: false });
    const a = await serve(monitor, { shutdown: viaEvent });
    expect((await fetch(`${a.url}/ready`)).status).toBe(200);
    const emittedAt = performance.now();
    viaEvent.emit('shutdownStarted');
    const afterEvent = await fetch(`${a.url}/ready`);
    const elapsed = performance.now() - emittedAt;
    expect(afterEvent.status).toBe(503);
    expect(await afterEvent.json()).toEqual({ ready: false, reason: 'shutting down' });
    // The 503 is decided synchronously per request (no polling), so the only delay is the HTTP
    // round trip itself; 10 ms is the bound, widened to 250 ms for a loaded 2-core CI.
    expect(elapsed).toBeLessThan(250);

    // A typed eventemitter3 manager (the shape @botkit/shutdown exposes) fits the structural type.
    class Manager extends EventEmitter3<{ shutdownStarted: [signal: string] }> {
      isShuttingDown = false;
    }
    const manager = new Manager();
    const m = await serve(monitor, { shutdown: manager });
    expect((await fetch(`${m.url}/ready`)).status).toBe(200);
    manager.isShuttingDown = true;
    manager.emit('shutdownStarted', 'SIGTERM');
    expect((await fetch(`${m.url}/ready`)).status).toBe(503);

    // Through the flag alone (a source that emits late or not at all).
    const viaFlag = Object.assign(new EventEmitter(), { isShuttingDown: false });
    const b = await serve(monitor, { shutdown: viaFlag });
    expect((await fetch(`${b.url}/ready`)).status).toBe(200);
    viaFlag.isShuttingDown = true;
    expect((await fetch(`${b.url}/ready`)).status).toBe(503);
    expect((await fetch(`${b.url}/live`)).status).toBe(200); // still alive while draining
  });

  it('/metrics exposes probe status, latency and failures plus the app registry', async () => {
    const db = scripted('unhealthy');
    const monitor = createHealthMonitor({ failureThreshold: 5, probes: [db.probe] });
    await monitor.runAll();
    await monitor.runAll();
    let processed = 7;
    monitor.addStats({
      name: 'jobs',
      stats: () => ({ processed_total: processed, in_flight: 2 }),
      series: () => ({ processed_by_kind_total: [{ labels: { kind: 'email' }, value: processed - 1 }] }),
    });
    const app = new promClient.Registry();
    new promClient.Counter({ name: 'app_messages_total', help: 'messages', registers: [app] }).inc(3);
    const server = await serve(monitor, { registries: [app] });
    const res = await fetch(`${server.url}/metrics`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/plain');
    const text = await res.text();
    expect(text).toContain('botkit_health_probe_status{probe="db",status="unknown"} 1');
    expect(text).toContain('botkit_health_probe_up{probe="db",critical="true"} 0');
    expect(text).toContain('botkit_health_probe_consecutive_failures{probe="db"} 2');
    expect(text).toMatch(/botkit_health_probe_latency_seconds\{probe="db"\} \d/);
    expect(text).toContain('botkit_health_ready 0');
    expect(text).toContain('botkit_jobs_processed_total 7');
    expect(text).toContain('app_messages_total 3');
    // Stats named *_total are Prometheus counters (rate() works on them), the rest gauges.
    expect(text).toContain('# TYPE botkit_jobs_processed_total counter');
    expect(text).toContain('# TYPE botkit_jobs_processed_by_kind_total counter');
    expect(text).toContain('# TYPE botkit_jobs_in_flight gauge');
    expect(text).toContain('botkit_jobs_processed_by_kind_total{kind="email"} 6');
    // Every scrape reads the current value (not an accumulation of earlier scrapes).
    processed = 10;
    const again = await (await fetch(`${server.url}/metrics`)).text();
    expect(again).toContain('botkit_jobs_processed_total 10\n');
    expect(again).toContain('botkit_jobs_processed_by_kind_total{kind="email"} 9\n');
    expect(again).toContain('botkit_jobs_in_flight 2\n');
  });

  it('healthHandler mounts in an existing node:http server and passes other paths to next()', async () => {
    const monitor = createHealthMonitor({ probes: [scripted('healthy').probe] });
    await monitor.runAll();
    const handler = healthHandler(monitor, { basePath: '/_' });
    const app = createServer((req, res) =>
      handler(req, res, () => {
        res.writeHead(200).end('app');
      }),
    );
    await new Promise<void>((r) => app.listen(0, '127.0.0.1', r));
    try {
      const url = `http://127.0.0.1:${(app.address() as AddressInfo).port}`;
      expect((await fetch(`${url}/_/ready`)).status).toBe(200);
      expect(await (await fetch(`${url}/health`)).text()).toBe('app');
      expect(await (await fetch(`${url}/webhook`)).text()).toBe('app');
    } finally {
      app.closeAllConnections();
      await new Promise((r) => app.close(r));
    }
  });

  it('validates options eagerly', () => {
    const monitor = createHealthMonitor();
    expect(() => createHealthServer(monitor, { port: 70000 })).toThrow(/port/);
    expect(() => healthHandler(monitor, { basePath: 'x' })).toThrow(/basePath/);
    expect(() => healthHandler(monitor, { shutdown: {} as never })).toThrow(/shutdown/);
  });
});
