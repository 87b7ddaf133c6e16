/**
 * Measurements behind bench/failover.bench.ts. They live in the package so that grammY (a
 * devDependency of @botkit/failover, not of the repo root) resolves.
 */
import { waitFor } from '@botkit/test-harness';
import { testBotInfo } from '@botkit/testing';
import { once } from 'node:events';
import { Agent, createServer, type RequestListener, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Clock, ClockTimer } from '@botkit/core';
import { createFailover, grammyAdapter } from '@botkit/failover';
import { createBotApiEmulator } from '@botkit/testing';
import { Bot, webhookCallback } from 'grammy';

const SECRET = 'bench_secret-token';

/** A clock running `scale` times faster than wall time, on real timers. */
export function scaledClock(scale: number): Clock {
  const origin = Date.now();
  return {
    now: () => origin + (Date.now() - origin) * scale,
    setTimeout: (callback, ms) => setTimeout(callback, Math.max(0, ms) / scale) as unknown as ClockTimer,
    clearTimeout: (timer) => clearTimeout(timer as unknown as ReturnType<typeof setTimeout>),
  };
}

async function listen(handler: RequestListener) {
  const server = createServer(handler);
  server.keepAliveTimeout = 60_000;
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return {
    port,
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

const wallSleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

// Polls every 2 ms: the benchmark measures detection and switch times from these waits.
const until = (cond: () => boolean, what: string) => waitFor(what, cond, 30_000, 2);

/** One outage and recovery; times in scaled milliseconds. */
export async function detectionRun(
  scale: number,
): Promise<{ detectMs: number; toPollingMs: number; toWebhookMs: number }> {
  const clock = scaledClock(scale);
  const emulator = await createBotApiEmulator({ clock, random: () => 0 });
  let failover: ReturnType<typeof createFailover> | undefined;
  const server = await listen((req, res) => failover?.handler(req, res));
  const received: { at: number; source: string }[] = [];
  const modes: { at: number; to: string }[] = [];
  const f = createFailover({
    token: emulator.token,
    apiRoot: emulator.apiRoot,
    adapter: async () => {},
    webhook: { url: `${server.url}/tg`, secretToken: SECRET },
    clock,
    // Default detection; a short dwell only so that a run does not wait 120 s for the return.
    switching: { minPollingDwellMs: 10_000 },
  });
  failover = f;
  f.on('updateReceived', (info) => received.push({ at: clock.now(), source: info.source }));
  f.on('modeChange', (_from, to) => modes.push({ at: clock.now(), to }));
  let talking = true;
  const traffic = () => {
    if (!talking) return;
    emulator.sendMessage(1, 'tick');
    clock.setTimeout(traffic, 1000);
  };
  try {
    await f.start();
    traffic();
    // Go down at a random phase of the detection interval.
    await wallSleep((3000 + Math.random() * 10_000) / scale);
    const downAt = clock.now();
    emulator.faults.webhookUnreachable();
    await until(() => f.mode === 'polling', 'fall-back');
    const detectedAt = modes.find((m) => m.to === 'polling')!.at;
    const deleteAt = emulator.requests.find((q) => q.method === 'deleteWebhook')!.at;
    await until(() => received.some((r) => r.source === 'polling' && r.at >= deleteAt), 'first polled update');
    const firstPolled = received.find((r) => r.source === 'polling' && r.at >= deleteAt)!.at;
    emulator.faults.webhookReachable();
    await until(() => f.mode === 'webhook' && modes.length >= 3, 'return');
    const setAt = emulator.requests.filter((q) => q.method === 'setWebhook').at(-1)!.at;
    await until(() => received.some((r) => r.source === 'webhook' && r.at >= setAt), 'first webhook update');
    const firstHooked = received.find((r) => r.source === 'webhook' && r.at >= setAt)!.at;
    return { detectMs: detectedAt - downAt, toPollingMs: firstPolled - deleteAt, toWebhookMs: firstHooked - setAt };
  } finally {
    talking = false;
    await f.stop();
    await server.close();
    await emulator.close();
  }
}

const botInfo = testBotInfo({ first_name: 'Test' });

/**
 * Two node:http servers with the same grammY bot: ours (failover.handler) and grammY's own
 * webhookCallback; `load(which)` sends `requests` updates with `concurrency` keep-alive clients
 * and returns updates/s.
 */
export async function throughputRig(options: { requests: number; concurrency: number }) {
  const token = '1:bench-token-bench-token-bench-token';
  let handled = 0;
  const makeBot = () => {
    const bot = new Bot(token, { botInfo });
    bot.on('message', () => {
      handled += 1;
    });
    return bot;
  };
  const failover = createFailover({
    token,
    adapter: grammyAdapter(makeBot()),
    webhook: { url: 'https://bench.example/tg', secretToken: SECRET },
  });
  const ours = await listen(failover.handler);
  const theirs = await listen(webhookCallback(makeBot(), 'http', { secretToken: SECRET }));
  const agent = new Agent({ keepAlive: true, maxSockets: options.concurrency });
  let nextId = 1;
  const post = (port: number, body: string) =>
    new Promise<void>((resolve, reject) => {
      const req = request(
        {
          host: '127.0.0.1',
          port,
          path: '/tg',
          method: 'POST',
          agent,
          headers: {
            'content-type': 'application/json',
            'content-length': Buffer.byteLength(body),
            'x-telegram-bot-api-secret-token': SECRET,
          },
        },
        (res) => {
          res.resume();
          res.on('end', () => (res.statusCode === 200 ? resolve() : reject(new Error(`HTTP ${res.statusCode}`))));
        },
      );
      req.on('error', reject);
      req.end(body);
    });
  const load = async (which: 'ours' | 'grammy') => {
    const port = which === 'ours' ? ours.port : theirs.port;
    let sent = 0;
    const start = performance.now();
    const worker = async () => {
      while (sent < options.requests) {
        sent += 1;
        const id = nextId++;
        await post(
          port,
          JSON.stringify({
            update_id: id,
            message: { message_id: id, date: 1, chat: { id: id % 50, type: 'private', first_name: 'U' }, text: 'hi' },
          }),
        );
      }
    };
    await Promise.all(Array.from({ length: options.concurrency }, worker));
    return options.requests / ((performance.now() - start) / 1000);
  };
  return {
    load,
    get handled() {
      return handled;
    },
    async close() {
      agent.destroy();
      await ours.close();
      await theirs.close();
    },
  };
}
