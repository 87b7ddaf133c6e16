#!/usr/bin/env node
import { runCli } from './cli-run.js';

runCli(process.argv.slice(2), {
  stdout: process.stdout,
  stderr: process.stderr,
  stdin: process.stdin,
  env: process.env,
}).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`botkit-backup: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 1;
  },
);
