export { type AbortableOptions, anySignal } from './signals.js';
export { TimeoutError, type WithTimeoutOptions, withTimeout } from './abort.js';
export {
  type BotApi,
  type BotApiMethods,
  type BotApiOptions,
  type CallOptions,
  createBotApi,
  type MethodParams,
  type MethodResult,
  TelegramError,
  TelegramErrorCode,
  type TelegramErrorCodeValue,
  type TelegramErrorDetails,
} from './bot-api.js';
export { type Clock, type ClockTimer, createTestClock, sleep, systemClock, type TestClock } from './clock.js';
export { BotkitError, type BotkitErrorOptions, isBotkitError } from './errors.js';
export {
  createRedisLease,
  type LeaseRedis,
  type RedisLease,
  type RedisLeaseEvents,
  type RedisLeaseOptions,
} from './lease.js';
export { type Lifecycle, type LogFn, type Logger, noopLogger } from './logger.js';
export {
  isProbeStatus,
  type Probe,
  type ProbeContext,
  type ProbeResult,
  type ProbeStatus,
  worstStatus,
} from './probe.js';
export { redact, redactUrl } from './redact.js';
export type { Update, WebhookInfo, User, Message } from '@grammyjs/types';
