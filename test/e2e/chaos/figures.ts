/**
 * Figures of the chaos scenarios. Each scenario records what it measured with `recordFigures`;
 * the line is printed at once (`CHAOS {json}`) and appended to the run's report, which the e2e
 * project's global setup prints as one table when the run ends (see summary.ts).
 */
import { appendFileSync } from 'node:fs';
import { join } from 'node:path';
import { inject } from 'vitest';

/** A scalar figure; booleans print as yes/no. */
export type Figure = number | string | boolean;

/** One scenario's measured figures. */
export interface ScenarioFigures {
  /** Scenario name, e.g. `failover flaps under load`. */
  scenario: string;
  /** `grammY`, `Telegraf`, or `-` when the framework does not matter. */
  framework: string;
  /** Figures in the order they should print. */
  figures: Record<string, Figure>;
}

declare module 'vitest' {
  export interface ProvidedContext {
    /** Directory of this run's chaos report (set by the e2e project's global setup). */
    chaosReportDir: string;
  }
}

/** File the figures of this run are appended to, one JSON line per scenario. */
export function reportFile(dir: string): string {
  return join(dir, 'figures.jsonl');
}

/**
 * Records a scenario's figures: prints them now and adds them to the final summary table.
 *
 * @example
 * recordFigures({ scenario: 'failover flaps', framework: 'grammY', figures: { sent: 600, lost: 0 } });
 */
export function recordFigures(entry: ScenarioFigures): void {
  const line = JSON.stringify(entry);
  console.log(`CHAOS ${line}`);
  let dir: string | undefined;
  try {
    dir = inject('chaosReportDir');
  } catch {
    dir = undefined; // run without the project's global setup: the printed line is all there is
  }
  if (dir) appendFileSync(reportFile(dir), `${line}\n`);
}

/** Formats recorded scenarios as a plain-text table: scenario | framework | figures. */
export function formatTable(entries: readonly ScenarioFigures[]): string {
  const rows = entries.map((e) => [
    e.scenario,
    e.framework,
    Object.entries(e.figures)
      .map(([k, v]) => `${k}=${typeof v === 'boolean' ? (v ? 'yes' : 'no') : String(v)}`)
      .join(', '),
  ]);
  const header = ['scenario', 'framework', 'figures'];
  const widths = [0, 1].map((i) => Math.max(header[i]!.length, ...rows.map((r) => r[i]!.length)));
  const fmt = (r: string[]) => `| ${r[0]!.padEnd(widths[0]!)} | ${r[1]!.padEnd(widths[1]!)} | ${r[2]} |`;
  const rule = `|${'-'.repeat(widths[0]! + 2)}|${'-'.repeat(widths[1]! + 2)}|---------|`;
  return [fmt(header), rule, ...rows.map(fmt)].join('\n');
}
