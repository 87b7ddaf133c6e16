export { createBackups } from './backups.js';
export type { Compression } from './compression.js';
export type { BackupDriver, DatabaseInfo, DeepCheckResult, DumpOutput, DumpReader } from './driver.js';
export { BackupError, BackupErrorCode, type BackupErrorCodeValue } from './errors.js';
export type { BackupLease } from './lock.js';
export type { BackupInfo, BackupManifest } from './manifest.js';
export { planRetention, type RetentionItem, type RetentionPlan, type RetentionPolicy } from './retention.js';
export type { ScheduleHandle, ScheduleOptions } from './schedule.js';
export type {
  BackupEvents,
  BackupProbeOptions,
  Backups,
  CreateBackupsOptions,
  PruneResult,
  RestoreResult,
  VerifyResult,
} from './types.js';
export { type PostgresAdvisoryLeaseOptions, postgresAdvisoryLease } from './postgres-lease.js';
export { type PostgresConnection, type PostgresDriverOptions, postgresDriver } from './postgres-driver.js';
export { type SqliteDriverOptions, sqliteDriver } from './sqlite-driver.js';
