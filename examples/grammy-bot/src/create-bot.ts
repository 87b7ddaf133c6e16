import { mkdirSync } from 'node:fs';
import { isBotkitError, type Logger, noopLogger, type Probe } from '@botkit/core';
import { type Backups, createBackups, type ScheduleHandle } from '@botkit/backup';
import { circuitOf, memoryFallback, type RedisCircuit, withCircuit } from '@botkit/circuit';
import { createFailover, type Failover, grammyAdapter } from '@botkit/failover';
import {
  createHealthMonitor,
  createHealthServer,
  type HealthMonitor,
  type HealthServer,
  redisProbe,
  type TelegramAlertSink,
  telegramAlerts,
  telegramProbe,
  type UpdateMetrics,
  updateMetrics,
  updatesProbe,
} from '@botkit/health';
import { createShutdown, type ShutdownManager, type ShutdownReport } from '@botkit/shutdown';
import { Bot, type Context, type SessionFlavor, session } from 'grammy';
import { Redis } from 'ioredis';
import { type AppConfig, DEFAULT_TIMINGS, type Timings } from './config.js';
import { type NotesStore, openNotesStore } from './notes.js';
import { RedisSessionStorage } from './session-storage.js';
import { retryTelegramCalls } from './telegram-retry.js';

export type { AppConfig, Timings } from './config.js';
export { configFromEnv, DEFAULT_TIMINGS } from './config.js';
export type { Note, NotesStore } from './notes.js';
export { RedisSessionStorage } from './session-storage.js';
export { retryTelegramCalls, type TelegramRetryOptions } from './telegram-retry.js';

/** Per-user session kept in Redis. */
export interface SessionData {
  count: number;
}

/** The bot's context type. */
export type BotContext = Context & SessionFlavor<SessionData>;

/** Handles on everything `createApp` wired, so tests and the demo can drive and observe it. */
export interface App {
  readonly config: AppConfig;
  readonly timings: Timings;
  readonly bot: Bot<BotContext>;
  /** The webhook <-> polling switcher; undefined without a webhook (grammY polls by itself). */
  readonly failover: Failover | undefined;
  readonly monitor: HealthMonitor;
  readonly healthServer: HealthServer;
  readonly shutdown: ShutdownManager;
  readonly backups: Backups;
  /** Redis wrapped by `withCircuit` (same type as an ioredis client). */
  readonly redis: Redis;
  readonly circuit: RedisCircuit;
  readonly notes: NotesStore;
  readonly updates: UpdateMetrics;
  readonly alerts: TelegramAlertSink | undefined;
  /** `webhook`, `polling` or `stopped`. */
  readonly mode: string;
  /** Starts the health server, the monitor, the transport and the backup schedule. */
  start(): Promise<void>;
  /** Graceful stop: the same run as SIGTERM once `shutdown.install()` was called. */
  stop(reason?: string): Promise<ShutdownReport>;
}

/**
 * Builds the example bot and wires every botkit package around it. Nothing listens or polls until
 * `start()`; `stop()` (or SIGTERM after `app.shutdown.install()`) tears it down in order:
 * intake (stop receiving) -> drain (updates in flight) -> services (health, backups) -> connections.
 */
