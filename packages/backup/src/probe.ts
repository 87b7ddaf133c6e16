import type { Clock, Probe, ProbeResult } from '@botkit/core';
import type { BackupInfo } from './manifest.js';
import type { BackupProbeOptions } from './types.js';

/** @internal Outcome of the last backup attempt, persisted in the backup directory. */
export interface AttemptStatus {
  ok: boolean;
  at: number;
  message?: string;
}

/** @internal The freshness probe behind `backups.probe()`. */
export function createFreshnessProbe(
  options: BackupProbeOptions,
  context: {
    clock: Clock;
    dir: string;
    list: () => Promise<BackupInfo[]>;
    isFailed: (id: string) => boolean;
    lastAttempt: () => Promise<AttemptStatus | undefined>;
  },
): Probe {
  const maxAgeMs = options.maxAgeMs ?? 3_600_000;
  if (!(maxAgeMs > 0)) throw new TypeError(`Expected maxAgeMs > 0, got ${String(maxAgeMs)}`);
  const name = options.name ?? 'backup';
  if (typeof name !== 'string' || name === '')
    throw new TypeError(`Expected name to be a non-empty string, got ${String(name)}`);
  return {
    name,
    async check({ signal }): Promise<ProbeResult> {
      signal.throwIfAborted();
      const newest = (await context.list()).find((b) => !context.isFailed(b.id));
      const attempt = await context.lastAttempt();
      if (!newest) return { status: 'unhealthy', message: `no backup in ${context.dir}`, details: { maxAgeMs } };
      const ageMs = context.clock.now() - newest.createdAtMs;
      const details = { newest: newest.id, ageMs, maxAgeMs, lastAttemptOk: attempt?.ok ?? null };
      if (ageMs > maxAgeMs) {
        return { status: 'unhealthy', message: `newest backup is ${Math.round(ageMs / 60_000)} min old`, details };
      }
      if (attempt && !attempt.ok && attempt.at >= newest.createdAtMs) {
        return { status: 'degraded', message: 'last backup attempt failed; a recent backup exists', details };
      }
      return { status: 'healthy', details };
    },
  };
}
