export {
  Circuit,
  type CircuitEvents,
  type CircuitOptions,
  type CircuitSnapshot,
  type CircuitState,
  type CircuitStats,
  type CircuitTrial,
  createCircuit,
} from './circuit.js';
export {
  CircuitErrorCode,
  type CircuitErrorCodeValue,
  CircuitOpenError,
  CircuitTimeoutError,
  ConnectionLostError,
} from './errors.js';
export { MemoryFallback, type MemoryFallbackOptions, memoryFallback } from './memory-fallback.js';
export {
  circuitOf,
  type RedisCallArgs,
  type RedisCircuit,
  type RedisCircuitOptions,
  type RedisClientLike,
  type RedisFallbackFn,
  withCircuit,
} from './redis-circuit.js';
export { isRedisFailure } from './redis-errors.js';
export {
  type RetryAttempt,
  type RetryInfo,
  type RetryOptions,
  type RetryPresetName,
  retryPresets,
  withRetry,
} from './retry.js';
