/**
 * Spawns a test fixture as a real child process: `node --import tsx <fixture>` (one process: tsx's
 * loader runs in it, so signals reach our code directly, unlike the `tsx` CLI, which relays them
 * through a parent). TSX_TSCONFIG_PATH points tsx at the root tsconfig.json, whose `paths` resolve
 * `@botkit/*` to the TypeScript sources: no build step and never a stale dist, locally and in CI.
 *
 * Fixtures write one JSON line per event to stdout, stamped with the child's own clock (`at`).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const tsxLoader = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;

export interface ChildEvent {
  event: string;
  at: number;
  [key: string]: unknown;
}

export interface Child {
  process: ChildProcess;
  events: ChildEvent[];
  stderr: () => string;
  /** Resolves with the first event named `event`; rejects if the child exits first or after `timeoutMs`. */
  waitFor(event: string, timeoutMs?: number): Promise<ChildEvent>;
  /** Resolves once `predicate(events)` holds; rejects if the child exits first or after `timeoutMs`. */
  waitUntil(predicate: (events: ChildEvent[]) => boolean, timeoutMs?: number): Promise<void>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; parentAt: number }>;
  find(event: string): ChildEvent | undefined;
  all(event: string): ChildEvent[];
}

/**
 * Starts `fixtures/<fixture>.ts` with `args`, and `env` added to the environment.
 */
export function startFixture(fixture: string, args: string[], env: Record<string, string> = {}): Child {
  const file = fileURLToPath(new URL(`./fixtures/${fixture}.ts`, import.meta.url));
  const child = spawn(process.execPath, ['--import', tsxLoader, file, ...args], {
    cwd: root,
    env: { ...process.env, TSX_TSCONFIG_PATH: `${root}tsconfig.json`, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const events: ChildEvent[] = [];
  const waiters: Array<() => void> = [];
  let buffer = '';
  let stderr = '';
  child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
    buffer += chunk;
    let newline = buffer.indexOf('\n');
    while (newline !== -1) {
      events.push(JSON.parse(buffer.slice(0, newline)) as ChildEvent);
      buffer = buffer.slice(newline + 1);
      newline = buffer.indexOf('\n');
    }
    for (const waiter of waiters.splice(0)) waiter();
  });
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk;
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; parentAt: number }>((resolve) => {
    child.on('close', (code, signal) => {
      for (const waiter of waiters.splice(0)) waiter();
      resolve({ code, signal, parentAt: performance.now() });
    });
  });
  const find = (event: string) => events.find((e) => e.event === event);
  return {
    process: child,
    events,
    stderr: () => stderr,
    find,
    all: (event) => events.filter((e) => e.event === event),
    exited,
    waitUntil(predicate, timeoutMs = 20_000) {
      return new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => {
          child.kill('SIGKILL');
          reject(
            new Error(`child never got there; events: ${events.map((e) => e.event).join(', ')}; stderr:\n${stderr}`),
          );
        }, timeoutMs);
        const check = () => {
          if (predicate(events)) {
            clearTimeout(timer);
            resolve();
          } else if (child.exitCode !== null || child.signalCode !== null) {
            clearTimeout(timer);
            reject(
              new Error(`child exited early; events: ${events.map((e) => e.event).join(', ')}; stderr:\n${stderr}`),
            );
          } else waiters.push(check);
        };
        check();
      });
    },
    async waitFor(event, timeoutMs) {
      await this.waitUntil((list) => list.some((e) => e.event === event), timeoutMs);
      return find(event) as ChildEvent;
    },
  };
}

/** Starts fixtures/child.ts with a scenario and shutdown options. */
export function startChild(scenario: string, options: Record<string, unknown> = {}): Child {
  return startFixture('child', [scenario], { SHUTDOWN_OPTIONS: JSON.stringify(options) });
}
