import { type ChildProcess, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { type BotApiEmulator, createBotApiEmulator } from '@botkit/testing';
import { type RedisServer, startRedis } from '@botkit/test-harness';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const script = fileURLToPath(new URL('./fixtures/replica.ts', import.meta.url));
const LEASE_TTL_MS = 2000;

interface Replica {
  name: string;
  child: ChildProcess;
  events: Record<string, unknown>[];
  ready: Promise<void>;
  exited: Promise<void>;
}

let redis: RedisServer;
let emulator: BotApiEmulator;
const replicas: Replica[] = [];

function spawnReplica(name: string): Replica {
  const config = {
    name,
    apiRoot: emulator.apiRoot,
    token: emulator.token,
    redisUrl: redis.url,
    leaseTtlMs: LEASE_TTL_MS,
  };
  const child = spawn(
    process.execPath,
    [`${root}node_modules/tsx/dist/cli.mjs`, '--tsconfig', `${root}tsconfig.json`, script, JSON.stringify(config)],
    { cwd: root, stdio: ['pipe', 'pipe', 'inherit'] },
  );
  const events: Record<string, unknown>[] = [];
  let onReady!: () => void;
  const ready = new Promise<void>((resolve) => {
    onReady = resolve;
  });
  createInterface({ input: child.stdout! }).on('line', (line) => {
    try {
      const event = JSON.parse(line) as Record<string, unknown>;
      events.push({ ...event, at: Date.now() });
      if (event.event === 'ready') onReady();
    } catch {
      // not ours
    }
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const replica = { name, child, events, ready, exited };
  replicas.push(replica);
  return replica;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

beforeAll(async () => {
  redis = await startRedis();
  emulator = await createBotApiEmulator();
});

afterAll(async () => {
  for (const r of replicas) r.child.kill('SIGKILL');
  await emulator?.close();
  await redis?.cleanup();
});

describe('three replicas sharing a real Redis lease (real processes, real timers)', () => {
  it('one poller at a time, takeover within lease TTL + 5 s after a SIGKILL, nothing lost', async () => {
    emulator.faults.webhookUnreachable(); // Telegram cannot reach the webhook: the leader must poll.
    const alive = new Set<Replica>();
    for (const name of ['r1', 'r2', 'r3']) alive.add(spawnReplica(name));
    await Promise.all([...alive].map((r) => r.ready));

    let sending = true;
    let sent = 0;
    const traffic = (async () => {
      while (sending) {
        emulator.sendMessage(1 + (sent % 10), `#${sent}`);
        sent += 1;
        await sleep(50);
      }
    })();

    const takeovers: number[] = [];
    let seq = 3;
    for (let round = 0; round < 4; round++) {
      await sleep(1500);
      // Wait (bounded) until a live replica is the poller, so a leader kill measures a takeover.
      const poller = () => [...alive].find((r) => r.events.filter((e) => e.event === 'mode').at(-1)?.to === 'polling');
      for (let i = 0; i < 300 && !poller(); i++) await sleep(50);
      const leader = poller();
      expect(leader).toBeDefined();
      const list = [...alive];
      // Kill the poller most of the time, a follower otherwise.
      const victim = round % 3 === 2 ? (list.find((r) => r !== leader) ?? list[0]!) : leader!;
      const before = emulator.requests.length;
      victim.child.kill('SIGKILL');
      await victim.exited;
      const killedAt = Date.now(); // the process is gone: any later getUpdates is another replica's
      alive.delete(victim);
      if (victim === leader) {
        // Takeover: the next getUpdates is made by a new leader.
        for (let i = 0; i < 200; i++) {
          if (emulator.requests.slice(before).some((q) => q.method === 'getUpdates' && q.at >= killedAt)) break;
          await sleep(50);
        }
        const first = emulator.requests.slice(before).find((q) => q.method === 'getUpdates' && q.at >= killedAt);
        expect(first).toBeDefined();
        takeovers.push(first!.at - killedAt);
      }
      const fresh = spawnReplica(`r${++seq}`);
      alive.add(fresh);
      await fresh.ready;
    }
    sending = false;
    await traffic;
    // Let the current leader drain what is left.
    for (let i = 0; i < 200 && emulator.pendingUpdates.length > 0; i++) await sleep(50);
    for (const r of alive) r.child.kill('SIGTERM');
    await Promise.all([...alive].map((r) => r.exited));

    const handled = replicas.flatMap((r) =>
      r.events.filter((e) => e.event === 'handled').map((e) => e.updateId as number),
    );
    const conflicts = replicas.flatMap((r) => r.events.filter((e) => e.code === 'BOTKIT_FAILOVER_CONFLICT'));
    const unique = new Set(handled);
    console.info(
      `[replicas] ${sent} sent, ${unique.size} handled, ${handled.length - unique.size} handled twice (killed mid-handling), ` +
        `takeovers ${takeovers.join(', ')} ms`,
    );
    expect(takeovers.length).toBeGreaterThan(0);
    for (const t of takeovers) expect(t).toBeLessThanOrEqual(LEASE_TTL_MS + 5000);
    expect(conflicts).toEqual([]); // no two overlapping getUpdates from live replicas
    expect(emulator.requests.filter((q) => q.method === 'getUpdates' && q.status === 409)).toEqual([]);
    expect(unique.size).toBe(sent); // nothing lost
    expect(emulator.pendingUpdates).toEqual([]);
  }, 90_000);
});
