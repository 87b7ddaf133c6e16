import { createHmac } from 'node:crypto';
import { FailoverErrorCode } from '@botkit/failover';
import { afterEach, describe, expect, it } from 'vitest';
import { createRig, type Rig, startRig } from './e2e-helpers.js';
import { SECRET } from './helpers.js';

const rigs: Rig[] = [];
afterEach(async () => {
  while (rigs.length) await rigs.pop()?.close();
});

async function rigWithTraffic() {
  const r = await createRig('grammy', { detection: { selfProbe: true } });
  rigs.push(r);
  await startRig(r);
  const traffic = () => {
    r.emulator.sendMessage(1, 'x');
    r.clock.setTimeout(traffic, 1000);
  };
  traffic();
  return r;
}

describe('self-probe of the public webhook URL', () => {
  it('the endpoint proves it holds the secret (HMAC of the challenge) without revealing it', async () => {
    const r = await createRig('grammy');
    rigs.push(r);
    await startRig(r);
    const base = r.emulator.webhookInfo.url ?? '';
    const challenge = 'a'.repeat(32);
    const res = await fetch(`${base}?botkit_probe=${challenge}`);
    expect(res.status).toBe(405);
    expect(res.headers.get('x-botkit-probe')).toBe(createHmac('sha256', SECRET).update(challenge).digest('hex'));
    const plain = await fetch(base);
    expect(plain.headers.get('x-botkit-probe')).toBeNull();
    const bad = await fetch(`${base}?botkit_probe=not-hex`);
    expect(bad.headers.get('x-botkit-probe')).toBeNull();
    expect(JSON.stringify([...res.headers])).not.toContain(SECRET);
  });

  it('does not fail over when Telegram reports errors but the URL answers from here', async () => {
    const r = await rigWithTraffic();
    r.emulator.faults.webhookUnreachable();
    await r.run(60_000);
    expect(r.failover.mode).toBe('webhook');
    expect(r.errors.some((e) => e.code === FailoverErrorCode.WebhookAppError && /self-probe/.test(e.message))).toBe(
      true,
    );
    r.emulator.faults.webhookReachable();
  });

  it('fails over when the self-probe cannot reach the endpoint either', async () => {
    const r = await rigWithTraffic();
    r.lossyProxy(true);
    await r.until(() => r.failover.mode === 'polling', 'fall-back');
    r.lossyProxy(false);
  });
});
