/**
 * Chaos: malformed and hostile requests to the bot's webhook port, interleaved with real traffic.
 * While users write to the bot (delivered by the emulator through the webhook), an attacker hits
 * the same port concurrently and repeatedly with every kind of bad request, two slowloris
 * connections stay open, and handled updates are replayed with the right secret. The endpoint of
 * @botkit/failover must reject each bad request with its exact 4xx before anything reaches the
 * bot, acknowledge replays without handling them twice, keep serving real traffic (0 lost, 0
 * duplicated, every message answered), and stop cleanly with the slowloris connections open.
 */
import { sleep } from '@botkit/core';
import { type RedisServer, startRedis, waitFor } from '@botkit/test-harness';
import { type BotApiEmulator, createBotApiEmulator } from '@botkit/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { recordFigures } from './figures.js';
import {
  type HostileRequest,
  type Outcome,
  RecordingLedger,
  type Slowloris,
  send,
  slowloris,
} from './hostile-webhook-support.js';
import {
  createExampleApp,
  type ExampleApp,
  type Framework,
  FRAMEWORKS,
  type Load,
  startLoad,
  tempDir,
  testConfig,
} from './kit.js';

const CHATS = 10;
const PER_SECOND = 20;
/** Attack rounds; every round fires the whole catalogue at once. */
const ROUNDS = 12;
/** The attacker's own chat: the bot must never write there. */
const ATTACKER_CHAT = 666;
/** update_ids the attacker makes up (far from the emulator's). */
const FORGED_ID = 900_000_000;
/** The endpoint's default body limit (webhook.maxBodyBytes of @botkit/failover). */
const MAX_BODY = 1_048_576;

let redis: RedisServer;

beforeAll(async () => {
  redis = await startRedis();
});
afterAll(async () => {
  await redis?.cleanup();
});

/** One entry of the attacker's catalogue: what is sent and which status the endpoint must answer. */
interface Attack {
  /** Short name of the kind of attack (a figure). */
  category: string;
  /** What this variant does, for failure messages. */
  what: string;
  expected: number;
  request: HostileRequest;
}

/** A forged message update from the attacker's chat (valid in shape: only the checks stop it). */
function forgedUpdate(n: number): string {
  return JSON.stringify({
    update_id: FORGED_ID + n,
    message: {
      message_id: 1,
      date: Math.floor(Date.now() / 1000),
      chat: { id: ATTACKER_CHAT, type: 'private', first_name: 'Mallory' },
      from: { id: ATTACKER_CHAT, is_bot: false, first_name: 'Mallory' },
      text: '/start',
    },
  });
}

/**
 * The attacker's catalogue for one round: every malformed or hostile request with the status the
 * failover's endpoint answers it with (path 404, method 405, secret 401, size 413, JSON 400), and
 * replays of real updates Telegram already got a 200 for (acknowledged with 200, never handled again).
 */
