import path from 'node:path';
import type { Config } from '../platform/config/config.ts';
import { runningEmbeddedPostgresUrl } from '../platform/database/embedded-postgres.ts';
import type { Logger } from '../platform/logging/logger.ts';
import { loadBlueprint } from './checkout-tools.ts';
import { openDatabaseUrl } from './database.ts';

/**
 * `orderstream blueprint [--out DIR]`: writes the architecture's views, read from the code,
 * the deploy files and a temporary database migrated on DATABASE_URL's server, else on the embedded
 * one (a running `npm start`'s, or one started for the command); prints the files it wrote. Without
 * --out it writes the checkout's docs/blueprint/, wherever it is run from.
 */
export async function blueprint(config: Config, logger: Logger, values: { out?: string }): Promise<void> {
  const { generateBlueprint, writeBlueprint, blueprintFolder } = await loadBlueprint();
  const running = config.DATABASE_URL === undefined ? await runningEmbeddedPostgresUrl(config.EMBEDDED_POSTGRES_DIR) : undefined;
  const database = running === undefined ? await openDatabaseUrl(config, logger) : { url: running, embedded: undefined };
  let files;
  try {
    files = await generateBlueprint(database.url);
  } finally {
    await database.embedded?.stop();
  }
  for (const file of await writeBlueprint(values.out === undefined ? blueprintFolder : path.resolve(values.out), files)) console.log(file);
}
