/**
 * A pino-compatible log function: `(message)` or `(object, message)`.
 */
export type LogFn = (objOrMessage: unknown, message?: string) => void;

/**
 * The logger botkit packages accept (a pino or console-like object). botkit is silent by
 * default; pass a logger to see what it does. botkit never logs a token, a password or a full
 * connection URL.
 *
 * @example
 * ```ts
 * import pino from 'pino';
 * import type { Logger } from '@botkit/core';
 *
 * const logger: Logger = pino();
 * ```
 */
export interface Logger {
  /** Verbose diagnostics. */
  debug?: LogFn;
  /** Normal operation (mode changes, completed backups). */
  info: LogFn;
  /** Something degraded but handled. */
  warn: LogFn;
  /** Something failed. */
  error: LogFn;
}

const noop: LogFn = () => {};

/**
 * A logger that discards everything: the default of every botkit package.
 *
 * @example
 * ```ts
 * import { noopLogger } from '@botkit/core';
 *
 * const logger = options.logger ?? noopLogger;
 * ```
 */
export const noopLogger: Logger = Object.freeze({ debug: noop, info: noop, warn: noop, error: noop });

/**
 * Long-lived botkit objects (monitors, failovers, schedulers) follow this shape: idempotent
 * `start()`, `stop()` that resolves when everything is released, and `Symbol.asyncDispose` for
 * `await using`. `@botkit/shutdown` accepts any `stop`.
 *
 * @example
 * ```ts
 * import type { Lifecycle } from '@botkit/core';
 *
 * async function run(service: Lifecycle) {
 *   await using running = service;
 *   await running.start();
 * }
 * ```
 */
export interface Lifecycle {
  /** Starts the object; calling it again while started does nothing. */
  start(): void | Promise<void>;
  /** Stops the object and releases its timers, sockets and listeners; idempotent. */
  stop(): Promise<void>;
  /** Same as `stop()`, for `await using`. */
  [Symbol.asyncDispose](): Promise<void>;
}
