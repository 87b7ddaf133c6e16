/**
 * A real grammY / Telegraf bot in a child process (fixtures/bot.ts) polls the @botkit/testing
 * Bot API emulator running in this process, and receives SIGTERM while handling 50 slow updates.
 * Then a second bot process starts against the same emulator. Across both: every update handled
 * exactly once (0 lost, 0 duplicated), every handler that started finished, and the first bot
 * confirmed its offset before exiting. The same for a grammY webhook: updates delivered after
 * SIGTERM are refused with 503 and delivered again by the emulator to the next process.
 */
import { type BotApiEmulator, createBotApiEmulator } from '@botkit/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { type Child, type ChildEvent, startFixture } from './helpers.js';

let emulator: BotApiEmulator | undefined;
const children: Child[] = [];

afterEach(async () => {
  for (const child of children.splice(0)) if (child.process.exitCode === null) child.process.kill('SIGKILL');
  await emulator?.close();
  emulator = undefined;
});

const ids = (child: Child, event: string) => child.all(event).map((e) => e.id as number);
const count = (events: ChildEvent[], event: string) => events.filter((e) => e.event === event).length;
const sorted = (list: number[]) => [...list].sort((a, b) => a - b);

function startBot(e: BotApiEmulator, framework: string, handlerMs: number): Child {
  const child = startFixture('bot', [framework], {
    EMULATOR_API_ROOT: e.apiRoot,
    EMULATOR_TOKEN: e.token,
    HANDLER_MS: String(handlerMs),
  });
  children.push(child);
  return child;
}

describe.each([
  // grammY's built-in poller handles updates one after another: SIGTERM arrives mid-batch, the
  // update being handled finishes, the rest of the batch is refused and left to the next process.
  { framework: 'grammy', handlerMs: 60, signalAfter: (events: ChildEvent[]) => count(events, 'handled') >= 10 },
  // Telegraf's poller handles a whole batch at once: SIGTERM arrives while all 50 are in flight.
  { framework: 'telegraf', handlerMs: 800, signalAfter: (events: ChildEvent[]) => count(events, 'handling') >= 50 },
])('$framework polling the @botkit/testing emulator', ({ framework, handlerMs, signalAfter }) => {
  it('SIGTERM while handling 50 slow updates: every handler finishes, the offset is confirmed, a restarted bot gets none of them again', async () => {
    emulator = await createBotApiEmulator();
    for (let i = 1; i <= 50; i++) emulator.sendMessage(1000 + i, `message ${i}`);
    const updateIds = emulator.pendingUpdates.map((u) => u.update_id);
    expect(updateIds).toHaveLength(50);

    const first = startBot(emulator, framework, handlerMs);
    await first.waitUntil(signalAfter);
    first.process.kill('SIGTERM');
    const { code } = await first.exited;

    expect(code, first.stderr()).toBe(0);
    expect(first.all('error')).toEqual([]);
    const started = ids(first, 'handling');
    const finished = ids(first, 'handled');
    expect(started.length).toBeGreaterThan(0);
    // Every handler that started, finished (and replied) before the process exited.
    expect(sorted(finished)).toEqual(sorted(started));
    // The drain phase waited for the updates the middleware tracked; none had to be aborted.
    const report = first.find('shutdownFinished') as ChildEvent & { tasks: Record<string, number> };
    expect(report).toMatchObject({ exitCode: 0, tasks: { aborted: 0, abandoned: 0 } });
    expect(report.tasks.completed).toBe(report.tasks.inFlight);
    if (framework === 'telegraf') expect(report.tasks.inFlight).toBe(50);
    // The offset was confirmed: the emulator keeps exactly the updates the first bot did not handle.
    const left = updateIds.filter((id) => !finished.includes(id));
    expect(emulator.pendingUpdates.map((u) => u.update_id)).toEqual(left);
    if (framework === 'grammy') {
      // The rest of the batch reached the middleware after bot.stop() and was refused, unhandled.
      expect(left.length).toBeGreaterThan(0);
      expect(sorted(ids(first, 'refused'))).toEqual(left);
    } else {
      expect(left).toEqual([]);
    }

    const second = startBot(emulator, framework, 5);
    await second.waitUntil((events) => count(events, 'handled') >= left.length);
    const sentinel = emulator.sendMessage(1, 'sentinel');
    await second.waitUntil((events) => count(events, 'handled') >= left.length + 1);
    second.process.kill('SIGTERM');
    expect((await second.exited).code, second.stderr()).toBe(0);

    // 0 lost, 0 duplicated: across both processes every update was handled exactly once.
    const handled = [...finished, ...ids(second, 'handled')];
    expect(sorted(handled)).toEqual([...updateIds, updateIds.at(-1)! + 1]);
    const replies = emulator.sentMessages.map((m) => m.text);
    expect(replies).toHaveLength(51);
    expect(new Set(replies).size).toBe(51);
    expect(replies).toContain(`done ${sentinel.text}`);
  });
});

describe('grammY webhook behind the @botkit/testing emulator', () => {
  it('updates arriving after SIGTERM are refused with a non-2xx answer and delivered again to the next process', async () => {
    emulator = await createBotApiEmulator();
    const first = startBot(emulator, 'grammy-webhook', 1500);
    await first.waitFor('ready');
    for (let i = 1; i <= 20; i++) emulator.sendMessage(2000 + i, `early ${i}`);
    await first.waitUntil((events) => count(events, 'handling') >= 20);
    first.process.kill('SIGTERM');
    await first.waitFor('shutdownStarted');
    const late = Array.from({ length: 5 }, (_, i) => emulator!.sendMessage(3000 + i, `late ${i}`));
    await first.waitUntil((events) => count(events, 'refused') >= 1);
    const { code } = await first.exited;

    expect(code, first.stderr()).toBe(0);
    expect(first.all('error')).toEqual([]);
    const early = sorted(ids(first, 'handling'));
    expect(early).toHaveLength(20);
    // Every update in flight at SIGTERM finished; every update delivered later was refused.
    expect(sorted(ids(first, 'handled'))).toEqual(early);
    const refused = ids(first, 'refused');
    expect(refused.every((id) => !early.includes(id))).toBe(true);

    const second = startBot(emulator, 'grammy-webhook', 5);
    await second.waitUntil((events) => count(events, 'handled') >= late.length, 30_000);
    second.process.kill('SIGTERM');
    expect((await second.exited).code, second.stderr()).toBe(0);

    // The next process received exactly the updates the first one refused or never saw.
    const lateIds = late.map((_, i) => early.at(-1)! + 1 + i);
    expect(refused.length).toBeGreaterThan(0);
    expect(refused.every((id) => lateIds.includes(id))).toBe(true);
    expect(sorted(ids(second, 'handled'))).toEqual(lateIds);
    // 0 lost, 0 duplicated across both processes.
    const handled = [...ids(first, 'handled'), ...ids(second, 'handled')];
    expect(new Set(handled).size).toBe(handled.length);
    expect(handled).toHaveLength(25);
    const replies = emulator.sentMessages.map((m) => m.text);
    expect(replies).toHaveLength(25);
    expect(new Set(replies).size).toBe(25);
    for (const message of late) expect(replies).toContain(`done ${message.text}`);
  });
});
