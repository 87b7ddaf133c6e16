import type pg from 'pg';
import { BackupError, BackupErrorCode } from './errors.js';
import type { BackupLease } from './lock.js';
import type { PostgresConnection } from './postgres-driver.js';

/**
 * Options of {@link postgresAdvisoryLease}.
 *
 * @example
 * ```ts
 * const options: PostgresAdvisoryLeaseOptions = { connectionString: process.env.DATABASE_URL ?? '', key: 'bot:backup' };
 * ```
 */
export interface PostgresAdvisoryLeaseOptions {
  /** `postgres://` URL of any database all replicas reach (usually the bot's own). */
  connectionString?: string | undefined;
  /** Connection settings, when not using `connectionString`. */
  connection?: PostgresConnection | undefined;
  /** Name of the lock; replicas using the same key exclude each other. */
  key: string;
}

/**
 * A {@link BackupLease} backed by a PostgreSQL session advisory lock
 * (`pg_try_advisory_lock(hashtextextended(key, 0))`), so only one replica runs the backup
 * schedule. The lock lives as long as the session: if the holder dies, PostgreSQL releases it.
 * Needs the optional peer dependency `pg` and PostgreSQL >= 11.
 *
 * @param options - where to connect and the lock key
 * @returns a lease for the `lock` option of {@link createBackups}
 * @throws TypeError when `key` or the connection settings are missing
 *
 * @example
 * ```ts
 * import { createBackups, postgresAdvisoryLease, postgresDriver } from '@botkit/backup';
 *
 * const url = process.env.DATABASE_URL ?? '';
 * const backups = createBackups({
 *   driver: postgresDriver({ connectionString: url }),
 *   dir: '/backups',
 *   lock: postgresAdvisoryLease({ connectionString: url, key: 'bot:backup' }),
 * });
 * backups.schedule('0 * * * *'); // every replica schedules; one runs each hour
 * ```
 */
export function postgresAdvisoryLease(options: PostgresAdvisoryLeaseOptions): BackupLease {
  if (typeof options !== 'object' || options === null) throw new TypeError('Expected an options object');
  if (typeof options.key !== 'string' || options.key === '') {
    throw new TypeError(`Expected key to be a non-empty string, got ${String(options.key)}`);
  }
  if (!options.connectionString && !options.connection) throw new TypeError('Expected connectionString or connection');
  const { key } = options;
  let held: pg.Client | undefined;

  return {
    async tryAcquire() {
      if (held) return false;
      let mod: typeof import('pg');
      try {
        mod = await import('pg');
      } catch (error) {
        throw new BackupError(BackupErrorCode.Unsupported, 'postgresAdvisoryLease needs the `pg` package', {
          cause: error,
        });
      }
      const Client = (mod.default ?? mod).Client;
      const client = new Client(
        options.connectionString
          ? { connectionString: options.connectionString, connectionTimeoutMillis: 10_000 }
          : {
              connectionTimeoutMillis: 10_000,
              host: options.connection?.host ?? 'localhost',
              port: options.connection?.port ?? 5432,
              user: options.connection?.user ?? 'postgres',
              database: options.connection?.database,
              ...(options.connection?.password !== undefined ? { password: options.connection.password } : {}),
            },
      );
      client.on('error', () => {});
      try {
        await client.connect();
        const res = await client.query<{ ok: boolean }>('SELECT pg_try_advisory_lock(hashtextextended($1, 0)) AS ok', [
          key,
        ]);
        if (res.rows[0]?.ok === true) {
          held = client;
          return true;
        }
      } catch (error) {
        await client.end().catch(() => {});
        throw new BackupError(
          BackupErrorCode.Failed,
          `Cannot take the PostgreSQL advisory lock ${key}: ${(error as Error).message}`,
          {
            cause: error,
          },
        );
      }
      await client.end().catch(() => {});
      return false;
    },
    async release() {
      const client = held;
      held = undefined;
      if (!client) return;
      try {
        await client.query('SELECT pg_advisory_unlock(hashtextextended($1, 0))', [key]);
      } finally {
        await client.end().catch(() => {});
      }
    },
  };
}
