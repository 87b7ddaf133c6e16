import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createTestClock } from '@botkit/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createHealthMonitor,
  eventLoopProbe,
  httpProbe,
  sqliteProbe,
  telegramProbe,
  updateMetrics,
  updatesProbe,
} from '../src/index.js';
import { startFakeTelegram } from './fake-telegram.js';

const TOKEN = '123456789:AAHk_fake_token_for_tests_0123456789';
let tg: Awaited<ReturnType<typeof startFakeTelegram>>;
const dir = mkdtempSync(join(tmpdir(), 'health-probes-'));

beforeAll(async () => {
  tg = await startFakeTelegram(TOKEN);
});
afterAll(async () => {
  await tg.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('telegramProbe (Telegram-shaped local server)', () => {
  it('healthy with the bot identity when getMe succeeds; the token never appears in status', async () => {
    tg.reply('getMe', undefined);
    const monitor = createHealthMonitor({ probes: [telegramProbe({ token: TOKEN, apiRoot: tg.apiRoot })] });
    const s = await monitor.runAll();
    expect(s.probes.telegram).toMatchObject({ status: 'healthy', details: { id: 42, username: 'test_bot' } });
    expect(JSON.stringify(s)).not.toContain(TOKEN);
  });

  it.each([
    [401, 'Unauthorized'],
    [404, 'Not Found'],
    [409, 'Conflict: terminated by other getUpdates request'],
  ])('getMe %i is unhealthy at once, without waiting for the failure threshold', async (code, description) => {
    tg.reply('getMe', { ok: false, error_code: code, description });
    const monitor = createHealthMonitor({ failureThreshold: 5 });
    monitor.addProbe(telegramProbe({ token: TOKEN, apiRoot: tg.apiRoot }));
    const alerts: string[] = [];
    monitor.on('alert', (a) => alerts.push(a.kind));
    const s = await monitor.runAll();
    expect(s.probes.telegram?.status).toBe('unhealthy');
    expect(s.probes.telegram?.message).toContain(String(code));
    expect(JSON.stringify(s)).not.toContain(TOKEN);
    expect(alerts).toEqual(['failed']);
    tg.reply('getMe', undefined);
  });

  it('a revoked token (wrong token) is reported without leaking it', async () => {
    const wrong = '987654321:AAwrong_token_wrong_token_wrong_tok';
    const monitor = createHealthMonitor({ probes: [telegramProbe({ token: wrong, apiRoot: tg.apiRoot })] });
    const s = await monitor.runAll();
    expect(s.probes.telegram?.status).toBe('unhealthy');
    expect(JSON.stringify(s)).not.toContain(wrong);
  });

  it('429 is degraded and no Telegram call is made before retry_after has passed', async () => {
    const clock = createTestClock();
    tg.reply('getMe', {
      ok: false,
      error_code: 429,
      description: 'Too Many Requests',
      parameters: { retry_after: 30 },
    });
    const probe = telegramProbe({ token: TOKEN, apiRoot: tg.apiRoot, clock });
    const monitor = createHealthMonitor({ failureThreshold: 1, probes: [probe] });
    const before = tg.calls.length;
    let s = await monitor.runAll();
    expect(s.probes.telegram?.status).toBe('degraded');
    expect(tg.calls.length).toBe(before + 1);
    tg.reply('getMe', undefined);
    await clock.advance(29_999);
    s = await monitor.runAll();
    expect(s.probes.telegram?.status).toBe('degraded');
    expect(tg.calls.length).toBe(before + 1);
    await clock.advance(1);
    s = await monitor.runAll();
    expect(s.probes.telegram?.status).toBe('healthy');
    expect(tg.calls.length).toBe(before + 2);
  });

  it('5xx counts as an ordinary failure (threshold applies)', async () => {
    tg.reply('getMe', { ok: false, error_code: 502, description: 'Bad Gateway' });
    const monitor = createHealthMonitor({ failureThreshold: 2 });
    monitor.addProbe(telegramProbe({ token: TOKEN, apiRoot: tg.apiRoot }));
    expect((await monitor.runAll()).probes.telegram?.status).toBe('unknown');
    expect((await monitor.runAll()).probes.telegram?.status).toBe('unhealthy');
    tg.reply('getMe', undefined);
  });

  it('requires a token or a client', () => {
    expect(() => telegramProbe({ token: '' })).toThrow(/token/);
  });
});

describe('updatesProbe + updateMetrics', () => {
  it('alive but not processing (pending updates, nothing handled for maxIdleMs) is unhealthy', async () => {
    const clock = createTestClock();
    const metrics = updateMetrics({ clock });
    const probe = updatesProbe({ metrics, token: TOKEN, apiRoot: tg.apiRoot, maxIdleMs: 60_000, clock });
    const monitor = createHealthMonitor({ failureThreshold: 1, recoveryThreshold: 1, probes: [probe] });
    tg.reply('getWebhookInfo', {
      ok: true,
      result: { url: 'https://bot.example/hook', has_custom_certificate: false, pending_update_count: 12 },
    });

    await metrics.middleware({ update: { update_id: 1, message: { text: '/start@test_bot hi' } } }, async () => {});
    expect((await monitor.runAll()).probes.updates?.status).toBe('healthy');
    await clock.advance(60_001);
    const s = await monitor.runAll();
    expect(s.probes.updates?.status).toBe('unhealthy');
    expect(s.probes.updates?.message).toMatch(/12 updates pending/);

    await metrics.middleware({ update: { update_id: 2, callback_query: { data: 'x' } } }, async () => {});
    expect((await monitor.runAll()).probes.updates?.status).toBe('healthy');

    // Idle with nothing pending is fine: nobody is writing to the bot.
    tg.reply('getWebhookInfo', {
      ok: true,
      result: { url: '', has_custom_certificate: false, pending_update_count: 0 },
    });
    await clock.advance(600_000);
    expect((await monitor.runAll()).probes.updates?.status).toBe('healthy');
  });

  it('updateMetrics counts updates, errors and latency per type and command, bounded commands, rethrows', async () => {
    const clock = createTestClock(0);
    const metrics = updateMetrics({ clock, maxCommands: 1 });
    const handle = (update: object, ms: number, fail = false) =>
      metrics.middleware({ update }, async () => {
        await clock.advance(ms);
        if (fail) throw new Error('handler failed');
      });
    await handle({ update_id: 1, message: { text: '/start' } }, 10);
    await handle({ update_id: 2, message: { text: '/help' } }, 20);
    await expect(handle({ update_id: 3, callback_query: {} }, 30, true)).rejects.toThrow('handler failed');
    expect(metrics.stats()).toEqual({
      handled_total: 3,
      errors_total: 1,
      in_flight: 0,
      latency_ms_avg: 20,
      last_handled_timestamp_seconds: 0.06,
    });
    expect(metrics.lastHandledAt).toBe(60);
    const handled = metrics.series?.().handled_by_type_total ?? [];
    expect(handled.map((s) => `${s.labels.type}|${s.labels.command}|${s.value}`)).toEqual([
      'message|/start|1',
      'message|other|1',
      'callback_query||1',
    ]);
  });
});

describe('sqliteProbe, httpProbe, eventLoopProbe', () => {
  it('sqliteProbe: healthy on a real database, unhealthy when missing or corrupt', async () => {
    const { DatabaseSync } = await import('node:sqlite');
    const path = join(dir, 'bot.sqlite');
    const db = new DatabaseSync(path);
    db.exec('CREATE TABLE t (x INTEGER); INSERT INTO t VALUES (1);');
    db.close();
    const garbage = join(dir, 'garbage.sqlite');
    writeFileSync(garbage, 'this is not a database file at all, just text '.repeat(100));
    const monitor = createHealthMonitor({ failureThreshold: 1 });
    monitor.addProbe(sqliteProbe(path, { quickCheck: true }));
    monitor.addProbe(sqliteProbe(join(dir, 'missing.sqlite'), { name: 'missing' }));
    monitor.addProbe(sqliteProbe(garbage, { name: 'garbage' }));
    const s = await monitor.runAll();
    expect(s.probes.sqlite?.status).toBe('healthy');
    expect(s.probes.missing).toMatchObject({ status: 'unhealthy', message: expect.stringMatching(/not found/) });
    expect(s.probes.garbage?.status).toBe('unhealthy');
  });

  it('httpProbe: checks the status code and masks the URL password', async () => {
    let code = 200;
    const server = createServer((_req, res) => res.writeHead(code).end());
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const url = `http://user:pa55word@127.0.0.1:${(server.address() as AddressInfo).port}/health`;
    try {
      const monitor = createHealthMonitor({ failureThreshold: 1, probes: [httpProbe(url, { name: 'api' })] });
      expect((await monitor.runAll()).probes.api?.status).toBe('healthy');
      code = 503;
      const s = await monitor.runAll();
      expect(s.probes.api?.status).toBe('unhealthy');
      expect(s.probes.api?.message).toContain('503');
      expect(JSON.stringify(s)).not.toContain('pa55word');
    } finally {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    }
  });

  it('eventLoopProbe: degraded when the loop was blocked longer than maxLagMs', async () => {
    const probe = eventLoopProbe({ maxLagMs: 20, unhealthyLagMs: 10_000 });
    const signal = new AbortController().signal;
    await probe.check({ signal });
    await new Promise((r) => setTimeout(r, 30));
    const end = Date.now() + 120;
    while (Date.now() < end) {
      // block the event loop
    }
    await new Promise((r) => setTimeout(r, 30));
    const result = await probe.check({ signal });
    expect(result.status).toBe('degraded');
    expect(result.details?.maxMs).toBeGreaterThan(20);
  });
});
