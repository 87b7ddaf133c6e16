import { isAbsolute, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { isProbeStatus, type Probe, redact, redactUrl } from '@botkit/core';
import { request } from 'undici';
import { createHealthMonitor } from './monitor.js';
import { sqliteProbe } from './probes/sqlite.js';
import { telegramProbe } from './probes/telegram.js';
import type { HealthStatus } from './types.js';

const USAGE = `Usage: botkit-health [--url http://host:8080/health] [--config file.js] [--json] [--docker [--strict]] [--timeout ms]

Checks the bot's dependencies once and exits:
  0 healthy, 1 degraded, 2 unhealthy (or bad configuration)
  with --docker: 0 healthy (or degraded, unless --strict), 1 otherwise

Probes come from the environment and/or a config module:
  BOT_TOKEN      Telegram getMe (BOT_API_ROOT for a local Bot API server)
  REDIS_URL      Redis PING (needs ioredis)
  DATABASE_URL   postgres://... (needs pg), or a SQLite path / sqlite: / file: URL
  --url URL      the /health endpoint of a running bot (its last results; ideal for Docker HEALTHCHECK)
  --config f.js  a module exporting probes: default export or \`probes\` (an array, or a function returning one)
`;

/** Thrown for configuration mistakes: printed as-is, exit 2. */
class ConfigError extends Error {}

interface CliIo {
  argv: readonly string[];
  env: Record<string, string | undefined>;
  cwd: string;
  stdout: (text: string) => void;
  stderr: (text: string) => void;
}

type Closer = () => Promise<void>;

async function importPeer<T>(name: string, why: string): Promise<T> {
  try {
    return (await import(name)) as T;
  } catch {
    throw new ConfigError(`${why} but ${name} is not installed (npm i ${name})`);
  }
}

async function envProbes(env: CliIo['env'], timeoutMs: number, closers: Closer[]): Promise<Probe[]> {
  const probes: Probe[] = [];
  if (env.BOT_TOKEN) {
    if (!/^\d+:[\w-]+$/.test(env.BOT_TOKEN))
      throw new ConfigError('BOT_TOKEN does not look like a bot token (<id>:<secret>)');
    if (env.BOT_API_ROOT) {
      try {
        new URL(env.BOT_API_ROOT);
      } catch {
        throw new ConfigError(`BOT_API_ROOT is not a URL: ${redact(env.BOT_API_ROOT, [env.BOT_TOKEN])}`);
      }
    }
    probes.push(telegramProbe({ token: env.BOT_TOKEN, apiRoot: env.BOT_API_ROOT }));
  }
  if (env.REDIS_URL) {
    const url = env.REDIS_URL;
    if (!/^rediss?:\/\//.test(url))
      throw new ConfigError(`REDIS_URL must start with redis:// or rediss://, got ${redactUrl(url)}`);
    type RedisCtor = new (
      url: string,
      options: Record<string, unknown>,
    ) => {
      connect(): Promise<void>;
      ping(): Promise<string>;
      disconnect(): void;
      on(event: 'error', listener: () => void): unknown;
    };
    const mod = await importPeer<{ Redis?: RedisCtor; default?: RedisCtor }>('ioredis', 'REDIS_URL is set');
    const Redis = (mod.Redis ?? mod.default) as RedisCtor;
    const redis = new Redis(url, {
      lazyConnect: true,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      retryStrategy: () => null,
      connectTimeout: timeoutMs,
    });
    redis.on('error', () => {});
    closers.push(async () => redis.disconnect());
    probes.push({
      name: 'redis',
      async check() {
        await redis.connect();
        const reply = await redis.ping();
        return reply === 'PONG' ? { status: 'healthy' } : { status: 'degraded', message: `PING answered ${reply}` };
      },
    });
  }
  if (env.DATABASE_URL) {
    const url = env.DATABASE_URL;
    if (/^postgres(ql)?:\/\//.test(url)) {
      type ClientCtor = new (
        config: Record<string, unknown>,
      ) => {
        connect(): Promise<void>;
        query(text: string): Promise<unknown>;
        end(): Promise<void>;
        on(event: 'error', listener: () => void): unknown;
      };
      const mod = await importPeer<{ default?: { Client: ClientCtor }; Client?: ClientCtor }>(
        'pg',
        'DATABASE_URL is a PostgreSQL URL',
      );
      const Client = (mod.Client ?? mod.default?.Client) as ClientCtor;
      const client = new Client({ connectionString: url, connectionTimeoutMillis: timeoutMs });
      client.on('error', () => {});
      closers.push(() => client.end().catch(() => {}));
      probes.push({
        name: 'postgres',
        async check() {
          await client.connect();
          await client.query('SELECT 1');
          return { status: 'healthy' };
        },
      });
    } else if (/^(sqlite|file):/.test(url) || !/^[a-z][a-z0-9+.-]*:\/\//i.test(url)) {
      const path = url.replace(/^sqlite:(\/\/)?/, '').replace(/^file:(\/\/)?/, '');
      if (!path) throw new ConfigError('DATABASE_URL names no SQLite file');
      probes.push(sqliteProbe(path));
    } else {
      throw new ConfigError(
        `DATABASE_URL must be postgres://, postgresql://, sqlite: or a file path, got ${redactUrl(url)}`,
      );
    }
  }
  return probes;
}

/** Asks a running bot's `/health` endpoint (served by healthHandler) for its overall status. */
function endpointProbe(url: string): Probe {
  if (!/^https?:\/\//.test(url)) throw new ConfigError(`--url must be an http(s) URL, got ${redactUrl(url)}`);
  const shown = redactUrl(url);
  return {
    name: 'endpoint',
    async check({ signal }) {
      const response = await request(url, { signal, headers: { accept: 'application/json' } });
      const text = await response.body.text();
      let remote: unknown;
      try {
        remote = JSON.parse(text);
      } catch {
        remote = undefined;
      }
      const status = (remote as { status?: unknown } | undefined)?.status;
      const details = { statusCode: response.statusCode };
      if (isProbeStatus(status)) {
        return { status, ...(status === 'healthy' ? {} : { message: `${shown} reports ${status}` }), details };
      }
      return response.statusCode >= 200 && response.statusCode < 300
        ? { status: 'healthy', details }
        : { status: 'unhealthy', message: `${shown} answered ${response.statusCode}`, details };
    },
  };
}

function isProbe(value: unknown): value is Probe {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as Probe).name === 'string' &&
    typeof (value as Probe).check === 'function'
  );
}

async function configProbes(file: string, cwd: string): Promise<Probe[]> {
  const path = isAbsolute(file) ? file : resolve(cwd, file);
  let mod: Record<string, unknown>;
  try {
    mod = (await import(pathToFileURL(path).href)) as Record<string, unknown>;
  } catch (error) {
    throw new ConfigError(
      `cannot load --config ${file}: ${redact(error instanceof Error ? error.message : String(error))}`,
    );
  }
  let exported = mod.probes ?? mod.default;
  if (typeof exported === 'object' && exported !== null && !Array.isArray(exported) && 'probes' in exported) {
    exported = (exported as { probes: unknown }).probes;
  }
  if (typeof exported === 'function') exported = await (exported as () => unknown)();
  if (!Array.isArray(exported)) {
    throw new ConfigError(
      `--config ${file} must export probes (default export or \`probes\`): an array of { name, check }`,
    );
  }
  exported.forEach((p, i) => {
    if (!isProbe(p)) throw new ConfigError(`--config ${file}: probes[${i}] is not a probe ({ name: string, check() })`);
  });
  return exported as Probe[];
}

const MARK: Record<string, string> = { healthy: 'ok  ', degraded: 'WARN', unhealthy: 'FAIL', unknown: '??  ' };

function human(status: HealthStatus): string {
  const probes = Object.values(status.probes);
  const width = Math.max(8, ...probes.map((p) => p.name.length));
  const lines = probes.map((p) => {
    const latency = p.latencyMs === null ? '' : `${Math.round(p.latencyMs)} ms`;
    return `${MARK[p.status]} ${p.name.padEnd(width)} ${p.status.padEnd(9)} ${latency.padStart(8)}${p.message ? `  ${p.message}` : ''}`;
  });
  return `${lines.join('\n')}\noverall: ${status.status}\n`;
}

/**
 * Runs the `botkit-health` command once and returns its exit code (see USAGE).
 */
export async function runCli(io: CliIo): Promise<number> {
  let parsed: ReturnType<typeof parse>;
  const parse = () =>
    parseArgs({
      args: [...io.argv],
      options: {
        config: { type: 'string', short: 'c' },
        url: { type: 'string' },
        json: { type: 'boolean', default: false },
        docker: { type: 'boolean', default: false },
        strict: { type: 'boolean', default: false },
        timeout: { type: 'string', default: '5000' },
        help: { type: 'boolean', short: 'h', default: false },
      },
      strict: true,
      allowPositionals: false,
    });
  try {
    parsed = parse();
  } catch (error) {
    io.stderr(`botkit-health: ${error instanceof Error ? error.message : String(error)}\n\n${USAGE}`);
    return 2;
  }
  const { values } = parsed;
  if (values.help) {
    io.stdout(USAGE);
    return 0;
  }
  const badConfigCode = values.docker ? 1 : 2;
  const closers: Closer[] = [];
  try {
    const timeoutMs = Number(values.timeout);
    if (!(timeoutMs > 0))
      throw new ConfigError(`--timeout must be a positive number of milliseconds, got ${values.timeout}`);
    const probes = [
      ...(await envProbes(io.env, timeoutMs, closers)),
      ...(values.url ? [endpointProbe(values.url)] : []),
      ...(values.config ? await configProbes(values.config, io.cwd) : []),
    ];
    if (probes.length === 0) {
      throw new ConfigError('nothing to check: set BOT_TOKEN, REDIS_URL or DATABASE_URL, or pass --url or --config');
    }
    const monitor = createHealthMonitor({ timeoutMs, failureThreshold: 1, recoveryThreshold: 1 });
    for (const probe of probes) {
      try {
        monitor.addProbe(probe);
      } catch (error) {
        throw new ConfigError(error instanceof Error ? error.message : String(error));
      }
    }
    const status = await monitor.runAll();
    io.stdout(values.json ? `${JSON.stringify(status, null, 2)}\n` : human(status));
    const overall = status.status;
    if (values.docker) return overall === 'healthy' || (overall === 'degraded' && !values.strict) ? 0 : 1;
    return overall === 'healthy' ? 0 : overall === 'degraded' ? 1 : 2;
  } catch (error) {
    if (error instanceof ConfigError) {
      io.stderr(`botkit-health: ${error.message}\n`);
      return badConfigCode;
    }
    io.stderr(`botkit-health: ${redact(error instanceof Error ? error.message : String(error))}\n`);
    return badConfigCode;
  } finally {
    await Promise.all(closers.map((close) => close().catch(() => {})));
  }
}
