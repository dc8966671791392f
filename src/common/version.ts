/** The tool version, from package.json (recorded in pruning.json and printed by `polyprune --version`). */
import pkg from '../../package.json';

export const VERSION: string = pkg.version;
