import {
  type Clock,
  type ClockTimer,
  isBotkitError,
  isProbeStatus,
  type Lifecycle,
  type Logger,
  noopLogger,
  type Probe,
  type ProbeStatus,
  redact,
  systemClock,
  withTimeout,
  worstStatus,
} from '@botkit/core';
import { EventEmitter } from 'eventemitter3';
import { applyResult, type HysteresisState, initialHysteresisState } from './hysteresis.js';
import type {
  AlertSink,
  HealthAlert,
  HealthProbeResult,
  HealthStatus,
  ProbeOptions,
  ProbeSnapshot,
  StateChange,
  StatsSource,
} from './types.js';
import { positiveInt, positiveNumber } from './validate.js';

/**
 * Options of {@link createHealthMonitor}.
 *
 * @example
 * ```ts
 * import type { HealthMonitorOptions } from '@botkit/health';
 *
 * const options: HealthMonitorOptions = { probes: [], intervalMs: 15_000, failureThreshold: 2 };
 * ```
 */
export interface HealthMonitorOptions {
  /** Probes to register (critical, with the monitor's defaults); more can be added with `addProbe`. @defaultValue `[]` */
  probes?: Iterable<Probe> | undefined;
  /** Time between the end of one heartbeat run and the start of the next. @defaultValue `30000` */
  intervalMs?: number | undefined;
  /** Default time limit of one check. @defaultValue `10000` */
  timeoutMs?: number | undefined;
  /** Default failing checks in a row before a probe is unhealthy. @defaultValue `3` */
  failureThreshold?: number | undefined;
  /** Default passing checks in a row before an unhealthy probe recovers. @defaultValue `2` */
  recoveryThreshold?: number | undefined;
  /**
   * Random spread of the interval, as a fraction (0.1 = ±10%), so replicas do not check in
   * lockstep. @defaultValue `0.1`
   */
  jitter?: number | undefined;
  /** Clock for timers, timeouts and timestamps (tests pass `createTestClock()`). @defaultValue `systemClock` */
  clock?: Clock | undefined;
  /** Where to log state changes and sink errors. @defaultValue silent */
  logger?: Logger | undefined;
}

/**
 * Events of a {@link HealthMonitor}.
 *
 * @example
 * ```ts
 * monitor.on('checked', (status) => console.log(status.status));
 * ```
 */
export interface HealthMonitorEvents {
  /** A probe's stable status changed (including `unknown` -> first status). */
  stateChange: [change: StateChange];
  /** A probe became unhealthy or recovered; one per change. */
  alert: [alert: HealthAlert];
  /** A full run (`runAll` or a heartbeat) finished. */
  checked: [status: HealthStatus];
}

/**
 * Runs probes, applies hysteresis, emits alerts and keeps the last results for the HTTP
 * endpoints (see {@link createHealthMonitor}).
 */
export interface HealthMonitor extends EventEmitter<HealthMonitorEvents>, Lifecycle {
  /** Increases whenever `status()` would return something different (used to cache responses). */
  readonly revision: number;
  /** Whether the heartbeat loop is running. */
  readonly running: boolean;
  /**
   * Registers a probe.
   *
   * @param probe - any `Probe`
   * @param options - critical flag, timeout and thresholds for this probe
   * @returns the monitor, for chaining
   * @throws TypeError when a probe with the same name exists or an option is invalid
   */
  addProbe(probe: Probe, options?: ProbeOptions): this;
  /**
   * Unregisters a probe.
   *
   * @param name - the probe's name
   * @returns whether a probe was removed
   */
  removeProbe(name: string): boolean;
  /**
   * Registers a stats source shown in `status().stats` and `/metrics`.
   *
   * @param source - a named set of counters
   * @returns the monitor, for chaining
   */
  addStats(source: StatsSource): this;
  /**
   * Checks every probe once, concurrently (it takes as long as the slowest probe). A call made
   * while a run is in flight joins that run instead of starting another.
   *
   * @param options - `signal` to give up (and abort the probes of a run this call started)
   * @returns the status after the run
   * @throws the signal's reason when aborted
   */
  runAll(options?: { signal?: AbortSignal | undefined }): Promise<HealthStatus>;
  /**
   * The current summary from the last results; never runs a probe.
   *
   * @returns overall status, readiness, per-probe state and stats
   */
  status(): HealthStatus;
  /**
   * The registered stats sources (for exporters such as `/metrics`).
   *
   * @returns the sources, in registration order
   */
  statsSources(): readonly StatsSource[];
  /**
   * Calls `sink` for every alert. Errors thrown or rejected by the sink are logged, never rethrown.
   *
   * @param sink - a callback such as {@link telegramAlerts}
   * @returns a function that unsubscribes
   */
  onAlert(sink: AlertSink): () => void;
}

