import { packageConfig } from '../../scripts/tsup-preset.js';

export default packageConfig({ entry: ['src/index.ts', 'src/cli.ts'] });
