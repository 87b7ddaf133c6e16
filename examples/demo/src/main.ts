/**
 * botkit demo: the grammY example bot (examples/grammy-bot) against the offline Telegram Bot API
 * emulator, SQLite in a temporary directory and, when `redis-server` is installed, a real Redis.
 * A short scripted story breaks things on purpose and checks that every guarantee held:
 *
 *   1. users talk to the bot (webhook)
 *   2. the webhook becomes unreachable: the bot fails over to long polling, then goes back
 *   3. Redis is SIGKILLed and restarted: users are answered in degraded mode, one alert each way
 *   4. a backup is taken, verified, and restored over an unwanted change
 *   5. SIGTERM while updates are in flight: they drain; the next instance gets the rest
 *
 * Exits 0 only if every check passed. No token, no network: everything runs on 127.0.0.1.
 * `DEMO_NO_REDIS=1` plays the story as if redis-server were not installed.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Logger } from '@botkit/core';
import { freePort, MissingBinaryError, type RedisServer, startRedis, waitFor } from '@botkit/test-harness';
import { type BotApiEmulator, createBotApiEmulator } from '@botkit/testing';
import { type App, type AppConfig, createApp } from '../../grammy-bot/src/create-bot.js';

const t0 = Date.now();
const color = process.stdout.isTTY && !process.env.NO_COLOR;
const paint = (code: number, text: string) => (color ? `\u001b[${code}m${text}\u001b[0m` : text);
const dim = (s: string) => paint(2, s);
const bold = (s: string) => paint(1, s);
const stamp = () => dim(`${((Date.now() - t0) / 1000).toFixed(1).padStart(5)}s`);
const log = (who: string, text: string) => console.log(`${stamp()}  ${who.padEnd(9)} ${text}`);
const act = (title: string) => console.log(`\n${stamp()}  ${bold(`▶ ${title}`)}`);
const short = (text: string, max = 70) => {
  const line = text.replace(/\s+/g, ' ');
  return line.length > max ? `${line.slice(0, max - 1)}…` : line;
};
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const until = (what: string, cond: () => boolean | Promise<boolean>, timeoutMs = 15_000) =>
  waitFor(what, cond, timeoutMs, 25);

// ---- results --------------------------------------------------------------------------------
const checks: { name: string; ok: boolean }[] = [];
function check(name: string, ok: boolean): void {
  checks.push({ name, ok });
  log(ok ? paint(32, 'check') : paint(31, 'CHECK'), `${ok ? '✔' : '✘'} ${name}`);
}

const ADMIN_CHAT = 1000;
const USERS = [
  { id: 101, name: 'Alice' },
  { id: 102, name: 'Bob' },
  { id: 103, name: 'Chloé' },
];
const handledCount = new Map<number, number>();
const handledBy = new Map<number, string>();
let sent = 0;
const modeSwitches: string[] = [];
const logLines: string[] = [];

// The app logs JSON through this logger: kept (to check no secret leaks), printed with DEMO_VERBOSE=1.
const recordingLogger: Logger = (() => {
  const write = (level: string) => (objOrMsg: unknown, msg?: string) => {
    const line = JSON.stringify({ level, msg: typeof objOrMsg === 'string' ? objOrMsg : msg, ...(objOrMsg as object) });
    logLines.push(line);
    if (process.env.DEMO_VERBOSE) console.log(dim(`           ${line}`));
  };
  return { debug: write('debug'), info: write('info'), warn: write('warn'), error: write('error') } as Logger;
})();

// ---- setup ----------------------------------------------------------------------------------
console.log(bold('botkit demo') + dim(' — the grammY example bot, offline: Bot API emulator, SQLite, Redis'));
const dir = mkdtempSync(join(tmpdir(), 'botkit-demo-'));
const emulator: BotApiEmulator = await createBotApiEmulator({
  botInfo: { first_name: 'Demo Bot', username: 'botkit_demo_bot' },
  setWebhookIntervalMs: 0,
  webhookMaxRetryDelayMs: 1_000, // Telegram retries a failed webhook after up to 60-120 s; 1-2 s here
});
let redisServer: RedisServer | undefined;
if (!process.env.DEMO_NO_REDIS) {
  try {
    redisServer = await startRedis();
  } catch (error) {
    if (!(error instanceof MissingBinaryError)) throw error;
  }
}
const redisUrl = redisServer?.url ?? `redis://127.0.0.1:${await freePort()}`; // nothing listens there
log('setup', `Bot API emulator on ${emulator.apiRoot}`);
log(
  'setup',
  redisServer
    ? `redis-server on ${redisServer.url}`
    : paint(33, 'redis-server not available: the Redis circuit will serve sessions from memory (degraded)'),
);
log('setup', `SQLite and backups in ${dir}`);

async function configFor(instance: string): Promise<AppConfig> {
  const port = await freePort();
  return {
    token: emulator.token,
    apiRoot: emulator.apiRoot,
    redisUrl,
    databaseUrl: join(dir, 'bot.db'),
    webhook: {
      url: `http://127.0.0.1:${port}/telegram`,
      secretToken: 'demo_webhook_secret',
      port,
      host: '127.0.0.1',
    },
    adminChatId: ADMIN_CHAT,
    health: { port: 0, host: '127.0.0.1' },
    backup: { dir: join(dir, 'backups'), cron: '0 * * * *', retention: { keepLast: 24 }, maxAgeMs: 3_600_000 },
    shutdownTimeoutMs: 10_000,
    timings: {
      healthIntervalMs: 200,
      healthTimeoutMs: 2_000,
      failureThreshold: 2,
      recoveryThreshold: 2,
      detectionIntervalMs: 200,
      failuresToSwitch: 2,
      minPollingDwellMs: 2_000,
      probationMs: 1_000,
      pollTimeoutSeconds: 1,
      redisCommandTimeoutMs: 300,
      redisResetAfterMs: 300,
      redisMaxReconnectDelayMs: 200,
      maxIdleMs: 60_000,
    },
    logger: recordingLogger,
    shutdownOptions: { exit: () => {} }, // the demo reports and exits itself
    onUpdateHandled: (id) => {
      handledCount.set(id, (handledCount.get(id) ?? 0) + 1);
      handledBy.set(id, instance);
    },
  };
}

function observe(app: App, instance: string): void {
  app.failover?.on('modeChange', (from, to, reason) => {
    if (from !== 'stopped' && to !== 'stopped') modeSwitches.push(`${from}→${to}`);
    log('failover', `${instance}: ${from} → ${paint(36, to)} ${dim(`(${short(reason, 60)})`)}`);
  });
  app.circuit.on('stateChange', (from, to) => log('circuit', `redis breaker ${from} → ${paint(36, to)}`));
  app.monitor.on('stateChange', (c) => {
    if (c.from !== 'unknown')
      log('health', `${c.probe}: ${c.from} → ${c.to}${c.message ? dim(` (${short(c.message, 50)})`) : ''}`);
  });
  app.shutdown.on('phaseStarted', (phase) =>
    log('shutdown', `${instance}: phase ${paint(36, phase)} (in flight: ${app.shutdown.tracked})`),
  );
}

// Print what the bot sends, as it happens.
let printed = 0;
const printer = setInterval(() => {
  for (; printed < emulator.sentMessages.length; printed++) {
    const m = emulator.sentMessages[printed]!;
    if (m.chat.id === ADMIN_CHAT) log(paint(35, 'alert'), `to admin chat: ${short(m.text ?? '')}`);
    else log('bot', `→ ${USERS.find((u) => u.id === m.chat.id)?.name ?? m.chat.id}: ${short(m.text ?? '')}`);
  }
}, 20);

function say(userIndex: number, text: string): void {
  const user = USERS[userIndex % USERS.length]!;
  emulator.sendMessage(user.id, text, { from: { id: user.id, first_name: user.name } });
  sent++;
  log('user', `${user.name}: ${text}`);
}
const handledOnce = () => handledCount.size;
const repliesToUsers = () => emulator.sentMessages.filter((m) => m.chat.id !== ADMIN_CHAT).length;
async function allAnswered(what: string, timeoutMs = 15_000) {
  await until(what, () => handledOnce() >= sent && repliesToUsers() >= sent, timeoutMs);
}

let app = await createApp(await configFor('bot#1'));
observe(app, 'bot#1');
let exitCode = 1;
try {
  await app.start();
  await app.monitor.runAll();
  log('bot', `bot#1 started in ${paint(36, app.mode)} mode; health on ${app.healthServer.url}`);

  // ---- act 1 --------------------------------------------------------------------------------
  act('Act 1 — users talk to the bot');
  say(0, '/start');
  say(1, '/count');
  say(2, '/note buy oat milk');
  say(1, '/count');
  await allAnswered('act 1 answers');
  const readyCode = (await fetch(`${app.healthServer.url}/ready`)).status;
  check(`every message answered on the webhook; /ready answers ${readyCode}`, readyCode === 200);

  // ---- act 2 --------------------------------------------------------------------------------
  act('Act 2 — Telegram can no longer reach the webhook');
  emulator.faults.webhookUnreachable();
  log('chaos', 'webhook unreachable (connection refused from Telegram’s side)');
  say(0, '/count');
  say(2, 'hello?');
  await until('fall-back to polling', () => app.mode === 'polling');
  say(1, '/note the bot still answers while polling');
  await allAnswered('answers while polling');
  check('the bot fell back to long polling and kept answering', app.mode === 'polling');
  emulator.faults.webhookReachable();
  log('chaos', 'webhook reachable again');
  await until('return to the webhook', () => app.mode === 'webhook', 20_000);
  say(0, '/count');
  await allAnswered('answers back on the webhook');
  check('back on the webhook once it was reachable', app.mode === 'webhook');

  // ---- act 3 --------------------------------------------------------------------------------
  act('Act 3 — Redis dies');
  const redisAlerts = () =>
    emulator.sentMessages.filter(
      (m) => m.chat.id === ADMIN_CHAT && /redis\b/.test(m.text ?? '') && !/circuit/.test(m.text ?? ''),
    );
  if (redisServer) {
    await redisServer.kill();
    log('chaos', 'redis-server SIGKILLed');
    say(1, '/count');
    say(2, '/count');
    await allAnswered('degraded answers');
    check('users answered in degraded mode while Redis is down', repliesToUsers() >= sent);
    await until('redis failure alert', () => redisAlerts().length >= 1);
    await redisServer.restart();
    log('chaos', 'redis-server restarted (empty: the demo runs it without persistence)');
    await until('breaker closed', () => app.circuit.state === 'closed');
    say(1, '/count');
    await allAnswered('answers after Redis returned');
    await until('redis recovery alert', () => redisAlerts().length >= 2);
    await sleep(600); // a few more health checks: no further alert may follow
    const texts = redisAlerts().map((m) => m.text ?? '');
    check(
      'exactly one alert when Redis failed and one when it recovered',
      texts.length === 2 && /unhealthy/.test(texts[0]!) && /recovered/.test(texts[1]!),
    );
    check('the breaker closed after Redis returned', app.circuit.state === 'closed');
  } else {
    say(1, '/count');
    say(2, '/count');
    await allAnswered('degraded answers');
    await until('redis failure alert', () => redisAlerts().length >= 1);
    check('without Redis, users are answered from the in-memory fallback', app.circuit.state !== 'closed');
    check('one alert tells the admin that Redis is unhealthy', redisAlerts().length === 1);
  }

  // ---- act 4 --------------------------------------------------------------------------------
  act('Act 4 — backup, verify, restore');
  const notesBefore = await app.notes.countAll();
  const backup = await app.backups.backup({ label: 'demo' });
  log(
    'backup',
    `taken: ${backup.id} (${backup.compressedBytes} bytes, ${backup.compression}, sha256 ${backup.sha256.slice(0, 12)}…)`,
  );
  const verified = await app.backups.verify(backup.id, { deep: true });
  log(
    'backup',
    `verified (deep): ${verified.ok ? 'ok' : verified.problem} ${dim(JSON.stringify(verified.tables ?? {}))}`,
  );
  check('the backup verifies (checksum and SQLite integrity check)', verified.ok && verified.deep);
  say(2, '/note a note that will be rolled back');
  await allAnswered('note saved');
  const notesAfter = await app.notes.countAll();
  const restored = await app.backups.restore(backup.id);
  log(
    'backup',
    `restored ${restored.id} in ${restored.durationMs} ms (safety backup ${restored.safetyBackupId ?? 'none'})`,
  );
  const notesRestored = await app.notes.countAll();
  log('backup', `notes: ${notesBefore} at backup, ${notesAfter} after the change, ${notesRestored} after restore`);
  check(
    'restore brought the database back to the backup, live',
    notesRestored === notesBefore && notesAfter === notesBefore + 1,
  );
  say(2, '/note');
  await allAnswered('notes listed');

  // ---- act 5 --------------------------------------------------------------------------------
  act('Act 5 — SIGTERM while updates are in flight');
  emulator.faults.inject('sendMessage', { kind: 'delay', delayMs: 1_200 }, { times: 2 });
  say(0, '/count');
  say(1, '/note written during shutdown');
  say(2, '/start');
  await until('updates in flight', () => app.shutdown.tracked > 0);
  const inFlight = app.shutdown.tracked;
  const answeredBefore = repliesToUsers();
  app.shutdown.install(); // what main.ts does; `exit` is overridden below so the demo can go on
  log('signal', 'SIGTERM sent to this process (as Kubernetes or `docker stop` would)');
  process.kill(process.pid, 'SIGTERM');
  await until('SIGTERM received', () => app.shutdown.isShuttingDown, 5_000);
  const stopping = app.shutdown.shutdown(); // joins the run the signal started
  say(1, '/count'); // arrives while bot#1 is stopping: handled now, or refused and delivered again later
  const lateUpdateId = sent;
  const readyDuring = (await fetch(`${app.healthServer.url}/ready`)).status;
  log('health', `/ready during shutdown: ${readyDuring}`);
  const report = await stopping;
  app.shutdown.uninstall();
  for (const h of report.hooks)
    log('shutdown', `${h.phase.padEnd(11)} ${h.name.padEnd(15)} ${h.outcome} ${dim(`${h.durationMs} ms`)}`);
  log('shutdown', `tasks: ${JSON.stringify(report.tasks)}; exit code ${report.exitCode}`);
  check('/ready turned 503 as soon as shutdown started', readyDuring === 503);
  check(
    `the ${inFlight} update(s) in flight were answered before the process would exit, exit code 0`,
    report.exitCode === 0 && inFlight > 0 && repliesToUsers() >= answeredBefore + inFlight,
  );

  act('Epilogue — the next instance starts and receives whatever was left');
  app = await createApp(await configFor('bot#2'));
  observe(app, 'bot#2');
  await app.start();
  await allAnswered('every update handled', 20_000);
  log('bot', `the update sent during the shutdown was handled by ${handledBy.get(lateUpdateId) ?? 'nobody'}`);
  await sleep(300);
  const final = await app.stop('end of demo');
  check('bot#2 stopped cleanly', final.exitCode === 0);

  // ---- summary ------------------------------------------------------------------------------
  const duplicated = [...handledCount.values()].filter((n) => n > 1).length;
  const lost = Array.from({ length: sent }, (_, i) => i + 1).filter((id) => !handledCount.has(id)).length;
  const handled = [...handledCount.values()].reduce((a, b) => a + b, 0);
  const alertsSent = emulator.sentMessages.filter((m) => m.chat.id === ADMIN_CHAT).length;
  const backupsList = await app.backups.list();
  const leaked = logLines.some((l) => l.includes(emulator.token) || l.includes('demo_webhook_secret'));
  check(
    `every update handled exactly once (${sent} sent, ${lost} lost, ${duplicated} duplicated)`,
    lost === 0 && duplicated === 0 && handled === sent,
  );
  check('every user message got an answer', repliesToUsers() === sent);
  check('no token or webhook secret in the logs', !leaked);

  const rows: [string, string | number][] = [
    ['updates sent', sent],
    ['updates handled', handled],
    ['updates duplicated', duplicated],
    ['updates lost', lost],
    ['mode switches', `${modeSwitches.length} (${modeSwitches.join(', ')})`],
    ['alerts sent to admin', alertsSent],
    ['backups (taken incl. safety)', backupsList.length],
    ['redis', redisServer ? 'real, killed and restarted' : 'absent (degraded mode)'],
    ['checks passed', `${checks.filter((c) => c.ok).length}/${checks.length}`],
  ];
  const w = Math.max(...rows.map(([k]) => k.length));
  const v = Math.max(...rows.map(([, val]) => String(val).length));
  console.log(`\n  ┌${'─'.repeat(w + 2)}┬${'─'.repeat(v + 2)}┐`);
  for (const [k, val] of rows) console.log(`  │ ${k.padEnd(w)} │ ${String(val).padEnd(v)} │`);
  console.log(`  └${'─'.repeat(w + 2)}┴${'─'.repeat(v + 2)}┘`);
  const passed = checks.every((c) => c.ok);
  console.log(
    `\nRESULT: ${passed ? 'PASS' : 'FAIL'} — ${sent} updates sent, ${handled} handled, ${duplicated} duplicated, ${lost} lost, ${modeSwitches.length} mode switches, ${alertsSent} alerts, ${backupsList.length} backups (${((Date.now() - t0) / 1000).toFixed(1)} s)`,
  );
  exitCode = passed ? 0 : 1;
} catch (error) {
  console.error(`\n${paint(31, 'demo failed:')} ${(error as Error).stack ?? String(error)}`);
  await app.stop('demo failed').catch(() => {});
  console.log('\nRESULT: FAIL');
} finally {
  clearInterval(printer);
  await emulator.close();
  await redisServer?.cleanup();
  rmSync(dir, { recursive: true, force: true });
}
process.exit(exitCode);