interface Entry {
  probe: Probe;
  critical: boolean;
  timeoutMs: number;
  thresholds: { failureThreshold: number; recoveryThreshold: number };
  state: HysteresisState;
  lastResult: ProbeStatus | null;
  message: string | undefined;
  details: Record<string, unknown> | undefined;
  latencyMs: number | null;
  lastCheckedAt: number | null;
  since: number;
}

function cleanDetails(details: unknown): Record<string, unknown> | undefined {
  if (typeof details !== 'object' || details === null) return undefined;
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(details)) out[key] = typeof value === 'string' ? redact(value) : value;
  return out;
}

function errorMessage(error: unknown): string {
  if (isBotkitError(error, 'BOTKIT_TIMEOUT')) return error.message;
  if (error instanceof Error) return redact(error.message || error.name);
  return redact(String(error));
}

class Monitor extends EventEmitter<HealthMonitorEvents> implements HealthMonitor {
  #entries = new Map<string, Entry>();
  #stats = new Map<string, StatsSource>();
  #sinks = new Set<AlertSink>();
  #deliveries = new Set<Promise<void>>();
  #clock: Clock;
  #logger: Logger;
  #defaults: { timeoutMs: number; failureThreshold: number; recoveryThreshold: number };
  #intervalMs: number;
  #jitter: number;
  #inflight: Promise<HealthStatus> | undefined;
  #timer: ClockTimer | undefined;
  #running = false;
  #stopController: AbortController | undefined;
  #checkedAt: number | null = null;
  #revision = 0;

  constructor(options: HealthMonitorOptions) {
    super();
    this.#clock = options.clock ?? systemClock;
    this.#logger = options.logger ?? noopLogger;
    this.#intervalMs = positiveNumber('intervalMs', options.intervalMs, 30_000);
    this.#jitter = options.jitter ?? 0.1;
    if (!(this.#jitter >= 0 && this.#jitter < 1)) {
      throw new TypeError(`Expected jitter between 0 (inclusive) and 1, got ${options.jitter}`);
    }
    this.#defaults = {
      timeoutMs: positiveNumber('timeoutMs', options.timeoutMs, 10_000),
      failureThreshold: positiveInt('failureThreshold', options.failureThreshold, 3),
      recoveryThreshold: positiveInt('recoveryThreshold', options.recoveryThreshold, 2),
    };
    for (const probe of options.probes ?? []) this.addProbe(probe);
  }

  get revision(): number {
    return this.#revision;
  }

  get running(): boolean {
    return this.#running;
  }

