import { randomBytes } from 'node:crypto';
import { link, mkdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { BackupError, BackupErrorCode } from './errors.js';

/**
 * A distributed lock so that only one replica runs backups, e.g. `createRedisLease(redis, { key,
 * ttlMs })` from `@botkit/core`, or a PostgreSQL advisory lock. Any object of this shape works.
 *
 * @example
 * ```ts
 * import type { BackupLease } from '@botkit/backup';
 *
 * const lease: BackupLease = {
 *   tryAcquire: async () => (await redis.set('backup', '1', 'PX', 60_000, 'NX')) === 'OK',
 *   release: async () => void (await redis.del('backup')),
 * };
 * ```
 */
export interface BackupLease {
  /** Tries to take the lease; resolves false when another holder has it. */
  tryAcquire(): Promise<boolean>;
  /** Gives the lease back. */
  release(): Promise<void>;
}

/** @internal Whether a process with this pid exists on this machine. */
export function pidAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

interface LockContent {
  pid: number;
  hostname: string;
  operation: string;
  startedAt: string;
}

async function isStale(path: string): Promise<boolean> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch {
    return true; // vanished: retry
  }
  try {
    const content = JSON.parse(text) as LockContent;
    return content.hostname === hostname() && !pidAlive(content.pid);
  } catch {
    // Unreadable content: a holder killed between creating and writing it. Stale after 10 s.
    const info = await stat(path).catch(() => undefined);
    return !info || Date.now() - info.mtimeMs > 10_000;
  }
}

/**
 * @internal Takes the lock file at `path` (O_EXCL create). A lock left by a process that no longer
 * exists on this host (kill -9) is taken over. Resolves with a release function.
 */
export async function acquireLockFile(
  path: string,
  operation: string,
  scratchDir: string,
): Promise<() => Promise<void>> {
  const content: LockContent = {
    pid: process.pid,
    hostname: hostname(),
    operation,
    startedAt: new Date().toISOString(),
  };
  // Write the content to a temporary file and hard-link it into place: the lock file appears
  // atomically, complete, or not at all (a kill -9 cannot leave an empty lock file behind).
  await mkdir(scratchDir, { recursive: true, mode: 0o700 });
  const temp = join(scratchDir, `${process.pid}-lock-${randomBytes(4).toString('hex')}`);
  await writeFile(temp, JSON.stringify(content), { mode: 0o600 });
  try {
    for (let attempt = 0; attempt < 3; attempt++) {
      try {
        await link(temp, path);
        let released = false;
        return async () => {
          if (released) return;
          released = true;
          await rm(path, { force: true });
        };
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
        if (!(await isStale(path))) break;
        await rm(path, { force: true });
      }
    }
  } finally {
    await rm(temp, { force: true });
  }
  let holder = '';
  try {
    const other = JSON.parse(await readFile(path, 'utf8')) as LockContent;
    holder = ` (${other.operation} by pid ${other.pid} on ${other.hostname} since ${other.startedAt})`;
  } catch {
    // unknown holder
  }
  throw new BackupError(BackupErrorCode.Locked, `Another backup or restore holds ${path}${holder}`);
}
