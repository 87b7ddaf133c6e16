export {
  type GrammyBotLike,
  grammyAdapter,
  type TelegrafBotLike,
  telegrafAdapter,
  toAdapter,
  type UpdateAdapter,
  type UpdateHandler,
} from './adapters.js';
export {
  createMemoryDedupeStore,
  createRedisDedupeStore,
  type DedupeStore,
  type MemoryDedupeStoreOptions,
  type RedisDedupeClient,
  type RedisDedupeStoreOptions,
} from './dedupe.js';
export {
  classifyWebhookError,
  createWebhookDetector,
  type WebhookDetector,
  type WebhookDetectorOptions,
  type WebhookErrorKind,
  type WebhookObservation,
  type WebhookVerdict,
} from './detection.js';
export { FailoverError, FailoverErrorCode, type FailoverErrorCodeValue } from './errors.js';
export { createFailover } from './failover.js';
export type { Failover, FailoverEvents, FailoverMode } from './types.js';
export type {
  FailoverDetectionOptions,
  FailoverLease,
  FailoverOptions,
  FailoverPollingOptions,
  FailoverWebhookOptions,
} from './options.js';
export { createSwitchPolicy, type SwitchPolicy, type SwitchPolicyOptions } from './policy.js';
export type { UpdateInfo, UpdateSource } from './processor.js';
export type { HandlerTimeoutAction, WebhookRequestHandler } from './webhook-handler.js';
