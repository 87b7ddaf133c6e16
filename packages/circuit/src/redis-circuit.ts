import { type Clock, type Logger, systemClock, withTimeout } from '@botkit/core';
import { Circuit, internal } from './circuit.js';
import { CircuitOpenError, CircuitTimeoutError, ConnectionLostError } from './errors.js';
import { MemoryFallback } from './memory-fallback.js';
import { isRedisFailure } from './redis-errors.js';
import { checkFunction, checkNumber } from './validate.js';

/**
 * The part of an ioredis client the wrapper relies on (ioredis 5 and 6 `Redis` match it). Typed
 * structurally so that importing `@botkit/circuit` never loads ioredis.
 *
 * @example
 * ```ts
 * import { Redis } from 'ioredis';
 * import type { RedisClientLike } from '@botkit/circuit';
 *
 * const client: RedisClientLike = new Redis();
 * ```
 */
export interface RedisClientLike {
  /** ioredis connection status: `wait`, `connecting`, `connect`, `ready`, `close`, `reconnecting`, `end`. */
  readonly status: string;
  /** The client's options; the wrapper reads `commandTimeout` and turns off `autoResendUnfulfilledCommands`. */
  readonly options: { commandTimeout?: number | undefined; autoResendUnfulfilledCommands?: boolean | undefined };
  /** Names of the built-in commands. */
  getBuiltinCommands(): string[];
  /** PING, used as the half-open trial. */
  ping(): Promise<unknown>;
  /** Connects a `lazyConnect` client. */
  connect(): Promise<void>;
  /**
   * Adds an event listener (`ready`, `close`, `end`).
   *
   * @param event - event name
   * @param listener - callback
   */
  on(event: string, listener: () => void): unknown;
  /**
   * Removes an event listener.
   *
   * @param event - event name
   * @param listener - callback
   */
  removeListener(event: string, listener: () => void): unknown;
}

/**
 * A fallback function for {@link withCircuit}: serves a command while the breaker is open (or a
 * command that failed with a counted failure) from somewhere other than Redis.
 *
 * @example
 * ```ts
 * import type { RedisFallbackFn } from '@botkit/circuit';
 *
 * const fallback: RedisFallbackFn = (error, command) => {
 *   if (command === 'get') return null;
 *   throw error;
 * };
 * ```
 */
export type RedisFallbackFn = (error: unknown, command: string, args: readonly unknown[]) => unknown;

/**
 * Options of {@link withCircuit}.
 *
 * @example
 * ```ts
 * import { memoryFallback, type RedisCircuitOptions } from '@botkit/circuit';
 *
 * const options: RedisCircuitOptions = { commandTimeoutMs: 500, resetAfterMs: 5000, fallback: memoryFallback() };
 * ```
 */
export interface RedisCircuitOptions {
  /** Name of the breaker (errors, logs, probe `circuit:<name>`). @defaultValue `'redis'` */
  name?: string | undefined;
  /** Opens after this many consecutive failures. @defaultValue `3` */
  failureThreshold?: number | undefined;
  /** Opt-in error-rate mode, see {@link CircuitOptions.errorThresholdPercentage}. @defaultValue undefined (off) */
  errorThresholdPercentage?: number | undefined;
  /** Error-rate window in milliseconds. @defaultValue `10000` */
  rollingWindowMs?: number | undefined;
  /** Minimum calls in the window before the error rate can open. @defaultValue `10` */
  volumeThreshold?: number | undefined;
  /** How long the breaker stays open before its PING trial, in milliseconds. @defaultValue `5000` */
  resetAfterMs?: number | undefined;
  /**
   * Time limit of one command (and one pipeline `exec()`) in milliseconds: a command that takes
   * longer rejects with {@link CircuitTimeoutError} (at most 10 ms late), counts as a failure
   * and is never resent.
   * @defaultValue the client's `commandTimeout` option when set, else `1000`
   */
  commandTimeoutMs?: number | undefined;
  /** Which errors count against the breaker. @defaultValue {@link isRedisFailure} */
  isFailure?: ((error: unknown) => boolean) | undefined;
  /**
   * Degraded mode while open: a {@link memoryFallback} or a function. @defaultValue undefined
   * (commands reject with {@link CircuitOpenError})
   */
  fallback?: MemoryFallback | RedisFallbackFn | undefined;
  /** Source of time. @defaultValue `systemClock` */
  clock?: Clock | undefined;
  /** Receives state changes. @defaultValue silent */
  logger?: Logger | undefined;
}

