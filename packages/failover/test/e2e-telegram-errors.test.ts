import { FailoverErrorCode } from '@botkit/failover';
import { afterEach, describe, expect, it } from 'vitest';
import { createRig, type Rig, startRig } from './e2e-helpers.js';
import { SECRET } from './helpers.js';

const rigs: Rig[] = [];
const list = (v: unknown) => (typeof v === 'string' ? JSON.parse(v) : v);
afterEach(async () => {
  while (rigs.length) await rigs.pop()?.close();
});

async function pollingRig() {
  const lines: string[] = [];
  const log = (obj: unknown, msg?: string) => lines.push(JSON.stringify(obj) + (msg ?? ''));
  const r = await createRig('grammy', {
    switching: { minPollingDwellMs: 3_600_000 },
    logger: { debug: log, info: log, warn: log, error: log },
  });
  rigs.push(r);
  await startRig(r);
  r.emulator.faults.webhookUnreachable();
  let talking = true;
  const traffic = () => {
    if (!talking) return;
    r.emulator.sendMessage(1, 'x');
    r.clock.setTimeout(traffic, 1000);
  };
  traffic();
  await r.until(() => r.failover.mode === 'polling', 'fall-back');
  return { r, lines, quiet: () => (talking = false) };
}

describe('Telegram errors while polling (emulator, test clock)', () => {
  it('401 (token revoked) stops everything with BOTKIT_FAILOVER_UNAUTHORIZED', async () => {
    const { r } = await pollingRig();
    r.emulator.faults.inject('getUpdates', { kind: 'error', errorCode: 401, description: 'Unauthorized' });
    await r.until(() => r.failover.mode === 'stopped', 'stop after 401');
    expect(r.errors.map((e) => e.code)).toContain(FailoverErrorCode.Unauthorized);
  });

  it('429 waits retry_after before the next getUpdates', async () => {
    const { r } = await pollingRig();
    const fault = r.emulator.faults.inject(
      'getUpdates',
      { kind: 'error', errorCode: 429, retryAfterSeconds: 7 },
      { times: 1 },
    );
    await r.until(() => fault.hits === 1, '429');
    const failedAt = r.emulator.requests.filter((q) => q.method === 'getUpdates' && q.status === 429).at(-1)!.at;
    const before = r.emulator.requests.length;
    await r.until(() => r.emulator.requests.slice(before).some((q) => q.method === 'getUpdates'), 'next poll');
    const next = r.emulator.requests.slice(before).find((q) => q.method === 'getUpdates')!;
    expect(next.at - failedAt).toBeGreaterThanOrEqual(7000);
    expect(r.failover.mode).toBe('polling');
  });

  it('409 from a foreign poller is reported and polling carries on', async () => {
    const { r } = await pollingRig();
    // Someone else polls with the same token: Telegram terminates the long poll that was waiting
    // (a getUpdates that waits ends the one already waiting; ours may be between two polls, so try a few times).
    const conflicted = () => r.errors.some((e) => e.code === FailoverErrorCode.Conflict);
    for (let i = 0; i < 20 && !conflicted(); i++) {
      const foreign = fetch(`${r.emulator.apiRoot}/bot${r.emulator.token}/getUpdates?timeout=1&limit=1`).catch(
        () => undefined,
      );
      await r.run(1500);
      await foreign;
    }
    expect(conflicted()).toBe(true);
    const count = r.received.length;
    await r.until(() => r.received.length > count, 'still polling');
    expect(r.failover.mode).toBe('polling');
  });

  it('never logs or reports the token or the webhook secret; the probe says degraded while polling', async () => {
    const { r, lines } = await pollingRig();
    expect(await r.failover.probe().check({ signal: new AbortController().signal })).toMatchObject({
      status: 'degraded',
    });
    r.emulator.faults.inject('getUpdates', { kind: 'drop' }, { times: 2 });
    await r.run(5000);
    const everything =
      lines.join('\n') + r.errors.map((e) => `${String(e)} ${JSON.stringify(e)} ${e.stack}`).join('\n');
    expect(lines.length).toBeGreaterThan(0);
    expect(everything).not.toContain(r.emulator.token);
    expect(everything).not.toContain(r.emulator.token.split(':')[1]);
    expect(everything).not.toContain(SECRET);
    expect(r.emulator.requests.some((q) => q.method === 'setWebhook' && q.params.drop_pending_updates)).toBe(false);
    expect(r.emulator.requests.some((q) => q.method === 'getUpdates' && Number(q.params.offset) < 0)).toBe(false);
  });

  it('429 on getWebhookInfo: the next check waits retry_after', async () => {
    const r = await createRig('grammy');
    rigs.push(r);
    await startRig(r);
    r.emulator.faults.inject('getWebhookInfo', { kind: 'error', errorCode: 429, retryAfterSeconds: 45 }, { times: 1 });
    await r.until(() => r.emulator.requests.some((q) => q.method === 'getWebhookInfo' && q.status === 429), '429');
    const failedAt = r.emulator.requests.find((q) => q.method === 'getWebhookInfo' && q.status === 429)!.at;
    await r.until(
      () => r.emulator.requests.some((q) => q.method === 'getWebhookInfo' && q.at > failedAt),
      'next check',
    );
    const next = r.emulator.requests.find((q) => q.method === 'getWebhookInfo' && q.at > failedAt)!;
    expect(next.at - failedAt).toBeGreaterThanOrEqual(45_000);
    expect(r.errors.map((e) => e.code)).toContain(FailoverErrorCode.TelegramFailed);
  });

  it('429 on setWebhook at start: waits retry_after, tries again and starts on the webhook', async () => {
    const r = await createRig('grammy');
    rigs.push(r);
    r.emulator.faults.inject('setWebhook', { kind: 'error', errorCode: 429, retryAfterSeconds: 3 }, { times: 2 });
    await startRig(r);
    expect(r.failover.mode).toBe('webhook');
    const sets = r.emulator.requests.filter((q) => q.method === 'setWebhook');
    expect(sets.map((q) => q.status)).toEqual([429, 429, 200]);
    expect(sets[1]!.at - sets[0]!.at).toBeGreaterThanOrEqual(3_000);
    expect(sets[2]!.at - sets[1]!.at).toBeGreaterThanOrEqual(3_000);
    expect(r.emulator.webhookInfo.url).not.toBe('');
  });

  it('setWebhook: a 5xx is retried with backoff, a 400 fails the start at once', async () => {
    const r = await createRig('grammy');
    rigs.push(r);
    r.emulator.faults.inject('setWebhook', { kind: 'error', errorCode: 502 }, { times: 1 });
    await startRig(r);
    expect(r.emulator.requests.filter((q) => q.method === 'setWebhook').map((q) => q.status)).toEqual([502, 200]);

    const bad = await createRig('grammy');
    rigs.push(bad);
    bad.emulator.faults.inject('setWebhook', {
      kind: 'error',
      errorCode: 400,
      description: 'Bad Request: bad webhook',
    });
    await expect(startRig(bad)).rejects.toThrow(/bad webhook/);
    expect(bad.emulator.requests.filter((q) => q.method === 'setWebhook')).toHaveLength(1);
  });

  it('passes allowed_updates and the secret to setWebhook and allowed_updates to getUpdates; never drops pending updates', async () => {
    const r = await createRig('grammy', { allowedUpdates: ['message', 'callback_query'] });
    rigs.push(r);
    await startRig(r);
    r.emulator.faults.webhookUnreachable();
    const traffic = () => {
      r.emulator.sendMessage(1, 'x');
      r.clock.setTimeout(traffic, 1000);
    };
    traffic();
    await r.until(() => r.failover.mode === 'polling', 'fall-back');
    await r.until(() => r.emulator.requests.some((q) => q.method === 'getUpdates'), 'poll');
    const set = r.emulator.requests.find((q) => q.method === 'setWebhook')!;
    expect(list(set.params.allowed_updates)).toEqual(['message', 'callback_query']);
    expect(set.params.secret_token).toBe(SECRET);
    const poll = r.emulator.requests.find((q) => q.method === 'getUpdates')!;
    expect(list(poll.params.allowed_updates)).toEqual(['message', 'callback_query']);
    expect(r.emulator.requests.filter((q) => q.params.drop_pending_updates !== undefined)).toEqual(
      r.emulator.requests.filter((q) => q.method === 'deleteWebhook' && q.params.drop_pending_updates === false),
    );
  });

  it('dropPendingUpdatesOnStart drops only on the first setWebhook, never on a return', async () => {
    const r = await createRig('grammy', { dropPendingUpdatesOnStart: true, switching: { minPollingDwellMs: 5000 } });
    rigs.push(r);
    r.emulator.sendMessage(1, 'old, dropped on start');
    await startRig(r);
    expect(r.emulator.pendingUpdates).toEqual([]);
    r.emulator.faults.webhookUnreachable();
    const traffic = () => {
      r.emulator.sendMessage(1, 'x');
      r.clock.setTimeout(traffic, 1000);
    };
    traffic();
    await r.until(() => r.failover.mode === 'polling', 'fall-back');
    r.emulator.faults.webhookReachable();
    await r.until(() => r.failover.mode === 'webhook' && r.modes.length >= 3, 'return');
    const sets = r.emulator.requests.filter((q) => q.method === 'setWebhook');
    expect(sets).toHaveLength(2);
    expect(String(sets[0]!.params.drop_pending_updates)).toBe('true');
    expect(sets[1]!.params.drop_pending_updates).toBeUndefined();
    expect(r.handled.some((h) => h.text === 'old, dropped on start')).toBe(false);
  });

  it('reports a webhook changed by someone else (once) instead of fighting over it', async () => {
    const r = await createRig('grammy');
    rigs.push(r);
    await startRig(r);
    const res = await fetch(`${r.emulator.apiRoot}/bot${r.emulator.token}/deleteWebhook`);
    expect(res.status).toBe(200);
    await r.run(35_000);
    const conflicts = r.errors.filter((e) => e.code === FailoverErrorCode.Conflict);
    expect(conflicts).toHaveLength(1);
    expect(conflicts[0]!.message).toMatch(/changed outside/);
    expect(r.emulator.requests.filter((q) => q.method === 'setWebhook')).toHaveLength(1);
  });
});
