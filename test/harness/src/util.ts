import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { existsSync, readdirSync, rmSync } from 'node:fs';
import { createServer, Socket } from 'node:net';

/** Error thrown when a binary the tests need is not installed; says what to install. */
export class MissingBinaryError extends Error {
  constructor(what: string, install: string, looked: string[]) {
    super(`${what} not found (looked in: ${looked.join(', ')}). Install it: ${install} — or run ./scripts/setup.sh`);
    this.name = 'MissingBinaryError';
  }
}

/** A free TCP port on 127.0.0.1 (asks the OS, then releases it). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() =>
        typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port')),
      );
    });
  });
}

/** Finds an executable on PATH or in extra directories. */
export function which(name: string, extraDirs: string[] = []): string | undefined {
  const dirs = [...extraDirs, ...(process.env.PATH ?? '').split(':')];
  for (const dir of dirs) {
    if (dir && existsSync(`${dir}/${name}`)) return `${dir}/${name}`;
  }
  return undefined;
}

/** PostgreSQL server binaries directory: $PG_BIN_DIR, newest /usr/lib/postgresql/N/bin, or PATH. */
export function pgBinDir(): string {
  const looked: string[] = [];
  if (process.env.PG_BIN_DIR) {
    looked.push(process.env.PG_BIN_DIR);
    if (existsSync(`${process.env.PG_BIN_DIR}/pg_ctl`)) return process.env.PG_BIN_DIR;
  }
  const base = '/usr/lib/postgresql';
  looked.push(`${base}/*/bin`);
  if (existsSync(base)) {
    const versions = readdirSync(base)
      .filter((v) => existsSync(`${base}/${v}/bin/postgres`))
      .sort((a, b) => Number(b) - Number(a));
    if (versions[0]) return `${base}/${versions[0]}/bin`;
  }
  looked.push('PATH');
  const onPath = which('postgres');
  if (onPath && which('initdb')) return onPath.slice(0, onPath.lastIndexOf('/'));
  throw new MissingBinaryError(
    'PostgreSQL server binaries (postgres, initdb)',
    'apt-get install -y postgresql',
    looked,
  );
}

/** Waits until `check` resolves true, polling every `everyMs`, or throws after `timeoutMs`. */
export async function waitFor(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 15_000, everyMs = 20) {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
    try {
      if (await check()) return;
    } catch (error) {
      lastError = error;
    }
    await new Promise((r) => setTimeout(r, everyMs));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${lastError ? `: ${String(lastError)}` : ''}`);
}

/** Sends raw bytes to host:port and resolves with the first chunk received (for PING-style checks). */
export function rawRequest(port: number, payload: string, timeoutMs = 500): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = new Socket();
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error('timeout'));
    }, timeoutMs);
    socket.once('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    socket.connect(port, '127.0.0.1', () => socket.write(payload));
    socket.once('data', (data) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(data.toString());
    });
  });
}

/** Whether a TCP port on 127.0.0.1 accepts connections. */
export function isListening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = new Socket();
    socket.once('error', () => resolve(false));
    socket.connect(port, '127.0.0.1', () => {
      socket.destroy();
      resolve(true);
    });
  });
}

const live = new Set<ChildProcess>();
let exitHookInstalled = false;

/** Spawns a server process that is SIGKILLed if the test process exits without stopping it. */
export function spawnTracked(command: string, args: string[], options: Parameters<typeof spawn>[2] = {}): ChildProcess {
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    process.once('exit', () => {
      for (const child of live) child.kill('SIGKILL');
    });
  }
  const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], ...options });
  live.add(child);
  child.once('exit', () => live.delete(child));
  return child;
}

/** Resolves when a child process has exited (immediately if it already has). */
export function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once('exit', () => resolve()));
}

/** Collects the last few KB of a child's output, for error messages. */
export function tailOutput(child: ChildProcess): () => string {
  let text = '';
  const add = (chunk: Buffer) => {
    text = (text + chunk.toString()).slice(-4000);
  };
  child.stdout?.on('data', add);
  child.stderr?.on('data', add);
  return () => text;
}

/** uid/gid to run PostgreSQL as when we are root (it refuses to run as root): `nobody`. */
export function unprivilegedIds(): { uid: number; gid: number } | undefined {
  if (process.getuid?.() !== 0) return undefined;
  try {
    const uid = Number(execFileSync('id', ['-u', 'nobody'], { encoding: 'utf8' }).trim());
    const gid = Number(execFileSync('id', ['-g', 'nobody'], { encoding: 'utf8' }).trim());
    return { uid, gid };
  } catch {
    return { uid: 65534, gid: 65534 };
  }
}

/** A running real server started by the harness. */
export interface ServerHandle {
  /** Always `127.0.0.1`. */
  readonly host: string;
  /** The TCP port (stable across `restart()`). */
  readonly port: number;
  /** The server's current pid (changes on restart). */
  readonly pid: number | undefined;
  /** Whether the server process is running. */
  readonly running: boolean;
  /** Graceful stop; the data directory is kept for restart(). */
  stop(): Promise<void>;
  /** SIGKILL the server (chaos tests); the data directory is kept for restart(). */
  kill(): Promise<void>;
  /** Starts the server again on the same port and data directory (after stop/kill, or from running). */
  restart(): Promise<void>;
  /** Stops the server if running and deletes its temporary directory. */
  cleanup(): Promise<void>;
  /** Same as cleanup(), for `await using`. */
  [Symbol.asyncDispose](): Promise<void>;
}

/** How a server process is started and stopped, for {@link serverHandle}. */
export interface ServerControls {
  port: number;
  /** Temporary directory removed by cleanup(). */
  dir: string;
  /** The signal of a graceful stop. */
  graceful: NodeJS.Signals;
  child(): ChildProcess | undefined;
  launch(): Promise<void>;
  stopWith(signal: NodeJS.Signals): Promise<void>;
}

/** Adds the common {@link ServerHandle} lifecycle to a server's own fields. */
export function serverHandle<T extends object>(fields: T, c: ServerControls): T & ServerHandle {
  const handle = Object.assign(fields, {
    host: '127.0.0.1',
    port: c.port,
    stop: () => c.stopWith(c.graceful),
    kill: () => c.stopWith('SIGKILL'),
    async restart() {
      await c.stopWith(c.graceful);
      await c.launch();
    },
    async cleanup() {
      await c.stopWith('SIGKILL');
      rmSync(c.dir, { recursive: true, force: true });
    },
    [Symbol.asyncDispose]: () => handle.cleanup(),
  });
  Object.defineProperties(handle, {
    pid: { get: () => c.child()?.pid, enumerable: true },
    running: {
      get: () => {
        const child = c.child();
        return !!child && child.exitCode === null && child.signalCode === null;
      },
      enumerable: true,
    },
  });
  return handle as T & ServerHandle;
}