/**
 * Arguments of the breaker behind a wrapped client: command name, its arguments, and for
 * `exec()` the runner.
 *
 * @example
 * ```ts
 * import type { RedisCallArgs } from '@botkit/circuit';
 *
 * const args: RedisCallArgs = ['get', ['session:1']];
 * ```
 */
export type RedisCallArgs = [command: string, args: unknown[], run?: () => Promise<unknown>];

/**
 * The breaker behind a client wrapped by {@link withCircuit}, returned by {@link circuitOf}.
 *
 * @example
 * ```ts
 * import { circuitOf, type RedisCircuit } from '@botkit/circuit';
 *
 * const breaker: RedisCircuit | undefined = circuitOf(redis);
 * ```
 */
export type RedisCircuit = Circuit<RedisCallArgs, unknown>;

/** Commands that pass through unwrapped: pub/sub, blocking commands, and QUIT. */
const PASS_THROUGH = new Set([
  'subscribe',
  'unsubscribe',
  'psubscribe',
  'punsubscribe',
  'ssubscribe',
  'sunsubscribe',
  'blpop',
  'brpop',
  'brpoplpush',
  'blmove',
  'blmpop',
  'bzpopmin',
  'bzpopmax',
  'bzmpop',
  'wait',
  'waitaof',
  'quit',
]);
/** Commands that block only with a BLOCK argument. */
const BLOCK_ARG = new Set(['xread', 'xreadgroup']);

const circuits = new WeakMap<object, RedisCircuit>();
const wrapped = new WeakSet<object>();
const noop = () => {};

type AnyMethod = (...args: unknown[]) => unknown;
type Callback = (error: unknown, result?: unknown) => void;

function hasBlockArg(args: readonly unknown[]): boolean {
  for (const arg of args) if (typeof arg === 'string' && arg.toUpperCase() === 'BLOCK') return true;
  return false;
}

/** Lower-case command name of a method (`getBuffer` -> `get`). */
function commandOf(method: string): string {
  return (method.endsWith('Buffer') ? method.slice(0, -6) : method).toLowerCase();
}

/**
 * Wraps an ioredis client so that every command goes through a circuit breaker, and a dead Redis
 * never freezes the bot: commands settle within `commandTimeoutMs`, the breaker opens after
 * `failureThreshold` failures or at once when the connection closes with commands in flight,
 * and while open commands reject in microseconds with {@link CircuitOpenError} (or are served by
 * the fallback) without reaching ioredis or its offline queue. After `resetAfterMs` one PING,
 * sent once the client is `ready`, decides whether to close.
 *
 * The returned client has the same TypeScript type as the given one. What is wrapped:
 * every built-in command (and its `...Buffer` variant), `call()`, scripts from
 * `defineCommand()`, and `pipeline()`/`multi()` whose `exec()` is one breaker call. What passes
 * through unwrapped: pub/sub (`subscribe`...), blocking commands (`BLPOP`, `BRPOP`, `BLMOVE`,
 * `BZPOPMIN`, `XREAD`/`XREADGROUP` with `BLOCK`, `WAIT`...), `quit()`, `duplicate()` (returns a
 * plain client), `multi({ pipeline: false })`, and every non-command member (`on`, `status`...).
 *
 * Two changes to the client itself: commands are only handed to ioredis when it is `ready`
 * (never to its offline queue), and `autoResendUnfulfilledCommands` is turned off, because a
 * command whose caller was told it failed must not be replayed after reconnect (ioredis #2130).
 *
 * @param redis - an ioredis `Redis` client (not `Cluster`)
 * @param options - thresholds, timeout and fallback; see {@link RedisCircuitOptions}
 * @returns a client of the same type whose commands go through the breaker
 * @throws TypeError when an option is invalid or the client is already wrapped
 *
 * @example
 * ```ts
 * import { Redis } from 'ioredis';
 * import { circuitOf, withCircuit } from '@botkit/circuit';
 *
 * const redis = withCircuit(new Redis(process.env.REDIS_URL), { commandTimeoutMs: 500 });
 * await redis.set('greeting', 'hi', 'EX', 60); // same API, typed as Redis
 * health.add(circuitOf(redis)!.probe());
 * ```
 */
