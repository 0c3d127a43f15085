/** Prints the README's configuration table from the config schema: `node scripts/config-table.ts`. */
import { configTableMarkdown } from '../src/platform/config/config-table.ts';

console.log(configTableMarkdown());
