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
