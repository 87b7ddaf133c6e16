import { defineConfig, type Options } from 'tsup';

/**
 * The one tsup configuration every package builds with: ESM + CJS, `.d.ts` + `.d.cts`,
 * Node 22 target, no bundling of dependencies. Packages pass their entry points and any
 * extra options (for example `noExternal` to inline an ESM-only dependency into the CJS build).
 */
export function packageConfig(options: Options = {}) {
  return defineConfig({
    entry: ['src/index.ts'],
    format: ['esm', 'cjs'],
    dts: true,
    clean: true,
    sourcemap: true,
    target: 'node22',
    platform: 'node',
    splitting: false,
    treeshake: true,
    // Keep `node:` prefixes: node:sqlite (and node:test, node:sea) exist only under that name, so
    // tsup's default rewrite to bare `sqlite` breaks them in the published builds.
    removeNodeProtocol: false,
    tsconfig: 'tsconfig.json',
    ...options,
  });
}