  addProbe(probe: Probe, options: ProbeOptions = {}): this {
    if (typeof probe !== 'object' || probe === null || typeof probe.check !== 'function') {
      throw new TypeError('Expected probe to be an object with a check() method');
    }
    if (typeof probe.name !== 'string' || probe.name.length === 0) {
      throw new TypeError('Expected probe.name to be a non-empty string');
    }
    if (this.#entries.has(probe.name)) throw new TypeError(`A probe named "${probe.name}" is already registered`);
    const d = this.#defaults;
    this.#entries.set(probe.name, {
      probe,
      critical: options.critical ?? true,
      timeoutMs: positiveNumber('timeoutMs', options.timeoutMs, d.timeoutMs),
      thresholds: {
        failureThreshold: positiveInt('failureThreshold', options.failureThreshold, d.failureThreshold),
        recoveryThreshold: positiveInt('recoveryThreshold', options.recoveryThreshold, d.recoveryThreshold),
      },
      state: initialHysteresisState(),
      lastResult: null,
      message: undefined,
      details: undefined,
      latencyMs: null,
      lastCheckedAt: null,
      since: this.#clock.now(),
    });
    this.#revision++;
    return this;
  }

  removeProbe(name: string): boolean {
    const removed = this.#entries.delete(name);
    if (removed) this.#revision++;
    return removed;
  }

  addStats(source: StatsSource): this {
    if (typeof source?.stats !== 'function' || !/^[a-z][a-z0-9_]*$/.test(String(source.name))) {
      throw new TypeError('Expected a stats source with a name matching /^[a-z][a-z0-9_]*$/ and a stats() method');
    }
    this.#stats.set(source.name, source);
    this.#revision++;
    return this;
  }

  statsSources(): readonly StatsSource[] {
    return [...this.#stats.values()];
  }

  onAlert(sink: AlertSink): () => void {
    if (typeof sink !== 'function') throw new TypeError('Expected sink to be a function');
    this.#sinks.add(sink);
    return () => {
      this.#sinks.delete(sink);
    };
  }

  runAll(options: { signal?: AbortSignal | undefined } = {}): Promise<HealthStatus> {
    const { signal } = options;
    if (signal?.aborted) return Promise.reject(signal.reason);
    if (this.#inflight) return signal ? raceSignal(this.#inflight, signal) : this.#inflight;
    const run = this.#run(signal).finally(() => {
      if (this.#inflight === run) this.#inflight = undefined;
    });
    this.#inflight = run;
    return run;
  }

  async #run(signal: AbortSignal | undefined): Promise<HealthStatus> {
    const stopSignal = this.#stopController?.signal;
    const outer = signal && stopSignal ? AbortSignal.any([signal, stopSignal]) : (signal ?? stopSignal);
    const entries = [...this.#entries.values()];
    const results = await Promise.all(entries.map((entry) => this.#check(entry, outer)));
    if (outer?.aborted) throw outer.reason;
    for (const [i, entry] of entries.entries()) {
      const result = results[i];
      if (result && this.#entries.get(entry.probe.name) === entry) this.#apply(entry, result.result, result.latencyMs);
    }
    this.#checkedAt = this.#clock.now();
    this.#revision++;
    const status = this.status();
    this.emit('checked', status);
    return status;
  }

  async #check(
    entry: Entry,
    signal: AbortSignal | undefined,
  ): Promise<{ result: HealthProbeResult; latencyMs: number } | undefined> {
    const started = this.#clock.now();
    let result: HealthProbeResult;
    try {
      const raw: unknown = await withTimeout((probeSignal) => entry.probe.check({ signal: probeSignal }), {
        timeoutMs: entry.timeoutMs,
        signal,
        clock: this.#clock,
        what: `probe ${entry.probe.name}`,
      });
      if (typeof raw !== 'object' || raw === null || !isProbeStatus((raw as HealthProbeResult).status)) {
        result = { status: 'unhealthy', message: 'probe returned an invalid result' };
      } else {
        result = raw as HealthProbeResult;
      }
    } catch (error) {
      if (signal?.aborted) return undefined;
      result = { status: 'unhealthy', message: errorMessage(error) };
    }
    return { result, latencyMs: this.#clock.now() - started };
  }

  #apply(entry: Entry, result: HealthProbeResult, latencyMs: number): void {
    const now = this.#clock.now();
    const step = applyResult(entry.state, result.status, entry.thresholds, result.immediate === true);
    const from = entry.state.status;
    entry.state = step.state;
    entry.lastResult = result.status;
    entry.message = typeof result.message === 'string' ? redact(result.message) : undefined;
    entry.details = cleanDetails(result.details);
    entry.latencyMs = latencyMs;
    entry.lastCheckedAt = now;
    if (!step.changed) return;
    entry.since = now;
    const change: StateChange = {
      probe: entry.probe.name,
      from,
      to: step.state.status,
      message: entry.message,
      at: new Date(now).toISOString(),
    };
    const log = step.state.status === 'unhealthy' ? this.#logger.warn : this.#logger.info;
    log.call(
      this.#logger,
      { probe: change.probe, from, to: change.to, message: change.message },
      'health state changed',
    );
    this.emit('stateChange', change);
    if (step.alert) {
      const alert: HealthAlert = {
        ...change,
        kind: step.alert,
        consecutiveFailures: step.state.consecutiveFailures,
      };
      this.emit('alert', alert);
      for (const sink of this.#sinks) this.#deliver(sink, alert);
    }
  }

  #deliver(sink: AlertSink, alert: HealthAlert): void {
    const delivery = (async () => {
      try {
        await sink(alert);
      } catch (error) {
        this.#logger.error({ probe: alert.probe, kind: alert.kind, err: errorMessage(error) }, 'alert sink failed');
      }
    })();
    this.#deliveries.add(delivery);
    void delivery.finally(() => this.#deliveries.delete(delivery));
  }

  status(): HealthStatus {
    const probes: Record<string, ProbeSnapshot> = {};
    const critical: ProbeStatus[] = [];
    let nonCriticalBad = false;
    let ready = true;
    for (const [name, e] of this.#entries) {
      probes[name] = {
        name,
        status: e.state.status,
        lastResult: e.lastResult,
        critical: e.critical,
        ...(e.message !== undefined ? { message: e.message } : {}),
        ...(e.details !== undefined ? { details: e.details } : {}),
        latencyMs: e.latencyMs,
        lastCheckedAt: e.lastCheckedAt === null ? null : new Date(e.lastCheckedAt).toISOString(),
        consecutiveFailures: e.state.consecutiveFailures,
        consecutiveSuccesses: e.state.consecutiveSuccesses,
        since: new Date(e.since).toISOString(),
      };
      if (e.critical) {
        critical.push(e.state.status);
        if (e.state.status === 'unhealthy' || e.state.status === 'unknown') ready = false;
      } else if (e.state.status === 'unhealthy' || e.state.status === 'unknown') {
        nonCriticalBad = true;
      }
    }
    if (nonCriticalBad) critical.push('degraded');
    const stats: Record<string, Record<string, number>> = {};
    for (const [name, source] of this.#stats) {
      try {
        stats[name] = source.stats();
      } catch {
        stats[name] = {};
      }
    }
    return {
      status: worstStatus(critical),
      ready,
      checkedAt: this.#checkedAt === null ? null : new Date(this.#checkedAt).toISOString(),
      probes,
      stats,
    };
  }

  start(): void {
    if (this.#running) return;
    this.#running = true;
    this.#stopController = new AbortController();
    this.#schedule(0);
  }

  #schedule(delayMs: number): void {
    this.#timer = this.#clock.setTimeout(() => {
      this.#timer = undefined;
      this.runAll()
        .catch(() => {})
        .finally(() => {
          if (!this.#running) return;
          const spread = this.#intervalMs * this.#jitter;
          this.#schedule(this.#intervalMs + (Math.random() * 2 - 1) * spread);
        });
    }, delayMs);
    this.#timer.unref();
  }

  async stop(): Promise<void> {
    this.#running = false;
    if (this.#timer) this.#clock.clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#stopController?.abort(new Error('health monitor stopped'));
    this.#stopController = undefined;
    await this.#inflight?.catch(() => {});
    await Promise.all(this.#deliveries);
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.stop();
  }
}

function raceSignal<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error);
      },
    );
  });
}

