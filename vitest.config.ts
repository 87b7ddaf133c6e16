import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

const packages = ['core', 'health', 'failover', 'shutdown', 'backup', 'circuit', 'testing'];
const here = (path: string) => fileURLToPath(new URL(path, import.meta.url));

// In development and tests, packages resolve each other's TypeScript sources (no build needed).
const alias = Object.fromEntries([
  ...packages.map((name) => [`@botkit/${name}`, here(`./packages/${name}/src/index.ts`)]),
  ['@botkit/test-harness', here('./test/harness/src/index.ts')],
]);

export default defineConfig({
  resolve: { alias },
  test: {
    // Real servers and child processes: keep timeouts generous, never rely on them for speed claims.
    testTimeout: 30_000,
    hookTimeout: 60_000,
    projects: [
      ...packages.map((name) => ({
        extends: true as const,
        test: { name, include: [`packages/${name}/src/**/*.test.ts`, `packages/${name}/test/**/*.test.ts`] },
      })),
      { extends: true as const, test: { name: 'harness', include: ['test/harness/**/*.test.ts'] } },
      {
        extends: true as const,
        test: {
          name: 'e2e',
          include: ['test/**/*.test.ts'],
          exclude: ['test/harness/**', '**/node_modules/**'],
          // Prints the chaos scenarios' figures as one table when the run ends.
          globalSetup: ['test/e2e/chaos/summary.ts'],
        },
      },
      { extends: true as const, test: { name: 'examples', include: ['examples/*/test/**/*.test.ts'] } },
    ],
  },
});
