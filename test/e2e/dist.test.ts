/**
 * What users install is dist/, not src/: load the built ESM and CJS entry points of every
 * package the way a consumer would, and run code paths that depend on Node built-ins only
 * reachable with the `node:` prefix (node:sqlite). The test command builds before it tests.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../../', import.meta.url));
const packages = ['core', 'health', 'failover', 'shutdown', 'backup', 'circuit', 'testing'];
const require = createRequire(import.meta.url);
const dir = mkdtempSync(join(tmpdir(), 'botkit-dist-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function dist(name: string, file: string): string {
  const path = join(root, 'packages', name, 'dist', file);
  if (!existsSync(path)) throw new Error(`${path} is missing: run ./scripts/pnpm run build first`);
  return path;
}

describe('built packages (dist) as consumers load them', () => {
  it.each(packages)('@botkit/%s loads as ESM and as CJS with the same exports', async (name) => {
    const esm = (await import(pathToFileURL(dist(name, 'index.js')).href)) as Record<string, unknown>;
    const cjs = require(dist(name, 'index.cjs')) as Record<string, unknown>;
    expect(Object.keys(esm).length).toBeGreaterThan(0);
    expect(Object.keys(cjs).sort()).toEqual(Object.keys(esm).sort());
  });

  it('sqliteProbe from the ESM and CJS builds opens a real SQLite file (node:sqlite survives the build)', async () => {
    const path = join(dir, 'bot.db');
    const db = new DatabaseSync(path);
    db.exec('CREATE TABLE t (x)');
    db.close();
    const esm = (await import(pathToFileURL(dist('health', 'index.js')).href)) as typeof import('@botkit/health');
    const cjs = require(dist('health', 'index.cjs')) as typeof import('@botkit/health');
    for (const health of [esm, cjs]) {
      const result = await health.sqliteProbe(path).check({ signal: new AbortController().signal });
      expect(result.status, result.message).toBe('healthy');
    }
  });

  it('sqliteDriver from the CJS build backs up a real SQLite file', async () => {
    const path = join(dir, 'app.db');
    const db = new DatabaseSync(path);
    db.exec("CREATE TABLE notes (text TEXT); INSERT INTO notes VALUES ('hello')");
    db.close();
    const backup = require(dist('backup', 'index.cjs')) as typeof import('@botkit/backup');
    const backups = backup.createBackups({
      driver: backup.sqliteDriver({ path }),
      dir: join(dir, 'backups'),
      compression: 'gzip',
    });
    const info = await backups.backup();
    expect((await backups.verify(info.id)).ok).toBe(true);
  });
});
