/**
 * Chaos: SIGTERM under load, both frameworks, as real processes (`node dist/main.js`, `node
 * src/main.cjs`) in webhook mode. Every message is a unique `/note chaos-<i>` in its own chat, so a
 * note row and a reply identify the message. The process is signalled while replies are in flight
 * and messages keep coming; Telegram keeps what the stopped bot did not take, and a second run
 * drains it. Over both runs every note must be saved and answered exactly once.
 */
import { join } from 'node:path';
import { sleep } from '@botkit/core';
import { PHASES } from '@botkit/shutdown';
import { type RedisServer, startRedis, waitFor } from '@botkit/test-harness';
import { type BotApiEmulator, createBotApiEmulator } from '@botkit/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { recordFigures } from './figures.js';
import { FRAMEWORKS, type Framework, spawnBot, tempDir } from './kit.js';
import { buildGrammyMain, jsonLines, noteCounts, telegrafMain } from './sigterm-support.js';

type BotProcess = Awaited<ReturnType<typeof spawnBot>>;

/** Each message gets its own chat (a private chat with its own user): chat ids from here. */
const FIRST_CHAT = 50_000;
/** Messages a second while the first run is up, and how long before / after the signal. */
const PER_SECOND = 40;
const MS_BEFORE_SIGNAL = 1_500;
const MS_AFTER_SIGNAL = 600;
/** Every reply is held this long by Telegram, so handlers are mid-reply when the signal comes. */
const REPLY_DELAY_MS = 300;

let grammyBuild: ReturnType<typeof buildGrammyMain> | undefined;
let redisServer: RedisServer | undefined;

beforeAll(async () => {
  grammyBuild = buildGrammyMain();
  redisServer = await startRedis();
});
afterAll(async () => {
  await redisServer?.cleanup();
  grammyBuild?.cleanup();
});

/** Waits until the process answers /ready with 200, putting its output in the error otherwise. */
async function waitReady(bot: BotProcess): Promise<void> {
  const ready = async () => {
    try {
      return (await fetch(`${bot.healthUrl}/ready`)).status === 200;
    } catch {
      return false;
    }
  };
  await waitFor('bot ready', ready, 30_000).catch((error: unknown) => {
    throw new Error(`${String(error)}\n${bot.output()}`);
  });
}

/** Sends SIGTERM and resolves with the exit code and how long the process took to exit. */
async function terminate(bot: BotProcess): Promise<{ code: number | null; ms: number }> {
  const signalled = performance.now();
  bot.kill('SIGTERM');
  const code = await bot.exited;
  return { code, ms: Math.round(performance.now() - signalled) };
}

/** Asserts the ordered teardown from the process's JSON log; returns the phases it logged. */
function expectOrderedTeardown(output: string): string[] {
  const lines = jsonLines(output);
  const phases = lines.filter((l) => l.msg === 'shutdown phase').map((l) => String(l.phase));
  expect(phases, output).toEqual([...PHASES]);
  // The manager's own line and the app's report (with tasks and hooks): all say exit 0, no timeout.
  const finished = lines.filter((l) => l.msg === 'shutdown finished');
  expect(finished.length, output).toBeGreaterThan(0);
  for (const line of finished) expect(line).toMatchObject({ exitCode: 0, timedOut: false });
  const report = finished.find((l) => 'tasks' in l);
  expect(report?.tasks, output).toMatchObject({ aborted: 0, abandoned: 0 });
  // The report comes after the last phase started.
  expect(lines.indexOf(report!)).toBeGreaterThan(lines.findLastIndex((l) => l.msg === 'shutdown phase'));
  return phases;
}

