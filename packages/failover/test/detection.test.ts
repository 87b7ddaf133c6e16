import type { WebhookInfo } from '@botkit/core';
import { classifyWebhookError, createWebhookDetector } from '@botkit/failover';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

const T0 = Date.UTC(2026, 0, 1);
const sec = (ms: number) => Math.floor(ms / 1000);

function info(pending: number, errorAtMs?: number, message = 'Connection refused'): WebhookInfo {
  return {
    url: 'https://bot.example.com/tg',
    has_custom_certificate: false,
    pending_update_count: pending,
    ...(errorAtMs !== undefined ? { last_error_date: sec(errorAtMs), last_error_message: message } : {}),
  };
}

describe('classifyWebhookError', () => {
  it.each([
    'Connection refused',
    'Connection timed out',
    'Failed to resolve host: Name or service not known',
    'SSL error {error:14094410:SSL routines:ssl3_read_bytes:sslv3 alert handshake failure}',
    'Wrong response from the webhook: 502 Bad Gateway',
    'Wrong response from the webhook: 503 Service Unavailable',
    'Wrong response from the webhook: 504 Gateway Timeout',
  ])('treats %s as a transport error', (message) => {
    expect(classifyWebhookError(message)).toBe('transport');
  });

  it.each([
    'Wrong response from the webhook: 500 Internal Server Error',
    'Wrong response from the webhook: 401 Unauthorized',
    'Wrong response from the webhook: 404 Not Found',
    'Read timeout expired',
  ])('treats %s as an app error (reported, never failed over)', (message) => {
    expect(classifyWebhookError(message)).toBe('app');
  });
});

describe('webhook detector', () => {
  it('switches after failuresToSwitch consecutive checks with stuck pending updates and a fresh transport error', () => {
    const d = createWebhookDetector({ failuresToSwitch: 2 });
    const base = { lastSwitchAt: T0, lastWebhookRequestAt: T0 + 1000 };
    expect(d.observe({ ...base, info: info(0) })).toEqual({ status: 'healthy' });
    const first = d.observe({ ...base, info: info(3, T0 + 5000) });
    expect(first).toMatchObject({ status: 'unhealthy', consecutive: 1, shouldSwitch: false });
    expect(d.observe({ ...base, info: info(5, T0 + 15_000) })).toMatchObject({ consecutive: 2, shouldSwitch: true });
  });

  it('ignores errors older than the last switch or than the last request the endpoint received', () => {
    const d = createWebhookDetector({ failuresToSwitch: 1 });
    expect(d.observe({ info: info(3, T0 + 1000), lastSwitchAt: T0 + 2000, lastWebhookRequestAt: undefined })).toEqual({
      status: 'healthy',
    });
    expect(d.observe({ info: info(3, T0 + 1000), lastSwitchAt: T0, lastWebhookRequestAt: T0 + 1500 })).toEqual({
      status: 'healthy',
    });
  });

  it('does not count a queue that is draining, nor an empty queue', () => {
    const d = createWebhookDetector({ failuresToSwitch: 2 });
    const base = { lastSwitchAt: T0, lastWebhookRequestAt: undefined };
    d.observe({ ...base, info: info(10, T0 + 5000) });
    expect(d.observe({ ...base, info: info(4, T0 + 6000) })).toEqual({ status: 'healthy' });
    expect(d.observe({ ...base, info: info(0, T0 + 7000) })).toEqual({ status: 'healthy' });
    expect(d.consecutive).toBe(0);
  });

  it('reports an app error once and never towards a switch', () => {
    const d = createWebhookDetector({ failuresToSwitch: 1 });
    const base = { lastSwitchAt: T0, lastWebhookRequestAt: undefined };
    const e = info(9, T0 + 5000, 'Wrong response from the webhook: 500 Internal Server Error');
    expect(d.observe({ ...base, info: e })).toMatchObject({ status: 'appError' });
    expect(d.observe({ ...base, info: e })).toEqual({ status: 'healthy' });
  });

  it('never signals a switch unless the last failuresToSwitch observations were all unhealthy (property)', () => {
    const obs = fc.record({
      pending: fc.integer({ min: 0, max: 50 }),
      errorAgo: fc.option(fc.integer({ min: -5, max: 120 })),
      requestAgo: fc.option(fc.integer({ min: 0, max: 120 })),
      kind: fc.constantFrom('Connection refused', 'Wrong response from the webhook: 500 Internal Server Error'),
    });
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 4 }), fc.array(obs, { maxLength: 60 }), (threshold, list) => {
        const d = createWebhookDetector({ failuresToSwitch: threshold });
        let now = T0 + 3600_000;
        const history: boolean[] = [];
        for (const o of list) {
          now += 10_000;
          const v = d.observe({
            info: info(o.pending, o.errorAgo === null ? undefined : now - o.errorAgo * 1000, o.kind),
            lastSwitchAt: T0,
            lastWebhookRequestAt: o.requestAgo === null ? undefined : now - o.requestAgo * 1000,
          });
          history.push(v.status === 'unhealthy');
          if (v.status === 'unhealthy' && v.shouldSwitch) {
            expect(history.slice(-threshold).every(Boolean)).toBe(true);
            expect(o.pending).toBeGreaterThan(0);
            expect(o.kind).toBe('Connection refused');
          }
        }
      }),
    );
  });

  it('validates failuresToSwitch', () => {
    expect(() => createWebhookDetector({ failuresToSwitch: 0 })).toThrow(/failuresToSwitch/);
  });
});
