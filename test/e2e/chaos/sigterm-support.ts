/**
 * Support of the SIGTERM scenario: a private build of the grammY example's production entry point,
 * the JSON log lines of a bot process, and the notes its SQLite file holds.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const grammyDir = join(root, 'examples/grammy-bot');

/**
 * Builds examples/grammy-bot/src/main.ts with the example's own tsup config (what `dist/main.js`
 * is) into a private directory inside the example, so the bundle resolves the example's
 * node_modules and no parallel build (examples' process test cleans `dist/`) can swap it mid-run.
 */
export function buildGrammyMain(): { script: string; cleanup(): void } {
  const outDir = mkdtempSync(join(grammyDir, '.chaos-build-'));
  const tsup = createRequire(import.meta.url).resolve('tsup/dist/cli-default.js');
  execFileSync(process.execPath, [tsup, '--out-dir', outDir], { cwd: grammyDir, stdio: 'pipe' });
  return { script: join(outDir, 'main.js'), cleanup: () => rmSync(outDir, { recursive: true, force: true }) };
}

/** The Telegraf example's production entry point (CommonJS on the packages' dist builds). */
export const telegrafMain = join(root, 'examples/telegraf-bot/src/main.cjs');

/** One JSON log line of an example process. */
export interface LogLine {
  msg?: string;
  phase?: string;
  exitCode?: number;
  timedOut?: boolean;
  [field: string]: unknown;
}

/** The JSON lines of a process's output (other lines are skipped). */
export function jsonLines(output: string): LogLine[] {
  const lines: LogLine[] = [];
  for (const raw of output.split('\n')) {
    if (!raw.startsWith('{')) continue;
    try {
      lines.push(JSON.parse(raw) as LogLine);
    } catch {
      // a line cut by the process exit: not a log line we assert on
    }
  }
  return lines;
}

/** How many rows of the SQLite notes table carry each text (read-only, after the processes exited). */
export function noteCounts(databaseFile: string): Map<string, number> {
  const db = new DatabaseSync(databaseFile, { readOnly: true });
  try {
    const rows = db.prepare('SELECT text, count(*) AS n FROM notes GROUP BY text').all() as {
      text: string;
      n: number;
    }[];
    return new Map(rows.map((r) => [r.text, Number(r.n)]));
  } finally {
    db.close();
  }
}