export async function createApp(config: AppConfig): Promise<App> {
  const timings: Timings = { ...DEFAULT_TIMINGS, ...config.timings };
  const logger: Logger = config.logger ?? noopLogger;
  const apiRoot = config.apiRoot;
  const telegram = { token: config.token, ...(apiRoot ? { apiRoot } : {}) };

  // ---- connections ------------------------------------------------------------------------
  const notes = await openNotesStore(config.databaseUrl);
  const rawRedis = new Redis(config.redisUrl, {
    lazyConnect: true,
    maxRetriesPerRequest: 1,
    retryStrategy: (times) => Math.min(50 * 2 ** Math.min(times, 10), timings.redisMaxReconnectDelayMs),
  });
  let redisErrors = 0;
  rawRedis.on('error', (error: Error) => {
    // ioredis emits one error per failed reconnect: log the first of a streak, then every 50th.
    if (redisErrors++ % 50 === 0) logger.warn({ err: error, attempts: redisErrors }, 'redis connection error');
  });
  rawRedis.on('ready', () => {
    if (redisErrors > 0) logger.info({ afterErrors: redisErrors }, 'redis connected again');
    redisErrors = 0;
  });
  const redis = withCircuit(rawRedis, {
    commandTimeoutMs: timings.redisCommandTimeoutMs,
    resetAfterMs: timings.redisResetAfterMs,
    fallback: memoryFallback({ maxEntries: 10_000, onMiss: 'null' }), // degraded sessions while Redis is down
    logger,
  });
  const circuit = circuitOf(redis)!;
  circuit.on('stateChange', (from, to) => logger.info({ from, to }, 'redis circuit state changed'));
  rawRedis.connect().catch(() => {}); // the circuit serves the fallback until Redis is ready

  // ---- the bot ----------------------------------------------------------------------------
  const bot = new Bot<BotContext>(config.token, apiRoot ? { client: { apiRoot } } : {});
  // Replies survive Telegram's 429 flood waits and 5xx hiccups (bounded; see telegram-retry.ts).
  bot.api.config.use(retryTelegramCalls({ logger }));
  const shutdown = createShutdown({ ...config.shutdownOptions, timeoutMs: config.shutdownTimeoutMs, logger });
  const updates = updateMetrics();
  bot.use(updates.middleware); // first: times everything after it
  // Every update in flight finishes before teardown; one that arrives once the shutdown began is
  // refused and stays with Telegram for the next start (the failover answers 503 or leaves the offset
  // before it; grammY's poller does not confirm it either).
  bot.use(shutdown.middleware());
  if (config.onUpdateHandled) {
    const notify = config.onUpdateHandled;
    bot.use(async (ctx, next) => {
      try {
        await next();
      } finally {
        notify(ctx.update.update_id);
      }
    });
  }
  bot.use(
    session({
      initial: (): SessionData => ({ count: 0 }),
      storage: new RedisSessionStorage<SessionData>(redis, 'example:session:'),
      getSessionKey: (ctx) => (ctx.from ? String(ctx.from.id) : undefined),
    }),
  );
  const degraded = () => circuit.state !== 'closed';

  bot.command('start', (ctx) =>
    ctx.reply(
      `Hello, ${ctx.from?.first_name ?? 'there'}! I count (/count), keep notes (/note <text>) and report my health (/status).`,
    ),
  );
  bot.command('count', async (ctx) => {
    ctx.session.count += 1;
    const note = degraded() ? ' (Redis is away: counting in memory for now)' : '';
    await ctx.reply(`Count: ${ctx.session.count}${note}`);
  });
  bot.command('note', async (ctx) => {
    const userId = ctx.from?.id ?? ctx.chat.id;
    const text = ctx.match.trim();
    if (text === '') {
      const latest = await notes.list(userId, 5);
      await ctx.reply(
        latest.length === 0
          ? 'No notes yet. Save one with /note <text>.'
          : `Your latest notes:\n${latest.map((n) => `#${n.id} ${n.text}`).join('\n')}`,
      );
      return;
    }
    const { id, total } = await notes.add(userId, text.slice(0, 1000));
    await ctx.reply(`Saved note #${id} (you have ${total}).`);
  });
  bot.command('status', async (ctx) => {
    const status = monitor.status();
    const lines = Object.values(status.probes).map(
      (p) => `${p.name}: ${p.status}${p.message ? ` (${p.message})` : ''}`,
    );
    await ctx.reply(`Overall: ${status.status}, mode: ${app.mode}\n${lines.join('\n')}`);
  });
  bot.on('message:text', (ctx) => ctx.reply('Try /start, /count, /note <text> or /status.'));
  bot.catch((err) => {
    if (isBotkitError(err.error, 'BOTKIT_SHUTTING_DOWN')) return; // refused while stopping: delivered again later
    logger.error({ err: err.error, updateId: err.ctx.update.update_id }, 'handler failed');
  });

  // ---- transport: failover (webhook + polling fallback), or grammY's own polling ---------------
  let failover: Failover | undefined;
  let polling: Promise<void> | undefined;
  if (config.webhook) {
    failover = createFailover({
      ...telegram,
      adapter: grammyAdapter(bot),
      webhook: {
        url: config.webhook.url,
        secretToken: config.webhook.secretToken,
        port: config.webhook.port,
        host: config.webhook.host,
      },
      detection: { intervalMs: timings.detectionIntervalMs, failuresToSwitch: timings.failuresToSwitch },
      switching: {
        minPollingDwellMs: timings.minPollingDwellMs,
        probationMs: timings.probationMs,
        maxChangesPerHour: 12,
      },
      polling: { timeoutSeconds: timings.pollTimeoutSeconds },
      logger,
    });
    failover.on('modeChange', (from, to, reason) => logger.info({ from, to, reason }, 'transport mode changed'));
    failover.on('error', (error) => logger.warn({ err: error }, 'failover error'));
  }
  const transportProbe: Probe = failover
    ? failover.probe()
    : {
        name: 'polling',
        check: async () =>
          bot.isRunning() ? { status: 'healthy' } : { status: 'unhealthy', message: 'the bot is not polling' },
      };

  // ---- backups ----------------------------------------------------------------------------
  mkdirSync(config.backup.dir, { recursive: true });
  const backups = createBackups({
    driver: notes.backupDriver(),
    dir: config.backup.dir,
    retention: config.backup.retention,
    logger,
  });
  // The backups log every completed and failed backup themselves (through `logger`).
  let schedule: ScheduleHandle | undefined;

  // ---- health -----------------------------------------------------------------------------
  const monitor = createHealthMonitor({
    intervalMs: timings.healthIntervalMs,
    timeoutMs: timings.healthTimeoutMs,
    failureThreshold: timings.failureThreshold,
    recoveryThreshold: timings.recoveryThreshold,
    logger,
  });
  // Critical (readiness): the database and the transport. The rest degrades the status and alerts.
  monitor
    .addProbe(notes.probe())
    .addProbe(transportProbe)
    .addProbe(redisProbe(redis, { isFallback: degraded }), { critical: false })
    .addProbe(circuit.probe(), { critical: false })
    .addProbe(telegramProbe(telegram), { critical: false })
    .addProbe(backups.probe({ maxAgeMs: config.backup.maxAgeMs }), { critical: false })
    .addProbe(updatesProbe({ metrics: updates, ...telegram, maxIdleMs: timings.maxIdleMs }), { critical: false })
    .addStats(updates);
  monitor.onAlert((alert) =>
    logger[alert.kind === 'failed' ? 'warn' : 'info'](
      { probe: alert.probe, message: alert.message },
      `alert: ${alert.kind}`,
    ),
  );
  let alerts: TelegramAlertSink | undefined;
  if (config.adminChatId !== undefined) {
    alerts = telegramAlerts({
      ...telegram,
      chatId: config.adminChatId,
      title: 'example-grammy-bot',
      windowMs: timings.alertWindowMs,
    });
    monitor.onAlert(alerts);
  }
  const healthServer = createHealthServer(monitor, {
    port: config.health.port,
    host: config.health.host,
    shutdown,
    details: 'summary',
  });

  // ---- ordered teardown -------------------------------------------------------------------
  const hookTimeoutMs = Math.max(1000, Math.floor(config.shutdownTimeoutMs / 2));
  shutdown.add(
    'transport',
    async () => {
      if (failover)
        await failover.stop(); // final confirming getUpdates; waits for handlers in flight
      else if (bot.isRunning()) await bot.stop();
      await polling;
    },
    { phase: 'intake', timeoutMs: hookTimeoutMs },
  );
  shutdown.add('health-monitor', () => monitor.stop(), { phase: 'services' });
  shutdown.add('backups', async () => {
    schedule?.stop();
    await backups.stop();
  });
  shutdown.add('health-server', () => healthServer.stop(), { phase: 'flush' });
  shutdown.add(
    'redis',
    async () => {
      await rawRedis.quit().catch(() => rawRedis.disconnect());
    },
    { phase: 'connections' },
  );
  shutdown.add('database', () => notes.close(), { phase: 'connections' });
  shutdown.on('phaseStarted', (phase) => logger.info({ phase }, 'shutdown phase'));
  shutdown.on('shutdownFinished', (report) =>
    logger.info(
      { exitCode: report.exitCode, timedOut: report.timedOut, tasks: report.tasks, hooks: report.hooks.length },
      'shutdown finished',
    ),
  );

  let started: Promise<void> | undefined;
  const app: App = {
    config,
    timings,
    bot,
    failover,
    monitor,
    healthServer,
    shutdown,
    backups,
    redis,
    circuit,
    notes,
    updates,
    alerts,
    get mode() {
      if (failover) return failover.mode;
      return bot.isRunning() ? 'polling' : 'stopped';
    },
    start() {
      started ??= (async () => {
        await healthServer.start();
        // No fresh backup yet (first start, or the bot was down): take one before the first health
        // check, so the freshness probe does not alert about a backup that is being taken.
        const [latest] = await backups.list();
        if (!latest || Date.now() - latest.createdAtMs > config.backup.maxAgeMs) {
          const startup = backups.backup({ label: 'startup' }).catch(() => {}); // logged by the backups (backup failed)
          await Promise.race([startup, delay(10_000)]);
        }
        schedule = backups.schedule(config.backup.cron, { prune: true });
        // grammY retries network errors forever: bound the wait for Telegram, so an unreachable API
        // fails the start (exit 1, the orchestrator retries) instead of hanging silently.
        const transport = failover
          ? failover.start()
          : (async () => {
              await bot.init(AbortSignal.timeout(timings.startTimeoutMs) as Parameters<typeof bot.init>[0]);
              await bot.api.deleteWebhook(); // polling only: a leftover webhook would make getUpdates fail (409)
              polling = bot.start({ timeout: timings.pollTimeoutSeconds }).catch((error: unknown) => {
                logger.error({ err: error }, 'polling stopped with an error');
                void shutdown.shutdown('polling failed');
              });
            })();
        await Promise.race([
          transport,
          delay(timings.startTimeoutMs).then(() => {
            throw new Error(`Telegram not reachable: the transport did not start within ${timings.startTimeoutMs} ms`);
          }),
        ]);
        monitor.start(); // after the transport: the failover probe is unhealthy until it started
        logger.info(
          { mode: app.mode, health: healthServer.url, database: notes.kind, webhook: failover ? 'on' : 'off' },
          'bot started',
        );
      })();
      return started;
    },
    stop: (reason = 'stop() called') => shutdown.shutdown(reason),
  };
  return app;
}

/** Resolves after `ms`, without keeping the process alive. */
function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}
