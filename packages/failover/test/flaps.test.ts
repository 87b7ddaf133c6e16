import { describe, expect, it } from 'vitest';
import { type BotKind, checkExactlyOnceInOrder, createRig, startRig } from './e2e-helpers.js';

const FLAPS = 100;
const CHATS = 50;
const UPDATES_PER_SECOND = 20;

/**
 * 100 forced flaps (Telegram cannot reach the webhook, then can again) while 50 chats write 20
 * messages per second, on the test clock with shortened intervals: every update reaches the bot's
 * handlers exactly once and in per-chat order. Transport-level redeliveries (the same update
 * delivered by the webhook and by polling around a switch) are counted separately.
 */
async function flapScenario(kind: BotKind) {
  const r = await createRig(
    kind,
    {
      detection: { intervalMs: 1000, failuresToSwitch: 2, probationIntervalMs: 500 },
      switching: { minPollingDwellMs: 2000, maxPollingDwellMs: 4000, probationMs: 1000, maxChangesPerHour: 10_000 },
      polling: { timeoutSeconds: 5 },
    },
    { stepMs: 100 },
  );
  try {
    await startRig(r);
    const sent: { updateId: number; chatId: number }[] = [];
    let seed = 7;
    let talking = true;
    const traffic = () => {
      if (!talking) return;
      seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
      const chatId = 1 + (seed % CHATS);
      r.emulator.sendMessage(chatId, `#${sent.length}`);
      sent.push({ updateId: r.emulator.pendingUpdates.at(-1)?.update_id ?? -1, chatId });
      r.clock.setTimeout(traffic, 1000 / UPDATES_PER_SECOND);
    };
    traffic();
    for (let flap = 0; flap < FLAPS; flap++) {
      // Half the outages refuse connections; the other half is a proxy that loses responses
      // after the bot handled the update, so Telegram redelivers it.
      if (flap % 2 === 0) r.emulator.faults.webhookUnreachable();
      else r.lossyProxy(true);
      await r.until(() => r.failover.mode === 'polling', `fall-back #${flap}`, 120_000);
      r.emulator.faults.webhookReachable();
      r.lossyProxy(false);
      await r.until(() => r.failover.mode === 'webhook', `return #${flap}`, 120_000);
      await r.run(1500); // probation passes with updates flowing through the webhook
    }
    talking = false;
    await r.until(() => r.emulator.pendingUpdates.length === 0 && r.handled.length >= sent.length, 'drain', 120_000);
    const polled = r.received.filter((i) => i.source === 'polling').length;
    const result = checkExactlyOnceInOrder(r, sent);
    console.info(
      `[${kind}] ${sent.length} updates, ${r.modes.length} mode changes, ${polled} via polling, ` +
        `${r.duplicates.length} transport redeliveries skipped`,
    );
    return { r, sent, result, polled };
  } finally {
    await r.close();
  }
}

describe('100 forced flaps at 20 updates/s across 50 chats (test clock)', () => {
  it.each(['grammy', 'telegraf'] as const)(
    'a real %s bot handles every update exactly once, in per-chat order',
    async (kind) => {
      const { r, sent, result, polled } = await flapScenario(kind);
      expect(r.modes.filter((m) => m.to === 'polling')).toHaveLength(FLAPS);
      expect(polled).toBeGreaterThan(0);
      expect(r.duplicates.length).toBeGreaterThan(0); // redeliveries happened and were skipped
      expect(sent.length).toBeGreaterThan(FLAPS * 50);
      expect(result).toEqual({ missing: [], twice: [], outOfOrder: [] });
      expect(r.handled).toHaveLength(sent.length);
    },
    120_000,
  );
});
