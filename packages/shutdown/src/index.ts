export { ShuttingDownError } from './errors.js';
export {
  createShutdown,
  type Hook,
  type HookContext,
  type ShutdownEvents,
  ShutdownManager,
  type ShutdownMiddleware,
  type ShutdownState,
} from './manager.js';
export type { HookOptions, ShutdownOptions } from './options.js';
export { isPhase, type Phase, PHASES } from './phases.js';
export type { HookOutcome, HookResult, ShutdownReport, TaskReport } from './report.js';
export type { Task } from './tracker.js';
