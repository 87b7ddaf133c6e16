import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../../..', import.meta.url));
const tsx = createRequire(import.meta.url).resolve('tsx/cli');

/** Runs `pnpm demo` the way the root script does (tsx with the root tsconfig) as a child process. */
function runDemo(env: Record<string, string> = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [tsx, '--tsconfig', 'tsconfig.json', 'examples/demo/src/main.ts'], {
      cwd: root,
      env: { ...process.env, NO_COLOR: '1', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk;
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk;
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), 80_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

const SUMMARY =
  /^RESULT: PASS — (\d+) updates sent, (\d+) handled, 0 duplicated, 0 lost, (\d+) mode switches, (\d+) alerts/m;

describe('pnpm demo', () => {
  it('plays the whole story with real Redis and exits 0 with every guarantee held', { timeout: 90_000 }, async () => {
    const { code, stdout, stderr } = await runDemo();
    expect(code, `exit code; stderr:\n${stderr}`).toBe(0);
    const [, sent, handled, switches, alerts] = SUMMARY.exec(stdout) ?? [];
    expect(Number(sent)).toBeGreaterThan(10);
    expect(handled).toBe(sent);
    expect(Number(switches)).toBeGreaterThanOrEqual(2); // webhook -> polling -> webhook
    expect(Number(alerts)).toBe(2); // Redis failed, Redis recovered
    expect(stdout).toMatch(/│ updates duplicated\s+│ 0 /);
    expect(stdout).not.toMatch(/✘/);
  });

  it('without Redis it shows the circuit in degraded mode and still holds every guarantee', {
    timeout: 90_000,
  }, async () => {
    const { code, stdout } = await runDemo({ DEMO_NO_REDIS: '1' });
    expect(code).toBe(0);
    expect(stdout).toMatch(SUMMARY);
    expect(stdout).toMatch(/│ redis\s+│ absent \(degraded mode\)/);
  });
});
