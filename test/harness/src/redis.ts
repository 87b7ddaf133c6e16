import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { exited, freePort, MissingBinaryError, rawRequest, spawnTracked, tailOutput, waitFor, which } from './util.js';

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
  /** Graceful stop (SIGTERM); the data directory is kept for restart(). */
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

/** A real redis-server on 127.0.0.1. */
export interface RedisServer extends ServerHandle {
  /** `redis://127.0.0.1:<port>` */
  readonly url: string;
}

/** Options of {@link startRedis}. */
export interface StartRedisOptions {
  /** Port to use; a free one by default. */
  port?: number;
  /** Extra `redis-server` arguments, e.g. `['--requirepass', 'pw']`. */
  args?: string[];
}

/**
 * Starts a real `redis-server` on 127.0.0.1, on a free port, with a temporary directory and no
 * persistence. Resolves once it answers PING.
 */
export async function startRedis(options: StartRedisOptions = {}): Promise<RedisServer> {
  const binary = which('redis-server', ['/usr/bin', '/usr/local/bin']);
  if (!binary) throw new MissingBinaryError('redis-server', 'apt-get install -y redis-server', ['PATH', '/usr/bin']);
  const port = options.port ?? (await freePort());
  const dir = mkdtempSync(join(tmpdir(), 'botkit-redis-'));
  let child: ChildProcess | undefined;

  const launch = async () => {
    const proc = spawnTracked(binary, [
      '--port',
      String(port),
      '--bind',
      '127.0.0.1',
      '--dir',
      dir,
      '--save',
      '',
      '--appendonly',
      'no',
      '--daemonize',
      'no',
      '--protected-mode',
      'no',
      '--loglevel',
      'warning',
      ...(options.args ?? []),
    ]);
    const output = tailOutput(proc);
    child = proc;
    try {
      await waitFor(`redis-server on port ${port}`, async () => {
        if (proc.exitCode !== null) throw new Error(`redis-server exited: ${output()}`);
        const reply = await rawRequest(port, 'PING\r\n');
        return reply.startsWith('+PONG') || reply.startsWith('-NOAUTH');
      });
    } catch (error) {
      proc.kill('SIGKILL');
      throw error;
    }
  };
  const stopWith = async (signal: NodeJS.Signals) => {
    const proc = child;
    if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
    proc.kill(signal);
    await exited(proc);
  };

  await launch();
  const handle: RedisServer = {
    host: '127.0.0.1',
    port,
    url: `redis://127.0.0.1:${port}`,
    get pid() {
      return child?.pid;
    },
    get running() {
      return !!child && child.exitCode === null && child.signalCode === null;
    },
    stop: () => stopWith('SIGTERM'),
    kill: () => stopWith('SIGKILL'),
    async restart() {
      await stopWith('SIGTERM');
      await launch();
    },
    async cleanup() {
      await stopWith('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    },
    [Symbol.asyncDispose]: () => handle.cleanup(),
  };
  return handle;
}
