/**
 * Deployment recipes in examples/deploy are checked here: no Docker engine or cluster exists
 * on CI, so we parse them and check the fields and the timing contract users rely on.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments, parse as parseYaml } from 'yaml';

const dir = fileURLToPath(new URL('../../examples/deploy/', import.meta.url));
const read = (path: string) => readFileSync(`${dir}${path}`, 'utf8');
// biome-ignore lint/suspicious/noExplicitAny: manifests are untyped YAML trees
type Tree = any;
const yamlDocs = (path: string): Tree[] =>
  parseAllDocuments(read(path)).map((d) => {
    expect(d.errors, `${path} parses`).toEqual([]);
    return d.toJS();
  });

/** Dockerfile instructions, with line continuations joined. */
function dockerInstructions(text: string): { op: string; args: string }[] {
  return text
    .replace(/\\\n/g, ' ')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'))
    .map((l) => {
      const [op = '', ...rest] = l.split(/\s+/);
      return { op: op.toUpperCase(), args: rest.join(' ') };
    });
}

const shutdownTimeoutMs = 25_000;

describe('Dockerfile', () => {
  const steps = dockerInstructions(read('Dockerfile'));
  const last = (op: string) => steps.filter((s) => s.op === op).at(-1);

  it('is multi-stage and the runtime stage runs as a non-root user', () => {
    const froms = steps.filter((s) => s.op === 'FROM');
    expect(froms.length).toBeGreaterThanOrEqual(2);
    const runtimeStart = steps.lastIndexOf(froms.at(-1)!);
    const users = steps.slice(runtimeStart).filter((s) => s.op === 'USER');
    expect(users.length).toBe(1);
    expect(users[0]!.args).not.toMatch(/^(root|0)(:|$)/);
  });

  it('has a HEALTHCHECK through the botkit health CLI, STOPSIGNAL SIGTERM and an init process', () => {
    expect(last('HEALTHCHECK')?.args).toMatch(/@botkit\/health\/dist\/cli\.js.*--docker/);
    expect(last('STOPSIGNAL')?.args).toBe('SIGTERM');
    expect(last('ENTRYPOINT')?.args).toMatch(/tini/);
  });
});

describe('compose.yaml', () => {
  const [compose] = yamlDocs('compose.yaml');

  it('runs the bot with Redis and PostgreSQL, Prometheus as an optional profile', () => {
    expect(Object.keys(compose.services).sort()).toEqual(['bot', 'postgres', 'prometheus', 'redis']);
    expect(compose.services.prometheus.profiles).toEqual(['monitoring']);
    expect(compose.services.bot.depends_on.redis.condition).toBe('service_healthy');
    expect(compose.services.bot.depends_on.postgres.condition).toBe('service_healthy');
    for (const name of ['bot', 'redis', 'postgres']) expect(compose.services[name].healthcheck.test).toBeDefined();
  });

  it('gives the bot more stop time than its shutdown deadline, with an init process', () => {
    const bot = compose.services.bot;
    expect(bot.init).toBe(true);
    expect(bot.stop_signal).toBe('SIGTERM');
    expect(Number(bot.environment.SHUTDOWN_TIMEOUT_MS)).toBe(shutdownTimeoutMs);
    const grace = Number(/^(\d+)s$/.exec(bot.stop_grace_period)?.[1]);
    expect(grace * 1000).toBeGreaterThan(shutdownTimeoutMs);
  });

  it('requires the token from the environment instead of embedding one', () => {
    expect(compose.services.bot.environment.BOT_TOKEN).toMatch(/^\$\{BOT_TOKEN:\?/);
  });
});

describe('Kubernetes manifests', () => {
  const docs = yamlDocs('k8s/deployment.yaml');
  const byKind = (kind: string) => docs.find((d) => d.kind === kind);
  const deployment = byKind('Deployment');
  const pod = deployment.spec.template.spec;
  const container = pod.containers[0];

  it('defines a Deployment, a Service and a PodDisruptionBudget selecting the same pods', () => {
    const labels = deployment.spec.selector.matchLabels;
    expect(deployment.spec.template.metadata.labels).toMatchObject(labels);
    expect(byKind('Service').spec.selector).toEqual(labels);
    expect(byKind('PodDisruptionBudget').spec.selector.matchLabels).toEqual(labels);
    expect(byKind('PodDisruptionBudget').spec.minAvailable).toBeGreaterThanOrEqual(1);
    expect(deployment.spec.strategy.rollingUpdate.maxUnavailable).toBe(0);
  });

  it('probes /live for liveness and startup, /ready for readiness', () => {
    expect(container.livenessProbe.httpGet.path).toBe('/live');
    expect(container.startupProbe.httpGet.path).toBe('/live');
    expect(container.readinessProbe.httpGet.path).toBe('/ready');
    const ports = new Set(container.ports.map((p: Tree) => p.name));
    for (const probe of ['livenessProbe', 'readinessProbe', 'startupProbe']) {
      expect(ports.has(container[probe].httpGet.port)).toBe(true);
    }
  });

  it('lets preStop plus the shutdown deadline finish before the kubelet SIGKILLs', () => {
    const env = Object.fromEntries(container.env.filter((e: Tree) => 'value' in e).map((e: Tree) => [e.name, e.value]));
    const timeoutMs = Number(env.SHUTDOWN_TIMEOUT_MS);
    expect(timeoutMs).toBe(shutdownTimeoutMs);
    const preStopS = container.lifecycle.preStop.sleep.seconds;
    expect(preStopS).toBeGreaterThan(0);
    // the pod's grace period covers preStop + the whole shutdown deadline + a margin of at least 5 s
    expect(pod.terminationGracePeriodSeconds).toBeGreaterThanOrEqual(preStopS + timeoutMs / 1000 + 5);
  });

  it('takes secrets from a Secret, never as literal values, and runs as non-root', () => {
    for (const name of ['BOT_TOKEN', 'WEBHOOK_SECRET', 'REDIS_URL', 'DATABASE_URL']) {
      const entry = container.env.find((e: Tree) => e.name === name);
      expect(entry?.valueFrom?.secretKeyRef, name).toBeDefined();
      expect(entry?.value, name).toBeUndefined();
    }
    expect(pod.securityContext.runAsNonRoot).toBe(true);
    expect(container.securityContext.allowPrivilegeEscalation).toBe(false);
  });

  it('backs up hourly with one job at a time through the backup CLI', () => {
    const [cron] = yamlDocs('k8s/backup-cronjob.yaml');
    expect(cron.kind).toBe('CronJob');
    expect(cron.spec.concurrencyPolicy).toBe('Forbid');
    expect(cron.spec.schedule.split(/\s+/)).toHaveLength(5);
    expect(cron.spec.schedule).toMatch(/^\d+ \* \* \* \*$/);
    const job = cron.spec.jobTemplate.spec.template.spec.containers[0];
    expect(job.command.join(' ')).toMatch(/@botkit\/backup\/dist\/cli\.js backup .*--keep-last=\d+/);
    expect(job.env.find((e: Tree) => e.name === 'DATABASE_URL').valueFrom.secretKeyRef).toBeDefined();
  });
});

describe('Prometheus scrape config', () => {
  it('scrapes /metrics and loads the alert rules file', () => {
    const config = parseYaml(read('prometheus/prometheus.yml'));
    expect(config.rule_files).toContain('alerts.yml');
    expect(config.scrape_configs.every((c: Tree) => c.metrics_path === '/metrics')).toBe(true);
  });
});
