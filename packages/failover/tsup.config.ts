import { packageConfig } from '../../scripts/tsup-preset.js';

export default packageConfig();
