#!/usr/bin/env node
import { runCli } from './cli-run.js';

runCli({
  argv: process.argv.slice(2),
  env: process.env,
  cwd: process.cwd(),
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
}).then((code) => {
  process.exitCode = code;
  // A probe from --config that ignores its AbortSignal must not keep a cron job alive.
  setTimeout(() => process.exit(code), 1000).unref();
});
