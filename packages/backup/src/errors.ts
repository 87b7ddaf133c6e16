import { BotkitError } from '@botkit/core';

/**
 * Stable codes of {@link BackupError}. Match on these (with `isBotkitError(error, code)`),
 * never on message text.
 *
 * @example
 * ```ts
 * import { isBotkitError } from '@botkit/core';
 * import { BackupErrorCode } from '@botkit/backup';
 *
 * try {
 *   await backups.restore(id);
 * } catch (error) {
 *   if (isBotkitError(error, BackupErrorCode.Corrupt)) console.error('backup is damaged');
 * }
 * ```
 */
export const BackupErrorCode = Object.freeze({
  /** The dump could not be taken (database unreachable, pg_dump failed, disk full...). */
  Failed: 'BOTKIT_BACKUP_FAILED',
  /** A backup file or its manifest does not match (checksum, size, truncation, bad JSON). */
  Corrupt: 'BOTKIT_BACKUP_CORRUPT',
  /** No backup with that id exists in the directory. */
  NotFound: 'BOTKIT_BACKUP_NOT_FOUND',
  /** Another backup or restore of the same database holds the lock (file or lease). */
  Locked: 'BOTKIT_BACKUP_LOCKED',
  /** Restoring into the database failed; the database was left as it was before. */
  RestoreFailed: 'BOTKIT_BACKUP_RESTORE_FAILED',
  /** A required tool is missing or unusable (pg_dump too old, `pg` not installed, no node:sqlite). */
  Unsupported: 'BOTKIT_BACKUP_UNSUPPORTED',
} as const);

/**
 * One of the values of {@link BackupErrorCode}.
 */
export type BackupErrorCodeValue = (typeof BackupErrorCode)[keyof typeof BackupErrorCode];

/**
 * The error every `@botkit/backup` operation rejects with (besides `TypeError` for bad options
 * and the signal's reason on abort). Its message never contains a database password.
 *
 * @example
 * ```ts
 * import { isBotkitError } from '@botkit/core';
 *
 * try {
 *   await backups.backup();
 * } catch (error) {
 *   if (isBotkitError(error, 'BOTKIT_BACKUP_LOCKED')) console.log('another backup is running');
 * }
 * ```
 */
export class BackupError extends BotkitError {
  /** The stable code, one of {@link BackupErrorCode}. */
  declare readonly code: BackupErrorCodeValue;

  /**
   * @param code - one of {@link BackupErrorCode}
   * @param message - human-readable description, free of secrets
   * @param options - the underlying `cause`
   */
  constructor(code: BackupErrorCodeValue, message: string, options: { cause?: unknown } = {}) {
    super(code, message, options);
  }
}
