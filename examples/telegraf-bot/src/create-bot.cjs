'use strict';
// The Telegraf example: the same wiring as examples/grammy-bot, in CommonJS, on the CJS builds of botkit.
const { mkdirSync } = require('node:fs');
const { Telegraf, session } = require('telegraf');
const { Redis } = require('ioredis');
const { isBotkitError, noopLogger } = require('@botkit/core');
const { createBackups } = require('@botkit/backup');
const { circuitOf, memoryFallback, withCircuit } = require('@botkit/circuit');
const { createFailover, telegrafAdapter } = require('@botkit/failover');
const {
  createHealthMonitor,
  createHealthServer,
  redisProbe,
  telegramAlerts,
  telegramProbe,
  updateMetrics,
  updatesProbe,
} = require('@botkit/health');
const { createShutdown } = require('@botkit/shutdown');
const { openNotesStore } = require('./notes.cjs');
const { RedisSessionStore } = require('./session-store.cjs');
const { retryTelegramCalls } = require('./telegram-retry.cjs');

const DEFAULT_TIMINGS = {
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
};

function int(env, name, fallback) {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 0)
    throw new TypeError(`Expected ${name} to be a non-negative integer, got ${raw}`);
  return value;
}

/** Reads the configuration from environment variables (same variables as the grammY example). */
function configFromEnv(env = process.env) {
  const token = env.BOT_TOKEN;
  if (!token) throw new TypeError('BOT_TOKEN is required');
  const webhookUrl = env.WEBHOOK_URL;
  const secret = env.WEBHOOK_SECRET;
  if (webhookUrl && !secret) throw new TypeError('WEBHOOK_SECRET is required when WEBHOOK_URL is set');
  const admin = env.ADMIN_CHAT_ID;
  return {
    token,
    apiRoot: env.BOT_API_ROOT || undefined,
    redisUrl: env.REDIS_URL || 'redis://127.0.0.1:6379',
    databaseUrl: env.DATABASE_URL || './data/bot.db',
    webhook: webhookUrl ? { url: webhookUrl, secretToken: secret, port: int(env, 'WEBHOOK_PORT', 3000) } : undefined,
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

/**
 * Builds the Telegraf bot and wires every botkit package around it; `start()` to run, `stop()` (or
 * SIGTERM after `app.shutdown.install()`) for the ordered teardown.
 */
async function createApp(config) {
  const timings = { ...DEFAULT_TIMINGS, ...config.timings };
  const logger = config.logger ?? noopLogger;
  const telegram = { token: config.token, ...(config.apiRoot ? { apiRoot: config.apiRoot } : {}) };

  // ---- connections ----
  const notes = await openNotesStore(config.databaseUrl);
  const rawRedis = new Redis(config.redisUrl, {
    lazyConnect: true,
    maxRetriesPerRequest: 1,
    retryStrategy: (times) => Math.min(50 * 2 ** Math.min(times, 10), timings.redisMaxReconnectDelayMs),
  });
  let redisErrors = 0;
  rawRedis.on('error', (error) => {
    if (redisErrors++ % 50 === 0) logger.warn({ err: error, attempts: redisErrors }, 'redis connection error');
  });
  rawRedis.on('ready', () => {
    redisErrors = 0;
  });
  const redis = withCircuit(rawRedis, {
    commandTimeoutMs: timings.redisCommandTimeoutMs,
    resetAfterMs: timings.redisResetAfterMs,
    fallback: memoryFallback({ maxEntries: 10_000, onMiss: 'null' }),
    logger,
  });
  const circuit = circuitOf(redis);
  rawRedis.connect().catch(() => {});
  const degraded = () => circuit.state !== 'closed';

  // ---- the bot ----
  const bot = new Telegraf(config.token, config.apiRoot ? { telegram: { apiRoot: config.apiRoot } } : {});
  // Replies survive Telegram's 429 flood waits and 5xx hiccups (bounded; see telegram-retry.cjs).
  // Telegraf builds a new client for each update: wrap the bot's and, first thing, each ctx.telegram.
  retryTelegramCalls(bot.telegram, { logger });
  bot.use((ctx, next) => {
    retryTelegramCalls(ctx.telegram, { logger });
    return next();
  });
  const shutdown = createShutdown({ ...config.shutdownOptions, timeoutMs: config.shutdownTimeoutMs, logger });
  const updates = updateMetrics();
  bot.use(updates.middleware);
  // Track every update so the drain phase waits for it. Not shutdown.middleware(): Telegraf's own
  // poller confirms what it fetched, so an update refused there would be lost (the failover would
  // hand it back to Telegram); the transport hook in the intake phase stops fetching instead.
  bot.use((_ctx, next) => shutdown.track(() => next()));
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
      store: new RedisSessionStore(redis, 'example-telegraf:session:'),
      defaultSession: () => ({ count: 0 }),
      getSessionKey: (ctx) => (ctx.from ? String(ctx.from.id) : undefined),
    }),
  );
  bot.start((ctx) =>
    ctx.reply(
      `Hello, ${ctx.from.first_name}! I count (/count), keep notes (/note <text>) and report my health (/status).`,
    ),
  );
  bot.command('count', async (ctx) => {
    ctx.session.count += 1;
    await ctx.reply(`Count: ${ctx.session.count}${degraded() ? ' (Redis is away: counting in memory for now)' : ''}`);
  });
  bot.command('note', async (ctx) => {
    const userId = ctx.from?.id ?? ctx.chat.id;
    const text = (ctx.payload ?? '').trim();
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
  bot.on('text', (ctx) => ctx.reply('Try /start, /count, /note <text> or /status.'));
  bot.catch((error, ctx) => {
    if (isBotkitError(error, 'BOTKIT_SHUTTING_DOWN')) return;
    logger.error({ err: error, updateId: ctx.update.update_id }, 'handler failed');
  });

  // ---- transport ----
  let failover;
  let launched;
  if (config.webhook) {
    failover = createFailover({
      ...telegram,
      adapter: telegrafAdapter(bot),
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
  let polling = false;
  const transportProbe = failover
    ? failover.probe()
    : {
        name: 'polling',
        check: async () =>
          polling ? { status: 'healthy' } : { status: 'unhealthy', message: 'the bot is not polling' },
      };

  // ---- backups ----
  mkdirSync(config.backup.dir, { recursive: true });
  const backups = createBackups({
    driver: notes.backupDriver(),
    dir: config.backup.dir,
    retention: config.backup.retention,
    logger,
  });
  let schedule;

  // ---- health ----
  const monitor = createHealthMonitor({
    intervalMs: timings.healthIntervalMs,
    timeoutMs: timings.healthTimeoutMs,
    failureThreshold: timings.failureThreshold,
    recoveryThreshold: timings.recoveryThreshold,
    logger,
  });
  monitor
    .addProbe(notes.probe())
    .addProbe(transportProbe)
    .addProbe(redisProbe(redis, { isFallback: degraded }), { critical: false })
    .addProbe(circuit.probe(), { critical: false })
    .addProbe(telegramProbe(telegram), { critical: false })
    .addProbe(backups.probe({ maxAgeMs: config.backup.maxAgeMs }), { critical: false })
    .addProbe(updatesProbe({ metrics: updates, ...telegram, maxIdleMs: timings.maxIdleMs }), { critical: false })
    .addStats(updates);
  let alerts;
  if (config.adminChatId !== undefined) {
    alerts = telegramAlerts({
      ...telegram,
      chatId: config.adminChatId,
      title: 'example-telegraf-bot',
      windowMs: timings.alertWindowMs,
    });
    monitor.onAlert(alerts);
  }
  const healthServer = createHealthServer(monitor, { port: config.health.port, host: config.health.host, shutdown });

  // ---- ordered teardown ----
  const hookTimeoutMs = Math.max(1000, Math.floor(config.shutdownTimeoutMs / 2));
  shutdown.add(
    'transport',
    async () => {
      if (failover) await failover.stop();
      else if (polling) {
        polling = false;
        bot.stop('shutdown'); // Telegraf confirms the offset when launch() resolves: awaited below
        await launched;
      }
    },
    { phase: 'intake', timeoutMs: hookTimeoutMs },
  );
  shutdown.add('health-monitor', () => monitor.stop(), { phase: 'services' });
  shutdown.add('backups', async () => {
    schedule?.stop();
    await backups.stop();
  });
  shutdown.add('health-server', () => healthServer.stop(), { phase: 'flush' });
  shutdown.add('redis', () => rawRedis.quit().catch(() => rawRedis.disconnect()), { phase: 'connections' });
  shutdown.add('database', () => notes.close(), { phase: 'connections' });
  // Log the teardown as it happens (as the grammY example does): operators read the order from the logs.
  shutdown.on('phaseStarted', (phase) => logger.info({ phase }, 'shutdown phase'));
  shutdown.on('shutdownFinished', (report) =>
    logger.info(
      { exitCode: report.exitCode, timedOut: report.timedOut, tasks: report.tasks, hooks: report.hooks.length },
      'shutdown finished',
    ),
  );

  let started;
  const app = {
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
      return polling ? 'polling' : 'stopped';
    },
    start() {
      started ??= (async () => {
        await healthServer.start();
        if (failover) {
          await failover.start();
        } else {
          polling = true;
          launched = bot.launch().catch((error) => {
            polling = false;
            logger.error({ err: error }, 'polling stopped with an error');
            void shutdown.shutdown('polling failed');
          });
        }
        // No fresh backup yet (first start, or the bot was down): take one before the first health
        // check, so the freshness probe does not alert about a backup that is being taken.
        const [latest] = await backups.list();
        if (!latest || Date.now() - latest.createdAtMs > config.backup.maxAgeMs) {
          const startup = backups.backup({ label: 'startup' }).catch(() => {}); // logged by the backups (backup failed)
          await Promise.race([startup, new Promise((resolve) => setTimeout(resolve, 10_000).unref())]);
        }
        schedule = backups.schedule(config.backup.cron, { prune: true });
        monitor.start();
        logger.info({ mode: app.mode, health: healthServer.url, database: notes.kind }, 'bot started');
      })();
      return started;
    },
    stop: (reason = 'stop() called') => shutdown.shutdown(reason),
  };
  return app;
}

module.exports = { createApp, configFromEnv, DEFAULT_TIMINGS };
