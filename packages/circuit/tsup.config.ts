import { packageConfig } from '../../scripts/tsup-preset.js';

// p-retry is ESM-only: inline it so the CommonJS build (Telegraf bots are often CJS) works.
export default packageConfig({ noExternal: ['p-retry'] });
