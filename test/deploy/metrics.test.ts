/**
 * The Prometheus alert rules and the Grafana dashboard in examples/deploy only work if every
 * metric they name is really served. This test runs a real @botkit/health server with the stats
 * sources a bot registers (updateMetrics, instrumentPg on a real PostgreSQL pool), scrapes
 * /metrics, and checks each name used by alerts.yml and dashboard.json.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { createHealthMonitor, createHealthServer, instrumentPg, updateMetrics } from '@botkit/health';
import { type PostgresServer, startPostgres } from '@botkit/test-harness';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';

const dir = fileURLToPath(new URL('../../examples/deploy/', import.meta.url));
const PROMQL_FUNCTIONS = new Set(['rate', 'changes', 'time', 'max', 'sum', 'count', 'by', 'and', 'or', 'vector', 'up']);

/** Metric names (botkit_*) in a PromQL expression. */
function metricNames(expr: string): string[] {
  return [...expr.matchAll(/\b(botkit_[a-z0-9_]+)\b/g)].map((m) => m[1] as string);
}

let postgres: PostgresServer;
let pool: pg.Pool;
let served: Set<string>;
let metricsText: string;

beforeAll(async () => {
  postgres = await startPostgres();
  pool = new pg.Pool(postgres.connection());
  const updates = updateMetrics();
  const db = instrumentPg(pool, { slowQueryMs: 0 });
  const monitor = createHealthMonitor({
    probes: [{ name: 'database', check: async () => ({ status: 'healthy' }) }],
  });
  monitor.addStats(updates).addStats(db);
  // a handled update and a query, so that every series has a sample
  await updates.middleware({ update: { update_id: 1, message: { text: '/start' } } } as never, async () => {});
  await pool.query('SELECT 1');
  await monitor.runAll();
  const server = createHealthServer(monitor, { port: 0, host: '127.0.0.1' });
  await server.start();
  try {
    const response = await fetch(`${server.url}/metrics`);
    expect(response.status).toBe(200);
    metricsText = await response.text();
  } finally {
    await server.stop();
  }
  served = new Set(
    metricsText
      .split('\n')
      .filter((l) => l && !l.startsWith('#'))
      .map((l) => /^([a-zA-Z_:][a-zA-Z0-9_:]*)/.exec(l)?.[1] ?? ''),
  );
});

afterAll(async () => {
  await pool?.end();
  await postgres?.cleanup();
});

describe('alert rules and dashboard use only metrics botkit serves', () => {
  it('every botkit_* metric in prometheus/alerts.yml is served by /metrics', () => {
    const rules = parseYaml(readFileSync(`${dir}prometheus/alerts.yml`, 'utf8'));
    const exprs: string[] = rules.groups.flatMap((g: { rules: { expr: string }[] }) => g.rules.map((r) => r.expr));
    expect(exprs.length).toBeGreaterThan(5);
    const used = new Set(exprs.flatMap(metricNames));
    expect(used.size).toBeGreaterThan(5);
    for (const name of used) expect(served, `${name} (alerts.yml)`).toContain(name);
  });

  it('every botkit_* metric in grafana/dashboard.json is served, and every panel has a query', () => {
    const dashboard = JSON.parse(readFileSync(`${dir}grafana/dashboard.json`, 'utf8'));
    expect(dashboard.uid).toBeTruthy();
    for (const panel of dashboard.panels) {
      expect(panel.targets?.length, panel.title).toBeGreaterThan(0);
      for (const target of panel.targets) {
        const names = metricNames(target.expr);
        expect(names.length, `${panel.title}: ${target.expr}`).toBeGreaterThan(0);
        for (const name of names) expect(served, `${name} (${panel.title})`).toContain(name);
      }
    }
  });

  it('alert rules have a severity, a summary and a runbook anchor that exists in docs/runbook.md', () => {
    const rules = parseYaml(readFileSync(`${dir}prometheus/alerts.yml`, 'utf8'));
    const runbook = readFileSync(fileURLToPath(new URL('../../docs/runbook.md', import.meta.url)), 'utf8');
    const anchors = new Set([...runbook.matchAll(/^## (\S+)/gm)].map((m) => (m[1] as string).toLowerCase()));
    for (const rule of rules.groups.flatMap((g: { rules: unknown[] }) => g.rules)) {
      expect(['critical', 'warning', 'info']).toContain(rule.labels.severity);
      expect(rule.annotations.summary).toBeTruthy();
      const anchor = /#(\w+)$/.exec(rule.annotations.runbook)?.[1];
      expect(anchors, `${rule.alert} runbook anchor`).toContain(anchor);
      // every identifier-looking word in the expression is a known function or a served metric
      for (const word of rule.expr.match(/\b[a-z_]+(?=\s*[({[])/g) ?? []) {
        if (!word.startsWith('botkit_')) expect(PROMQL_FUNCTIONS, `${rule.alert}: ${word}`).toContain(word);
      }
    }
  });
});