describe.each(FRAMEWORKS)('chaos: SIGTERM under load (%s, real process)', (framework: Framework) => {
  it('drains what is in flight, exits 0 in phase order, and a restart answers what Telegram kept: every note once', {
    timeout: 55_000,
  }, async () => {
    const emulator: BotApiEmulator = await createBotApiEmulator({
      setWebhookIntervalMs: 0,
      webhookMaxRetryDelayMs: 1_000, // the second run's webhook gets the kept updates soon
    });
    const tmp = tempDir();
    const script = framework === 'grammY' ? grammyBuild!.script : telegrafMain;
    const running: BotProcess[] = [];
    /** Starts the bot process and waits until it is ready. */
    const spawn = async () => {
      const bot = await spawnBot(script, emulator, redisServer!.url, tmp.dir);
      running.push(bot);
      await waitReady(bot);
      return bot;
    };
    const texts: string[] = [];
    /** A user writes note `i` in chat FIRST_CHAT + i. */
    const sendNote = () => {
      const i = texts.length;
      texts.push(`chaos-${i}`);
      emulator.sendMessage(FIRST_CHAT + i, `/note chaos-${i}`);
    };
    const isNoteChat = (chatId: number) => chatId >= FIRST_CHAT && chatId < FIRST_CHAT + texts.length;
    const noteReplies = () => emulator.sentMessages.filter((m) => isNoteChat(m.chat.id));
    try {
      // ---- run 1: load, SIGTERM while replies are in flight, keep sending -----------------------
      const first = await spawn();
      emulator.faults.inject('sendMessage', { kind: 'delay', delayMs: REPLY_DELAY_MS });
      const stepMs = 1000 / PER_SECOND;
      const loadStarted = performance.now();
      while (performance.now() - loadStarted < MS_BEFORE_SIGNAL) {
        sendNote();
        await sleep(stepMs);
      }
      await waitFor('a reply in flight', () =>
        emulator.requests.some((r) => r.method === 'sendMessage' && r.status === undefined),
      );
      const inFlightAtSignal = emulator.requests.filter(
        (r) => r.method === 'sendMessage' && r.status === undefined && isNoteChat(Number(r.params.chat_id)),
      ).length;
      const unansweredAtSignal = texts.length - noteReplies().length;
      const sentBeforeSignal = texts.length;
      const exit1 = terminate(first);
      const afterSignal = performance.now();
      while (performance.now() - afterSignal < MS_AFTER_SIGNAL) {
        sendNote();
        await sleep(stepMs);
      }
      const run1 = await exit1;
      const output1 = first.output();
      expect(run1.code, output1).toBe(0);
      const phases = expectOrderedTeardown(output1);
      const handledRun1 = noteReplies().length;
      const keptByTelegram = emulator.pendingUpdates.length;
      // Telegram kept at least the messages sent after the signal; the bot confirmed what it answered.
      expect(keptByTelegram).toBeGreaterThanOrEqual(texts.length - sentBeforeSignal);
      expect(handledRun1 + keptByTelegram).toBe(texts.length);

      // ---- run 2: the restarted bot drains what Telegram kept ------------------------------------
      emulator.faults.clear();
      const second = await spawn();
      await waitFor('every note answered', () => noteReplies().length >= texts.length, 30_000).catch(
        (error: unknown) => {
          throw new Error(`${String(error)}\n${second.output()}`);
        },
      );
      await waitFor('nothing left at Telegram', () => emulator.pendingUpdates.length === 0, 10_000);
      const run2 = await terminate(second);
      expect(run2.code, second.output()).toBe(0);
      expectOrderedTeardown(second.output());
      const handledRun2 = noteReplies().length - handledRun1;

      // ---- over both runs: every note once in the database, one reply per message -------------
      const rows = noteCounts(join(tmp.dir, 'bot.db'));
      const replies = new Map<number, string[]>();
      for (const m of noteReplies()) replies.set(m.chat.id, [...(replies.get(m.chat.id) ?? []), m.text ?? '']);
      let lost = 0;
      let duplicated = 0;
      texts.forEach((text, i) => {
        const saved = rows.get(text) ?? 0;
        const answers = replies.get(FIRST_CHAT + i)?.length ?? 0;
        if (saved === 0 || answers === 0) lost++;
        duplicated += Math.max(0, saved - 1) + Math.max(0, answers - 1);
      });
      const strayRows = [...rows.keys()].filter((text) => !texts.includes(text));

      recordFigures({
        scenario: 'SIGTERM under load (real process)',
        framework,
        figures: {
          sent: texts.length,
          sentAfterSignal: texts.length - sentBeforeSignal,
          handledRun1,
          handledRun2,
          lost,
          duplicated,
          inFlightAtSignal,
          unansweredAtSignal,
          keptByTelegram,
          exitCodes: `${run1.code}/${run2.code}`,
          msSignalToExit: run1.ms,
          msSignalToExitRun2: run2.ms,
          phases: phases.join('>'),
        },
      });

      expect(inFlightAtSignal).toBeGreaterThan(0); // the signal really came with replies in flight
      expect(texts.length - sentBeforeSignal).toBeGreaterThan(0);
      expect(handledRun1).toBeGreaterThan(0);
      expect(handledRun2).toBeGreaterThan(0);
      expect(lost).toBe(0);
      expect(duplicated).toBe(0);
      expect(strayRows).toEqual([]);
      expect([...rows.values()].reduce((a, b) => a + b, 0)).toBe(texts.length);
      // Each chat is one user with one note: exactly one reply, for their first note.
      for (const [chatId, answers] of replies) {
        expect(answers, `chat ${chatId}`).toHaveLength(1);
        expect(answers[0]).toMatch(/^Saved note #\d+ \(you have 1\)\.$/);
      }
    } finally {
      for (const bot of running) bot.kill('SIGKILL');
      await Promise.all(running.map((bot) => bot.exited));
      await emulator.close();
      tmp.cleanup();
    }
  });
});
