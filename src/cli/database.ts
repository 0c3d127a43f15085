import type { Config } from '../platform/config/config.ts';
import { startEmbeddedPostgres, type EmbeddedPostgresServer } from '../platform/database/embedded-postgres.ts';
import type { Logger } from '../platform/logging/logger.ts';

/**
 * The application graph (every module, fastify, pg-boss, jose, argon2, the AWS SDK) loads in about
 * two seconds; commands that need it import it, so `help` and usage errors answer at once.
 */
export function loadApp() {
  return import('../apps/single-process.ts');
}

/** The embedded database when DATABASE_URL is unset, else the configured one, once it answers (else `DatabaseConnectionError`). */
export async function openDatabaseUrl(config: Config, logger: Logger): Promise<{ url: string; embedded?: EmbeddedPostgresServer }> {
  if (config.DATABASE_URL !== undefined) {
    await checkConfiguredDatabases(config, logger, [{ variable: 'DATABASE_URL', url: config.DATABASE_URL }]);
    return { url: config.DATABASE_URL };
  }
  const embedded = await startEmbeddedPostgres({ dataDir: config.EMBEDDED_POSTGRES_DIR, port: config.EMBEDDED_POSTGRES_PORT, logger });
  try {
    const { ensureDatabase } = await loadApp();
    return { url: await ensureDatabase(embedded.url, 'orderstream'), embedded };
  } catch (error) {
    await embedded.stop();
    throw error;
  }
}

/**
 * One connection to each configured database before anything else uses it: a missing database, a
 * server that does not answer, a refused login or a server too old ends the command with one line
 * saying what to do (docs/operations.md, *When the database cannot be used*).
 */
export async function checkConfiguredDatabases(config: Config, logger: Logger, databases: readonly { variable: string; url: string }[]): Promise<void> {
  const { checkDatabaseConnection } = await import('../platform/database/connection-check.ts');
  for (const { variable, url } of databases) {
    await checkDatabaseConnection({ url, variable, timeoutMs: config.DATABASE_ACQUIRE_TIMEOUT_MS, logger });
  }
}
