import type { ProbeStatus } from '@botkit/core';
import type * as PromClient from 'prom-client';
import type { HealthMonitor } from './monitor.js';

/**
 * The prom-client module (`import * as promClient from 'prom-client'`), passed in so that
 * `@botkit/health` never loads it unless `/metrics` is used.
 *
 * @example
 * ```ts
 * import * as promClient from 'prom-client';
 * import type { PromClientModule } from '@botkit/health';
 *
 * const mod: PromClientModule = promClient;
 * ```
 */
export type PromClientModule = Pick<typeof PromClient, 'Registry' | 'Gauge' | 'Counter'>;

/**
 * Anything with a `metrics()` method returning Prometheus text, such as a prom-client `Registry`
 * (your application's own metrics, appended to `/metrics`).
 *
 * @example
 * ```ts
 * import { register } from 'prom-client';
 * import type { MetricsRegistry } from '@botkit/health';
 *
 * const appMetrics: MetricsRegistry = register;
 * ```
 */
export interface MetricsRegistry {
  /** Prometheus text exposition of the registry's metrics. */
  metrics(): Promise<string> | string;
}

const STATUSES: readonly ProbeStatus[] = ['healthy', 'degraded', 'unknown', 'unhealthy'];
const STATUS_VALUE: Record<ProbeStatus, number> = { healthy: 0, degraded: 1, unknown: 2, unhealthy: 3 };

/** Error text served when prom-client cannot be loaded. */
export const PROM_CLIENT_MISSING =
  "/metrics needs prom-client: install it (npm i prom-client) or pass { promClient } from 'prom-client'";

/**
 * Builds the Prometheus renderer for a monitor: a private prom-client registry whose gauges read
 * the monitor's last results on every scrape (never running a probe).
 */
export function createMetricsRenderer(
  monitor: HealthMonitor,
  options: { promClient?: PromClientModule | undefined; registries?: readonly MetricsRegistry[] | undefined },
): () => Promise<string> {
  interface Loaded {
    prom: PromClientModule;
    registry: PromClient.Registry;
    /** Names of the stats metrics registered so far. */
    statsMetrics: Set<string>;
    /** Registers a gauge whose `collect(g)` sets its values on every scrape (after a reset). */
    gauge: (name: string, help: string, labelNames: string[], collect: (g: PromClient.Gauge) => void) => void;
  }
  let loaded: Promise<Loaded> | undefined;
  const load = async (): Promise<Loaded> => {
    let prom: PromClientModule;
    if (options.promClient) prom = options.promClient;
    else {
      try {
        prom = (await import('prom-client')) as PromClientModule;
      } catch (error) {
        throw new Error(PROM_CLIENT_MISSING, { cause: error });
      }
    }
    const registry = new prom.Registry();
    const gauge = (name: string, help: string, labelNames: string[], collect: (g: PromClient.Gauge) => void) =>
      new prom.Gauge({
        name,
        help,
        labelNames,
        registers: [registry],
        collect() {
          this.reset();
          collect(this);
        },
      });
    const probes = () => Object.values(monitor.status().probes);
    gauge('botkit_health_status', 'Overall status: 0 healthy, 1 degraded, 2 unknown, 3 unhealthy', [], (g) =>
      g.set(STATUS_VALUE[monitor.status().status]),
    );
    gauge('botkit_health_ready', '1 when every critical probe is healthy or degraded', [], (g) =>
      g.set(monitor.status().ready ? 1 : 0),
    );
    gauge('botkit_health_probe_status', '1 for the current status of each probe', ['probe', 'status'], (g) => {
      for (const p of probes()) for (const s of STATUSES) g.set({ probe: p.name, status: s }, p.status === s ? 1 : 0);
    });
    gauge('botkit_health_probe_up', '1 when the probe is healthy or degraded, else 0', ['probe', 'critical'], (g) => {
      for (const p of probes()) {
        const up = p.status === 'healthy' || p.status === 'degraded';
        g.set({ probe: p.name, critical: String(p.critical) }, up ? 1 : 0);
      }
    });
    gauge('botkit_health_probe_latency_seconds', 'Duration of the last check', ['probe'], (g) => {
      for (const p of probes()) if (p.latencyMs !== null) g.set({ probe: p.name }, p.latencyMs / 1000);
    });
    gauge('botkit_health_probe_consecutive_failures', 'Failing checks in a row', ['probe'], (g) => {
      for (const p of probes()) g.set({ probe: p.name }, p.consecutiveFailures);
    });
    gauge('botkit_health_probe_last_check_timestamp_seconds', 'When the last check finished', ['probe'], (g) => {
      for (const p of probes()) if (p.lastCheckedAt) g.set({ probe: p.name }, Date.parse(p.lastCheckedAt) / 1000);
    });
    return { registry, statsMetrics: new Set<string>(), prom, gauge };
  };

  return async () => {
    loaded ??= load();
    let state: Loaded;
    try {
      state = await loaded;
    } catch (error) {
      loaded = undefined;
      throw error;
    }
    const { registry, statsMetrics, prom, gauge } = state;
    /**
     * Registers a stats metric once: a counter when its name ends in `_total` (Prometheus naming:
     * monotonic, so `rate()` and counter resets work), a gauge otherwise. Values are read at scrape.
     */
    const register = (
      name: string,
      help: string,
      labelNames: string[],
      read: () => readonly { labels: Record<string, string>; value: number }[],
    ) => {
      if (statsMetrics.has(name) || !/^[a-zA-Z_:][a-zA-Z0-9_:]*$/.test(name)) return;
      statsMetrics.add(name);
      if (!name.endsWith('_total')) {
        gauge(name, help, labelNames, (g) => {
          for (const sample of read()) g.set(sample.labels, sample.value);
        });
        return;
      }
      new prom.Counter({
        name,
        help,
        labelNames,
        registers: [registry],
        collect() {
          this.reset();
          for (const sample of read()) if (sample.value >= 0) this.inc(sample.labels, sample.value);
        },
      });
    };
    const stats = monitor.status().stats;
    for (const [source, values] of Object.entries(stats)) {
      for (const key of Object.keys(values)) {
        register(`botkit_${source}_${key}`, `${source} ${key.replaceAll('_', ' ')}`, [], () => {
          const value = monitor.status().stats[source]?.[key];
          return typeof value === 'number' ? [{ labels: {}, value }] : [];
        });
      }
    }
    for (const source of monitor.statsSources()) {
      const series = source.series?.() ?? {};
      for (const [key, samples] of Object.entries(series)) {
        const first = samples[0];
        if (!first) continue;
        register(
          `botkit_${source.name}_${key}`,
          `${source.name} ${key.replaceAll('_', ' ')}`,
          Object.keys(first.labels),
          () => source.series?.()[key] ?? [],
        );
      }
    }
    let text = await registry.metrics();
    for (const extra of options.registries ?? []) {
      const more = await extra.metrics();
      if (more) text += (text.endsWith('\n') ? '' : '\n') + more;
    }
    return text;
  };
}
