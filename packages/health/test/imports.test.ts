import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../../../', import.meta.url));

describe("import '@botkit/health'", () => {
  it('pulls in no driver or framework (ioredis, pg, prom-client, grammy, telegraf, node:sqlite)', async () => {
    const stdout = await new Promise<string>((resolve, reject) =>
      execFile(
        process.execPath,
        [
          '--import',
          join(root, 'node_modules/tsx/dist/esm/index.mjs'),
          fileURLToPath(new URL('./fixtures/record-imports.mjs', import.meta.url)),
          fileURLToPath(new URL('../src/index.ts', import.meta.url)),
        ],
        { env: { ...process.env, TSX_TSCONFIG_PATH: join(root, 'tsconfig.json') }, timeout: 20_000 },
        (error, out, err) => (error ? reject(new Error(`${error.message}\n${err}`)) : resolve(out)),
      ),
    );
    const specifiers = JSON.parse(stdout.trim().split('\n').at(-1) ?? '[]') as string[];
    expect(specifiers).toContain('@botkit/core'); // the recorder works
    for (const driver of ['ioredis', 'pg', 'prom-client', 'grammy', 'telegraf', 'node:sqlite']) {
      expect(specifiers).not.toContain(driver);
    }
  });

  it('a started monitor never keeps the process alive by itself (unref timers)', async () => {
    const started = Date.now();
    const stdout = await new Promise<string>((resolve, reject) =>
      execFile(
        process.execPath,
        [
          '--import',
          join(root, 'node_modules/tsx/dist/esm/index.mjs'),
          fileURLToPath(new URL('./fixtures/heartbeat.ts', import.meta.url)),
        ],
        { env: { ...process.env, TSX_TSCONFIG_PATH: join(root, 'tsconfig.json') }, timeout: 15_000 },
        (error, out, err) => (error ? reject(new Error(`${error.message}\n${err}`)) : resolve(out)),
      ),
    );
    // The heartbeat ran (several times in 300 ms), then the process exited without stop().
    expect(Number(/runs=(\d+)/.exec(stdout)?.[1])).toBeGreaterThanOrEqual(2);
    expect(Date.now() - started).toBeLessThan(15_000);
  });
});
