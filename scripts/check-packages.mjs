// Checks every published package as a consumer would get it: publint (package.json, exports,
// files) and @arethetypeswrong/cli (types resolve for ESM and CJS consumers, node16 and bundler).
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const bin = (name) => join(root, 'node_modules', '.bin', name);
let failed = 0;
for (const dir of readdirSync(join(root, 'packages'))) {
  const pkgDir = join(root, 'packages', dir);
  const pkg = JSON.parse(readFileSync(join(pkgDir, 'package.json'), 'utf8'));
  if (pkg.private) continue;
  for (const [cmd, args] of [
    ['publint', ['--strict', pkgDir]],
    ['attw', ['--pack', pkgDir, '--format', 'table-flipped']],
  ]) {
    try {
      execFileSync(bin(cmd), args, { stdio: 'pipe', encoding: 'utf8' });
      console.log(`ok   ${cmd} ${pkg.name}`);
    } catch (error) {
      failed++;
      console.log(`FAIL ${cmd} ${pkg.name}\n${error.stdout ?? ''}${error.stderr ?? ''}`);
    }
  }
}
if (failed) {
  console.error(`${failed} package check(s) failed`);
  process.exit(1);
}
