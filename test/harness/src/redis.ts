import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ChildProcess } from 'node:child_process';
import {
  exited,
  freePort,
  MissingBinaryError,
  rawRequest,
  spawnTracked,
  tailOutput,
  waitFor,
  which,
  type ServerHandle,
  serverHandle,
} from './util.js';

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
  return serverHandle(
    { url: `redis://127.0.0.1:${port}` },
    { port, dir, graceful: 'SIGTERM', child: () => child, launch, stopWith },
  );
}