function catalogue(path: string, secret: string, round: number, replays: readonly string[]): Attack[] {
  const json = { 'content-type': 'application/json' };
  const authed = { ...json, 'x-telegram-bot-api-secret-token': secret };
  const n = round * 100;
  const forged = forgedUpdate(n);
  const sameLength = secret.slice(0, -1) + (secret.endsWith('a') ? 'b' : 'a');
  /** A POST to the webhook path, with the right secret unless `headers` say otherwise. */
  const post = (body: string, headers: Record<string, string> = authed): HostileRequest => ({
    method: 'POST',
    path,
    headers,
    body,
  });
  /** `depth` arrays nested in each other. */
  const nested = (depth: number) => '['.repeat(depth) + ']'.repeat(depth);
  /** `depth` objects nested in each other, none with an update_id. */
  const nestedObject = (depth: number) => `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`;
  const attacks: Attack[] = [
    { category: 'noSecret', what: 'no secret header', expected: 401, request: post(forged, json) },
    {
      category: 'wrongSecret',
      what: 'wrong secret, same length',
      expected: 401,
      request: post(forged, { ...json, 'x-telegram-bot-api-secret-token': sameLength }),
    },
    {
      category: 'wrongSecret',
      what: 'wrong secret, longer',
      expected: 401,
      request: post(forged, { ...json, 'x-telegram-bot-api-secret-token': `${secret}x` }),
    },
    {
      category: 'wrongSecret',
      what: 'wrong secret, shorter',
      expected: 401,
      request: post(forged, { ...json, 'x-telegram-bot-api-secret-token': secret.slice(0, 4) }),
    },
    {
      category: 'wrongSecret',
      what: 'empty secret',
      expected: 401,
      request: post(forged, { ...json, 'x-telegram-bot-api-secret-token': '' }),
    },
    ...['GET', 'PUT', 'DELETE', 'PATCH'].map(
      (method): Attack => ({
        category: 'method',
        what: method,
        expected: 405,
        request: {
          method,
          path,
          headers: authed,
          ...(method === 'GET' || method === 'DELETE' ? {} : { body: forged }),
        },
      }),
    ),
    ...[`${path}/`, `${path}x`, '/', `${path}/../${path.slice(1)}x`].map(
      (wrong): Attack => ({
        category: 'wrongPath',
        what: `POST ${wrong}`,
        expected: 404,
        request: { ...post(forged), path: wrong },
      }),
    ),
    { category: 'notJson', what: 'plain text', expected: 400, request: post('hello bot') },
    { category: 'notJson', what: 'empty body', expected: 400, request: post('') },
    { category: 'truncated', what: 'truncated JSON', expected: 400, request: post(forged.slice(0, -7)) },
    { category: 'notObject', what: 'JSON array', expected: 400, request: post(`[${forged}]`) },
    { category: 'notObject', what: 'JSON number', expected: 400, request: post('42') },
    { category: 'notObject', what: 'JSON null', expected: 400, request: post('null') },
    { category: 'notObject', what: 'JSON string', expected: 400, request: post('"update"') },
    {
      category: 'badUpdateId',
      what: 'no update_id',
      expected: 400,
      request: post(JSON.stringify({ ...JSON.parse(forged), update_id: undefined })),
    },
    ...[FORGED_ID + n + 0.5, String(FORGED_ID + n + 1), -1, 2 ** 53 + 2, null, true].map(
      (id): Attack => ({
        category: 'badUpdateId',
        what: `update_id ${JSON.stringify(id)}`,
        expected: 400,
        request: post(JSON.stringify({ ...JSON.parse(forged), update_id: id })),
      }),
    ),
    {
      category: 'oversized',
      what: 'declared Content-Length above the limit',
      expected: 413,
      request: {
        method: 'POST',
        path,
        headers: { ...authed, 'content-length': String(2 * MAX_BODY) },
        streamBytes: 2 * MAX_BODY,
      },
    },
    {
      category: 'oversized',
      what: 'chunked body above the limit',
      expected: 413,
      request: { method: 'POST', path, headers: authed, streamBytes: 2 * MAX_BODY },
    },
    { category: 'nested', what: 'arrays nested 100000 deep', expected: 400, request: post(nested(100_000)) },
    { category: 'nested', what: 'objects nested 50000 deep', expected: 400, request: post(nestedObject(50_000)) },
    ...replays.map(
      (body): Attack => ({
        category: 'replayWrongSecret',
        what: 'replay of a real update with a wrong secret',
        expected: 401,
        request: post(body, { ...json, 'x-telegram-bot-api-secret-token': sameLength }),
      }),
    ),
    ...replays.map(
      (body): Attack => ({
        category: 'replay',
        what: 'replay of a handled update',
        expected: 200,
        request: post(body),
      }),
    ),
  ];
  return attacks;
}

