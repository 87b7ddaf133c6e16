import { defineConfig } from 'tsup';

export default defineConfig({
  entry: ['src/main.ts', 'src/create-bot.ts'],
  format: ['esm'],
  target: 'node22',
  platform: 'node',
  clean: true,
  // Keep `node:sqlite` as written: it exists only with the `node:` prefix.
  removeNodeProtocol: false,
});
