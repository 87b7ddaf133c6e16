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
