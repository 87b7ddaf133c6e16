import type { Logger } from '@botkit/core';
import type { RetentionPolicy } from '@botkit/backup';
import type { ShutdownOptions } from '@botkit/shutdown';

/** Everything `createApp` needs; `configFromEnv()` builds it from environment variables. */
export interface AppConfig {
  /** Bot token (BOT_TOKEN). Never logged. */
  token: string;
  /** Bot API server root (BOT_API_ROOT), e.g. a local telegram-bot-api or the emulator. */
  apiRoot?: string | undefined;
  /** REDIS_URL. */
  redisUrl: string;
  /** DATABASE_URL: `postgres://...` or an SQLite file path. */
  databaseUrl: string;
  /** Webhook with polling fallback (WEBHOOK_URL, WEBHOOK_SECRET, WEBHOOK_PORT); none: polling only. */
  webhook?: { url: string; secretToken: string; port: number; host?: string | undefined } | undefined;
  /** Chat that receives health alerts (ADMIN_CHAT_ID). */
  adminChatId?: number | string | undefined;
  /** Health server (HEALTH_PORT); port 0 picks a free one. */
  health: { port: number; host?: string | undefined };
  /** Backups (BACKUP_DIR): cron, retention, and the RPO of the freshness probe. */
  backup: { dir: string; cron: string; retention: RetentionPolicy; maxAgeMs: number };
  /** SHUTDOWN_TIMEOUT_MS: hard deadline of a graceful stop. */
  shutdownTimeoutMs: number;
  /** More options of `createShutdown` (e.g. `exit` when the process must not exit after a signal). */
  shutdownOptions?: Omit<ShutdownOptions, 'timeoutMs' | 'logger'> | undefined;
  /** Intervals and thresholds; the defaults suit production, the demo shortens them. */
  timings?: Partial<Timings> | undefined;
  logger?: Logger | undefined;
  /** Called once each time the bot finished handling an update (tests, the demo). */
  onUpdateHandled?: ((updateId: number) => void) | undefined;
}

/** Intervals and thresholds of the wiring. */
export interface Timings {
  healthIntervalMs: number;
  healthTimeoutMs: number;
  failureThreshold: number;
  recoveryThreshold: number;
  detectionIntervalMs: number;
  failuresToSwitch: number;
  minPollingDwellMs: number;
  probationMs: number;
  pollTimeoutSeconds: number;
  redisCommandTimeoutMs: number;
  redisResetAfterMs: number;
  redisMaxReconnectDelayMs: number;
  maxIdleMs: number;
  alertWindowMs: number;
  /** How long start() waits for Telegram (getMe, setWebhook) before failing. */
  startTimeoutMs: number;
}

export const DEFAULT_TIMINGS: Timings = {
  healthIntervalMs: 15_000,
  healthTimeoutMs: 5_000,
  failureThreshold: 3,
  recoveryThreshold: 2,
  detectionIntervalMs: 10_000,
  failuresToSwitch: 2,
  minPollingDwellMs: 120_000,
  probationMs: 60_000,
  pollTimeoutSeconds: 30,
  redisCommandTimeoutMs: 500,
  redisResetAfterMs: 5_000,
  redisMaxReconnectDelayMs: 2_000,
  maxIdleMs: 300_000,
  alertWindowMs: 60_000,
  startTimeoutMs: 60_000,
};

function int(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 0)
    throw new TypeError(`Expected ${name} to be a non-negative integer, got ${raw}`);
  return value;
}

/**
 * Reads the configuration from environment variables (see the README's table).
 *
 * @throws TypeError naming the variable that is missing or invalid (never its value when secret)
 */
export function configFromEnv(env: NodeJS.ProcessEnv = process.env): AppConfig {
  const token = env.BOT_TOKEN;
  if (!token) throw new TypeError('BOT_TOKEN is required (try `pnpm demo` to run without a token)');
  const webhookUrl = env.WEBHOOK_URL;
  const secret = env.WEBHOOK_SECRET;
  if (webhookUrl && !secret) throw new TypeError('WEBHOOK_SECRET is required when WEBHOOK_URL is set');
  if (secret && !/^[A-Za-z0-9_-]{1,256}$/.test(secret)) {
    throw new TypeError('WEBHOOK_SECRET must be 1-256 characters of A-Z a-z 0-9 _ - (value not shown)');
  }
  const admin = env.ADMIN_CHAT_ID;
  return {
    token,
    apiRoot: env.BOT_API_ROOT || undefined,
    redisUrl: env.REDIS_URL || 'redis://127.0.0.1:6379',
    databaseUrl: env.DATABASE_URL || './data/bot.db',
    webhook:
      webhookUrl && secret ? { url: webhookUrl, secretToken: secret, port: int(env, 'WEBHOOK_PORT', 3000) } : undefined,
    adminChatId: admin ? (/^-?\d+$/.test(admin) ? Number(admin) : admin) : undefined,
    health: { port: int(env, 'HEALTH_PORT', 8080) },
    backup: {
      dir: env.BACKUP_DIR || './data/backups',
      cron: env.BACKUP_CRON || '0 * * * *',
      retention: { keepLast: 24, keepDaily: 7, keepWeekly: 4, keepMonthly: 6 },
      maxAgeMs: 2 * 3_600_000,
    },
    shutdownTimeoutMs: int(env, 'SHUTDOWN_TIMEOUT_MS', 25_000),
  };
}
