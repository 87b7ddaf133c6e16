/**
 * @botkit/shutdown and @botkit/health together, as a bot wires them: /ready must turn 503 the
 * moment shutdown starts (before any hook runs), while /live stays 200 until the process exits.
 */
import { sleep } from '@botkit/core';
import { createHealthMonitor, createHealthServer } from '@botkit/health';
import { createShutdown } from '@botkit/shutdown';
import { describe, expect, it } from 'vitest';

describe('readiness during shutdown (real @botkit/shutdown + @botkit/health)', () => {
  it('answers 503 on /ready for the very first request after shutdown starts; /live stays 200', async () => {
    const exits: number[] = [];
    const shutdown = createShutdown({ timeoutMs: 5_000, exit: (code) => exits.push(code) });
    const monitor = createHealthMonitor({ probes: [{ name: 'db', check: async () => ({ status: 'healthy' }) }] });
    await monitor.runAll();
    const server = createHealthServer(monitor, { port: 0, host: '127.0.0.1', shutdown });
    await server.start();
    let drainStarted = false;
    shutdown.add(
      'slow drain',
      async () => {
        drainStarted = true;
        await sleep(300);
      },
      { phase: 'drain' },
    );
    shutdown.add('health server', () => server.stop(), { phase: 'services' });
    try {
      expect((await fetch(`${server.url}/ready`)).status).toBe(200);

      const finished = shutdown.shutdown('rolling update');
      // Same tick: readiness and the abort signal have already flipped.
      expect(shutdown.isShuttingDown).toBe(true);
      expect(shutdown.signal.aborted).toBe(true);
      const ready = await fetch(`${server.url}/ready`);
      expect(ready.status).toBe(503);
      expect(ready.headers.get('cache-control')).toMatch(/no-store/);
      expect((await fetch(`${server.url}/live`)).status).toBe(200);
      expect(drainStarted).toBe(true); // the drain was running while /ready already said 503

      const report = await finished;
      expect(report.exitCode).toBe(0);
      expect(exits).toEqual([0]);
    } finally {
      await server.stop().catch(() => {});
    }
  });
});
