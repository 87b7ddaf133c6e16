/**
 * @botkit/test-harness: real Redis and PostgreSQL servers for tests and benchmarks, on
 * 127.0.0.1, on free ports, in temporary directories. Every server can be stopped, SIGKILLed
 * and restarted on the same port, and is killed when the test process exits.
 */
export { type PostgresServer, type StartPostgresOptions, startPostgres } from './postgres.js';
export { type RedisServer, type StartRedisOptions, startRedis } from './redis.js';
export {
  freePort,
  isListening,
  MissingBinaryError,
  pgBinDir,
  type ServerHandle,
  waitFor,
  which,
} from './util.js';