/** Runs the scenario for one framework; asserts and records figures. */
async function hostileWebhook(framework: Framework, firstChat: number): Promise<void> {
  const started = performance.now();
  const tmp = tempDir();
  let emulator: BotApiEmulator | undefined;
  let app: ExampleApp | undefined;
  let load: Load | undefined;
  const slow: Slowloris[] = [];
  try {
    emulator = await createBotApiEmulator();
    const em = emulator;
    const ledger = new RecordingLedger(emulator);
    const handledOrder: number[] = [];
    const config = await testConfig(emulator, redis.url, tmp.dir);
    config.onUpdateHandled = (id) => {
      ledger.onHandledTimed(id);
      handledOrder.push(id);
    };
    app = await createExampleApp(framework, config);
    const failover = app.failover;
    if (!failover) throw new Error('the example runs without a failover although a webhook is configured');
    const skipped = { webhook: 0, polling: 0 };
    failover.on('duplicateSkipped', (info) => {
      skipped[info.source] += 1;
    });
    const modes: string[] = [];
    failover.on('modeChange', (_from, to) => modes.push(to));
    await app.start();
    expect(app.mode).toBe('webhook');
    const { port, secretToken, url } = config.webhook!;
    const path = new URL(url).pathname;

    load = startLoad(ledger, { perSecond: PER_SECOND, chats: CHATS, firstChat });
    await waitFor('real traffic flowing', () => ledger.handledCount >= CHATS, 15_000);

    // Two connections that never finish their request: one inside the body, one inside the headers.
    slow.push(
      slowloris(
        port,
        `POST ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n` +
          `X-Telegram-Bot-Api-Secret-Token: ${secretToken}\r\nContent-Length: 100000\r\n\r\n{"update_id":`,
        '1',
      ),
      slowloris(port, `POST ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Telegram-Bot-Api-Secret-`, 'Token: x'),
    );

    const results: (Attack & { outcome: Outcome })[] = [];
    const replayed: number[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      // Updates Telegram already got a 200 for (handled and completed): replaying them must not
      // reach the bot again. Two per round, different each time.
      /** Real updates Telegram got a 200 for, not replayed yet. */
      const replayable = () =>
        [...new Set(em.webhookDeliveries.filter((d) => d.ok).map((d) => d.updateId))].filter(
          (id) => ledger.sent.has(id) && !replayed.includes(id),
        );
      await waitFor('two handled updates to replay', () => replayable().length >= 2, 15_000);
      const ids = replayable().slice(-2);
      replayed.push(...ids);
      const attacks = catalogue(
        path,
        secretToken,
        round,
        ids.map((id) => ledger.json.get(id)!),
      );
      await Promise.all(
        attacks.map(async (attack) => results.push({ ...attack, outcome: await send(port, attack.request) })),
      );
      await sleep(250);
    }
    const attackSeconds = (performance.now() - started) / 1000;
    await load.stop();
    await ledger.settle(30_000);
    const chats = [...new Set(ledger.sent.values())];
    /** Answers the bot sent in the real users' chats. */
    const replies = () => chats.reduce((n, chat) => n + ledger.repliesIn(chat), 0);
    await waitFor('every real message answered', () => replies() >= ledger.sent.size, 15_000);
    await sleep(300); // a late second handling or answer would show up here

    // The slowloris connections are still open, unanswered, when the bot is told to stop.
    const openAtStop = slow.filter((s) => !s.closed).length;
    const answeredSlowloris = slow.filter((s) => s.answered).length;
    const stopStarted = performance.now();
    const report = await app.stop('test: stop with slowloris connections open');
    const stopSeconds = (performance.now() - stopStarted) / 1000;
    app = undefined;
    await Promise.race([Promise.all(slow.map((s) => s.closedPromise)), sleep(5_000)]);
    const closedByServer = slow.filter((s) => s.closed).length;

    const hostile = results.filter((r) => r.category !== 'replay');
    const replays = results.filter((r) => r.category === 'replay');
    const wrong = results.filter((r) => r.outcome.status !== r.expected);
    const byCategory: Record<string, number> = {};
    for (const r of hostile) byCategory[r.category] = (byCategory[r.category] ?? 0) + 1;
    const figures = {
      sent: ledger.sent.size,
      handled: ledger.handledCount,
      lost: ledger.lost.length,
      duplicated: ledger.duplicated,
      replies: replies(),
      hostile: hostile.length + slow.length,
      ...byCategory,
      slowloris: slow.length,
      rejected: hostile.filter(
        (r) => r.outcome.status !== undefined && r.outcome.status >= 400 && r.outcome.status < 500,
      ).length,
      accepted: hostile.filter((r) => r.outcome.status !== undefined && r.outcome.status < 300).length,
      unanswered: hostile.filter((r) => r.outcome.status === undefined).length,
      replays: replays.length,
      replaysAcknowledged: replays.filter((r) => r.outcome.status === 200).length,
      replaysSkipped: skipped.webhook,
      attackerMessages: em.sentMessages.filter((m) => m.chat.id === ATTACKER_CHAT).length,
      realP95Ms: Math.round(ledger.latencyQuantile(0.95)),
      slowlorisOpenAtStop: openAtStop,
      slowlorisClosedByStop: closedByServer,
      stopMs: Math.round(stopSeconds * 1000),
      attackSeconds: Number(attackSeconds.toFixed(1)),
      wallSeconds: Number(((performance.now() - started) / 1000).toFixed(1)),
    };
    recordFigures({ scenario: 'hostile webhook requests', framework, figures });

    // Every bad request got exactly its status (a timeout or a reset is not a rejection).
    expect(
      wrong.map((r) => `${r.what}: expected ${r.expected}, got ${JSON.stringify(r.outcome)}`),
      'answers that differ from the expected status',
    ).toEqual([]);
    expect(results.filter((r) => r.expected === 405).every((r) => r.outcome.allow === 'POST')).toBe(true);
    expect(figures.accepted).toBe(0);
    expect(figures.rejected).toBe(hostile.length);
    expect(figures.replays).toBe(ROUNDS * 2);
    expect(figures.replaysAcknowledged).toBe(figures.replays);
    expect(figures.replaysSkipped).toBeGreaterThanOrEqual(figures.replays);
    // Nothing hostile reached a handler.
    expect(handledOrder.filter((id) => !ledger.sent.has(id))).toEqual([]);
    expect(figures.attackerMessages).toBe(0);
    // Real traffic went through untouched.
    expect(figures.lost).toBe(0);
    expect(figures.duplicated).toBe(0);
    expect(figures.handled).toBe(figures.sent);
    expect(figures.replies).toBe(figures.sent);
    expect(modes).toEqual(['webhook', 'stopped']); // no failover to polling: the endpoint stayed healthy
    // The slowloris connections stayed open and unanswered until the stop, which closed them.
    expect(figures.slowlorisOpenAtStop).toBe(slow.length);
    expect(answeredSlowloris).toBe(0);
    expect(report.exitCode).toBe(0);
    expect(report.timedOut).toBe(false);
    expect(report.hooks.filter((h) => h.outcome !== 'ok').map((h) => `${h.name}: ${h.outcome}`)).toEqual([]);
    expect(figures.slowlorisClosedByStop).toBe(slow.length);
  } finally {
    for (const s of slow) s.stop();
    await load?.stop();
    await app?.stop('test finished');
    await emulator?.close();
    tmp.cleanup();
  }
}

describe('chaos: hostile webhook requests', () => {
  it.each(FRAMEWORKS.map((f, i) => [f, 2000 + i * 100] as const))(
    '%s: every bad request gets its exact 4xx, replays are not handled twice, real traffic intact, stop with slowloris open',
    (framework, firstChat) => hostileWebhook(framework, firstChat),
    60_000,
  );
});
