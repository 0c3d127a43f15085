import type { Config } from '../platform/config/config.ts';
import { migrate as applyMigrations } from '../platform/database/migrations.ts';
import type { Logger } from '../platform/logging/logger.ts';
import { loadApp, openDatabaseUrl } from './database.ts';

/** `orderstream migrate`: applies the pending migrations of every module to the single process's database and exits. */
export async function migrate(config: Config, logger: Logger): Promise<void> {
  // The database before the application graph: a wrong DATABASE_URL is reported without waiting for it to load.
  const database = await openDatabaseUrl(config, logger);
  try {
    const { allMigrations } = await loadApp();
    const { createDatabase } = await import('../platform/database/database.ts');
    const db = createDatabase({ url: database.url, poolSize: 1 });
    try {
      const applied = await applyMigrations(db, allMigrations, logger);
      logger.info({ applied: applied.length }, applied.length === 0 ? 'database is up to date' : 'migrations applied');
    } finally {
      await db.destroy();
    }
  } finally {
    await database.embedded?.stop();
  }
}
