/**
 * Global setup of the e2e project: gives the chaos scenarios a report directory, and when the run
 * ends prints every recorded scenario's figures as one table.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { formatTable, reportFile, type ScenarioFigures } from './figures.js';

export default function setup(project: TestProject): () => void {
  const dir = mkdtempSync(join(tmpdir(), 'botkit-chaos-report-'));
  project.provide('chaosReportDir', dir);
  return () => {
    const file = reportFile(dir);
    if (existsSync(file)) {
      const entries = readFileSync(file, 'utf8')
        .split('\n')
        .filter((line) => line.trim() !== '')
        .map((line) => JSON.parse(line) as ScenarioFigures)
        .sort((a, b) => a.scenario.localeCompare(b.scenario) || a.framework.localeCompare(b.framework));
      process.stdout.write(`\nChaos suite summary (${entries.length} scenario runs)\n${formatTable(entries)}\n\n`);
    }
    rmSync(dir, { recursive: true, force: true });
  };
}
