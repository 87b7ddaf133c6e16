/**
 * `pnpm bench [subject...]`: runs bench/<subject>.bench.ts (all of them without arguments).
 * Each file default-exports an async function that measures and calls report().
 */
import { readdirSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';

const dir = fileURLToPath(new URL('.', import.meta.url));
const available = readdirSync(dir)
  .filter((f) => f.endsWith('.bench.ts'))
  .map((f) => f.slice(0, -'.bench.ts'.length))
  .sort();
const wanted = process.argv.slice(2).filter((a) => !a.startsWith('-'));
const unknown = wanted.filter((w) => !available.includes(w));
if (unknown.length) {
  console.error(`unknown benchmark subject(s): ${unknown.join(', ')}; available: ${available.join(', ') || 'none'}`);
  process.exit(2);
}
for (const subject of wanted.length ? wanted : available) {
  console.log(`# bench ${subject}`);
  const mod = (await import(pathToFileURL(`${dir}${subject}.bench.ts`).href)) as { default: () => Promise<void> };
  await mod.default();
}
process.exit(0);
