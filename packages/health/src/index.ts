export {
  createHealthMonitor,
  type HealthMonitor,
  type HealthMonitorEvents,
  type HealthMonitorOptions,
} from './monitor.js';
export type {
  AlertSink,
  HealthAlert,
  HealthProbeResult,
  HealthStatus,
  LabeledValue,
  ProbeOptions,
  ProbeSnapshot,
  StateChange,
  StatsSource,
} from './types.js';
export { PROM_CLIENT_MISSING, type MetricsRegistry, type PromClientModule } from './metrics.js';
export {
  createHealthServer,
  type HealthDetails,
  type HealthHandlerOptions,
  type HealthRequestHandler,
  type HealthServer,
  type HealthServerOptions,
  healthHandler,
  type ShutdownSource,
} from './server.js';
export { type RedisPingable, type RedisProbeOptions, redisProbe } from './probes/redis.js';
export { type PgQueryable, type PostgresProbeOptions, postgresProbe } from './probes/postgres.js';
export { type SqliteProbeOptions, sqliteProbe } from './probes/sqlite.js';
export { type HttpProbeOptions, httpProbe } from './probes/http.js';
export { type EventLoopProbeOptions, eventLoopProbe } from './probes/event-loop.js';
export { type TelegramConnection, type TelegramProbeOptions, telegramProbe } from './probes/telegram.js';
export { type UpdatesProbeOptions, updatesProbe } from './probes/updates.js';
export {
  type UpdateContextLike,
  type UpdateMetrics,
  type UpdateMetricsOptions,
  updateMetrics,
} from './update-metrics.js';
export { type TelegramAlertSink, type TelegramAlertsOptions, telegramAlerts } from './telegram-alerts.js';
export {
  type ClusterHealth,
  type PublishToRedisOptions,
  publishToRedis,
  type RedisHashClient,
  type RedisPublication,
  type ReplicaHealth,
  readClusterHealth,
} from './cluster.js';
export { type InstrumentPgOptions, instrumentPg, type PgInstrumentation, type SlowQuery } from './instrument-pg.js';