/**
 * Creates a health monitor: it runs your probes (on demand with `runAll`, or as a heartbeat with
 * `start`), turns their raw results into stable statuses with hysteresis (unhealthy after
 * `failureThreshold` failures in a row, recovered after `recoveryThreshold` passes), emits one
 * `alert` per change, and keeps the last results for `/health`, `/ready` and `/metrics`.
 *
 * @param options - probes, interval, timeout, thresholds, clock, logger
 * @returns a {@link HealthMonitor} (call `start()` for the heartbeat, `stop()` to release it)
 * @throws TypeError when an option is invalid, naming the option
 *
 * @example
 * ```ts
 * import { Redis } from 'ioredis';
 * import { createHealthMonitor, redisProbe, telegramProbe } from '@botkit/health';
 *
 * const redis = new Redis(process.env.REDIS_URL!);
 * const monitor = createHealthMonitor({ probes: [redisProbe(redis)], intervalMs: 30_000 });
 * monitor.addProbe(telegramProbe({ token: process.env.BOT_TOKEN! }), { critical: false });
 * monitor.onAlert((alert) => console.warn(`${alert.probe} ${alert.kind}`));
 * monitor.start();
 * ```
 */
export function createHealthMonitor(options: HealthMonitorOptions = {}): HealthMonitor {
  return new Monitor(options);
}
