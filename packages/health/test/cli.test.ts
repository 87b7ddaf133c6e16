import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type PostgresServer, type RedisServer, startPostgres, startRedis } from '@botkit/test-harness';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHealthMonitor, createHealthServer, type HealthStatus } from '../src/index.js';
import { startFakeTelegram } from './fake-telegram.js';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const cli = fileURLToPath(new URL('../src/cli.ts', import.meta.url));
const tsx = join(root, 'node_modules/tsx/dist/cli.mjs');
const TOKEN = '123456789:AAHk_fake_token_for_tests_0123456789';

let redisServer: RedisServer;
let pgServer: PostgresServer;
let tg: Awaited<ReturnType<typeof startFakeTelegram>>;
const dir = mkdtempSync(join(tmpdir(), 'health-cli-'));

/** Forks the real CLI (TypeScript sources through tsx, on this Node) and collects its output. */
function run(args: string[], env: Record<string, string>) {
  return new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
    execFile(
      process.execPath,
      [tsx, cli, ...args],
      {
        env: { PATH: process.env.PATH ?? '', TSX_TSCONFIG_PATH: join(root, 'tsconfig.json'), ...env },
        cwd: dir,
        timeout: 20_000,
      },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : null) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

beforeAll(async () => {
  [redisServer, pgServer, tg] = await Promise.all([startRedis(), startPostgres(), startFakeTelegram(TOKEN)]);
  writeFileSync(
    join(dir, 'degraded.mjs'),
    `export default [{ name: 'queue', check: async () => ({ status: 'degraded', message: 'backlog 500' }) }];`,
  );
  writeFileSync(join(dir, 'bad.mjs'), `export const probes = [{ nope: true }];`);
  const { DatabaseSync } = await import('node:sqlite');
  const db = new DatabaseSync(join(dir, 'bot.sqlite'));
  db.exec('CREATE TABLE t (x INTEGER)');
  db.close();
});
afterAll(async () => {
  await Promise.all([redisServer?.cleanup(), pgServer?.cleanup(), tg?.close()]);
  rmSync(dir, { recursive: true, force: true });
});

describe('botkit-health CLI (forked process, real services)', () => {
  it('exit 0 and a readable report when Redis, PostgreSQL and Telegram are healthy; --json for machines; no secrets', async () => {
    const env = {
      REDIS_URL: redisServer.url,
      DATABASE_URL: pgServer.url,
      BOT_TOKEN: TOKEN,
      BOT_API_ROOT: tg.apiRoot,
    };
    const [human, json, sqlite] = await Promise.all([
      run([], env),
      run(['--json'], env),
      run([], { DATABASE_URL: `sqlite:${join(dir, 'bot.sqlite')}` }),
    ]);
    expect(sqlite.code).toBe(0);
    expect(sqlite.stdout).toMatch(/sqlite\s+healthy/);
    expect(human.stderr).toBe('');
    expect(human.code).toBe(0);
    expect(human.stdout).toMatch(/redis\s+healthy/);
    expect(human.stdout).toMatch(/postgres\s+healthy/);
    expect(human.stdout).toMatch(/telegram\s+healthy/);
    expect(human.stdout).toMatch(/overall: healthy/);
    expect(json.code).toBe(0);
    const status = JSON.parse(json.stdout) as HealthStatus;
    expect(status.status).toBe('healthy');
    expect(Object.keys(status.probes).sort()).toEqual(['postgres', 'redis', 'telegram']);
    for (const out of [human.stdout, json.stdout]) {
      expect(out).not.toContain(TOKEN);
      expect(out).not.toContain(pgServer.password);
    }
  });

  it('degraded exits 1; --docker maps degraded to 0 unless --strict', async () => {
    const env = { REDIS_URL: redisServer.url };
    const [plain, docker, strict] = await Promise.all([
      run(['--config', 'degraded.mjs'], env),
      run(['--config', 'degraded.mjs', '--docker'], env),
      run(['--config', 'degraded.mjs', '--docker', '--strict'], env),
    ]);
    expect(plain.code).toBe(1);
    expect(plain.stdout).toMatch(/queue\s+degraded.*backlog 500/);
    expect(docker.code).toBe(0);
    expect(strict.code).toBe(1);
  });

  it('unhealthy exits 2 (1 with --docker) when PostgreSQL is down, naming the failing probe', async () => {
    await pgServer.kill();
    try {
      const env = { REDIS_URL: redisServer.url, DATABASE_URL: pgServer.url };
      const [json, docker] = await Promise.all([run(['--json', '--timeout', '3000'], env), run(['--docker'], env)]);
      expect(json.code).toBe(2);
      const status = JSON.parse(json.stdout) as HealthStatus;
      expect(status.status).toBe('unhealthy');
      expect(status.probes.postgres?.status).toBe('unhealthy');
      expect(status.probes.redis?.status).toBe('healthy');
      expect(json.stdout).not.toContain(pgServer.password);
      expect(docker.code).toBe(1);
    } finally {
      await pgServer.restart();
    }
  });

  it('--url asks a running bot /health endpoint (Docker HEALTHCHECK): healthy 0, degraded 0/strict 1, unhealthy or down 1', async () => {
    let status: 'healthy' | 'degraded' | 'unhealthy' = 'healthy';
    const monitor = createHealthMonitor({
      failureThreshold: 1,
      recoveryThreshold: 1,
      probes: [{ name: 'db', check: async () => ({ status }) }],
    });
    const server = createHealthServer(monitor, { port: 0, host: '127.0.0.1' });
    await server.start();
    try {
      const url = `${server.url}/health`;
      await monitor.runAll();
      expect((await run(['--url', url, '--docker'], {})).code).toBe(0);
      status = 'degraded';
      await monitor.runAll();
      const [docker, strict, plain] = await Promise.all([
        run(['--url', url, '--docker'], {}),
        run(['--url', url, '--docker', '--strict'], {}),
        run(['--url', url], {}),
      ]);
      expect([docker.code, strict.code, plain.code]).toEqual([0, 1, 1]);
      status = 'unhealthy';
      await monitor.runAll();
      expect((await run(['--url', url, '--docker'], {})).code).toBe(1);
    } finally {
      await server.stop();
    }
    expect((await run(['--url', `${server.url}/health`, '--docker', '--timeout', '2000'], {})).code).toBe(1);
  });

  it('bad configuration prints what is wrong and exits 2', async () => {
    const [none, scheme, missing, invalid, flag] = await Promise.all([
      run([], {}),
      run([], { DATABASE_URL: 'mysql://root:pw@db/app' }),
      run(['--config', 'missing.mjs'], {}),
      run(['--config', 'bad.mjs'], {}),
      run(['--frobnicate'], {}),
    ]);
    expect(none.code).toBe(2);
    expect(none.stderr).toMatch(/nothing to check/);
    expect(scheme.code).toBe(2);
    expect(scheme.stderr).toMatch(/DATABASE_URL must be/);
    expect(scheme.stderr).not.toContain(':pw@');
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/cannot load --config missing\.mjs/);
    expect(invalid.code).toBe(2);
    expect(invalid.stderr).toMatch(/probes\[0\] is not a probe/);
    expect(flag.code).toBe(2);
    expect(flag.stderr).toMatch(/frobnicate/);
  });
});