export function withCircuit<T extends RedisClientLike>(redis: T, options: RedisCircuitOptions = {}): T {
  if (typeof redis !== 'object' || redis === null || typeof redis.getBuiltinCommands !== 'function') {
    throw new TypeError('Expected redis to be an ioredis client');
  }
  if (wrapped.has(redis) || circuits.has(redis)) throw new TypeError('Expected redis not to be wrapped already');
  checkNumber('commandTimeoutMs', options.commandTimeoutMs, 1);
  checkFunction('isFailure', options.isFailure);
  const { fallback } = options;
  if (fallback !== undefined && typeof fallback !== 'function' && !(fallback instanceof MemoryFallback)) {
    throw new TypeError('Expected fallback to be a function or a memoryFallback()');
  }
  const clientTimeout = redis.options?.commandTimeout;
  const commandTimeoutMs =
    options.commandTimeoutMs ?? (typeof clientTimeout === 'number' && clientTimeout > 0 ? clientTimeout : 1000);
  const clock = options.clock ?? systemClock;
  const target = redis as T & Record<string, unknown>;
  const cache = fallback instanceof MemoryFallback ? fallback : undefined;
  const fallbackFn = typeof fallback === 'function' ? fallback : undefined;
  const name = options.name ?? 'redis';

  // Readiness: commands go to ioredis only when ready; before the first `ready` they wait for it.
  let everReady = redis.status === 'ready';
  let readyWaiters: (() => void)[] = [];
  const onReady = () => {
    everReady = true;
    const waiters = readyWaiters;
    readyWaiters = [];
    for (const resolve of waiters) resolve();
  };
  const whenReady = (signal?: AbortSignal): Promise<void> =>
    new Promise<void>((resolve, reject) => {
      if (signal?.aborted) return reject(signal.reason);
      const onAbort = () => {
        readyWaiters = readyWaiters.filter((w) => w !== done);
        reject(signal?.reason);
      };
      const done = () => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      };
      readyWaiters.push(done);
      signal?.addEventListener('abort', onAbort, { once: true });
    });

  const send = (command: string, args: unknown[], run?: () => Promise<unknown>): Promise<unknown> => {
    if (redis.status !== 'ready') return notReady(command, args, run);
    const method = target[command] as AnyMethod;
    let promise = (run ? run() : method.apply(redis, args)) as Promise<unknown>;
    if (cache) {
      const base = commandOf(command);
      if (cache.observes(base)) {
        promise = promise.then((value) => {
          cache.observe(base, args, value);
          return value;
        });
      }
    }
    return promise;
  };

  const notReady = (command: string, args: unknown[], run?: () => Promise<unknown>): Promise<unknown> => {
    if (everReady || redis.status === 'end') {
      const error = new CircuitOpenError(name, undefined, `Redis is not ready (status ${redis.status})`);
      breaker[internal].trip(error);
      return Promise.reject(error);
    }
    // Starting up: wait for the first `ready` ourselves (never in ioredis' offline queue), and
    // send only if the command has not timed out meanwhile.
    if (redis.status === 'wait') redis.connect().catch(noop);
    const deadline = clock.now() + commandTimeoutMs;
    return whenReady().then(() => {
      if (clock.now() >= deadline) throw new CircuitTimeoutError(name, commandTimeoutMs);
      return send(command, args, run);
    });
  };

  const breaker: RedisCircuit = new Circuit<RedisCallArgs, unknown>(send, {
    name,
    failureThreshold: options.failureThreshold,
    errorThresholdPercentage: options.errorThresholdPercentage,
    rollingWindowMs: options.rollingWindowMs,
    volumeThreshold: options.volumeThreshold,
    resetAfterMs: options.resetAfterMs ?? 5000,
    timeoutMs: commandTimeoutMs,
    isFailure: options.isFailure ?? isRedisFailure,
    fallback: cache
      ? (error, command, args) => cache.serve(commandOf(command), args, error)
      : fallbackFn
        ? (error, command, args) => fallbackFn(error, commandOf(command), args)
        : undefined,
    // The half-open trial is a PING once the client is ready; waiting for `ready` has no limit
    // (callers keep being rejected meanwhile), the PING itself has commandTimeoutMs.
    trial: async ({ signal }) => {
      if (redis.status !== 'ready') await whenReady(signal);
      await withTimeout(() => redis.ping(), { timeoutMs: commandTimeoutMs, clock, signal, what: 'PING trial' });
    },
    trialTimeoutMs: Number.POSITIVE_INFINITY,
    clock,
    logger: options.logger,
  });

  // Connection-aware: when the connection drops with commands in flight, open at once and fail
  // them (ioredis would otherwise hold them until reconnect and, by default, resend them).
  const onClose = () => {
    if (!everReady) return;
    const hooks = breaker[internal];
    if (hooks.pending() === 0) return;
    hooks.trip(new ConnectionLostError('a command'));
    hooks.expirePending((args) => new ConnectionLostError(commandOf(args[0]).toUpperCase()));
  };
  const onClosed = () => cache?.clear();
  redis.options.autoResendUnfulfilledCommands = false;
  redis.on('ready', onReady);
  redis.on('close', onClose);
  redis.on('end', onClose);
  if (cache) breaker.on('close', onClosed);
  breaker[internal].onDispose(() => {
    redis.removeListener('ready', onReady);
    redis.removeListener('close', onClose);
    redis.removeListener('end', onClose);
  });

  const builtin = new Set(redis.getBuiltinCommands());
  const isCommand = (prop: string): boolean => {
    const base = prop.endsWith('Buffer') ? prop.slice(0, -6) : prop;
    if (builtin.has(base) || base === 'call') return !PASS_THROUGH.has(base);
    const scripts = target.scriptsSet as Record<string, unknown> | undefined;
    return scripts !== undefined && Object.hasOwn(scripts, base);
  };

  const wrapCommand = (prop: string): AnyMethod => {
    const base = prop.endsWith('Buffer') ? prop.slice(0, -6) : prop;
    const raw = () => target[prop] as AnyMethod;
    return (...args: unknown[]) => {
      // call('BLPOP', ...) and XREAD ... BLOCK pass through like the methods.
      if (base === 'call' && typeof args[0] === 'string') {
        const name = args[0].toLowerCase();
        if (PASS_THROUGH.has(name) || (BLOCK_ARG.has(name) && hasBlockArg(args))) return raw().apply(redis, args);
      }
      if (BLOCK_ARG.has(base) && hasBlockArg(args)) return raw().apply(redis, args);
      const callback = typeof args[args.length - 1] === 'function' ? (args.pop() as Callback) : undefined;
      const promise = breaker.fire(prop, args);
      if (callback) promise.then((value) => callback(null, value), callback);
      return promise;
    };
  };

  const wrapPipeline = (prop: string): AnyMethod => {
    return (...args: unknown[]) => {
      const pipeline = (target[prop] as AnyMethod).apply(redis, args) as Record<string, unknown>;
      const first = args[0] as { pipeline?: boolean } | undefined;
      if (prop === 'multi' && first && typeof first === 'object' && first.pipeline === false) return pipeline;
      const exec = pipeline.exec as AnyMethod;
      pipeline.exec = (...execArgs: unknown[]) => {
        const callback = typeof execArgs[0] === 'function' ? (execArgs[0] as Callback) : undefined;
        const promise = breaker.fire('exec', [], () => exec.call(pipeline) as Promise<unknown>);
        if (callback) promise.then((value) => callback(null, value), callback);
        return promise;
      };
      return pipeline;
    };
  };

  const members = new Map<string, unknown>();
  const proxy = new Proxy(redis, {
    get(obj, prop) {
      if (typeof prop !== 'string') return Reflect.get(obj, prop, obj);
      const known = members.get(prop);
      if (known !== undefined) return known;
      const value = Reflect.get(obj, prop, obj);
      if (typeof value !== 'function') return value;
      let member: unknown;
      if (prop === 'pipeline' || prop === 'multi') member = wrapPipeline(prop);
      else if (isCommand(prop)) member = wrapCommand(prop);
      else member = (value as AnyMethod).bind(obj);
      members.set(prop, member);
      return member;
    },
  });
  wrapped.add(redis);
  circuits.set(proxy, breaker);
  return proxy;
}

/**
 * The breaker behind a client returned by {@link withCircuit}: its state, events, stats, probe
 * and snapshot.
 *
 * @param client - a client returned by {@link withCircuit}
 * @returns its breaker, or undefined for a client that was not wrapped
 *
 * @example
 * ```ts
 * import { circuitOf, withCircuit } from '@botkit/circuit';
 *
 * const redis = withCircuit(new Redis());
 * const breaker = circuitOf(redis)!;
 * breaker.on('stateChange', (from, to) => console.warn(`redis circuit ${from} -> ${to}`));
 * console.log(breaker.state, breaker.stats());
 * ```
 */
export function circuitOf(client: object): RedisCircuit | undefined {
  return circuits.get(client);
}
