import { resolveKeyEncryptionKey } from '../apps/key-encryption-key.ts';
import type * as ServicesAdmin from '../apps/services-admin.ts';
import type { SingleProcess } from '../apps/single-process.ts';
import type { Config } from '../platform/config/config.ts';
import { runningEmbeddedPostgresUrl } from '../platform/database/embedded-postgres.ts';
import type { Logger } from '../platform/logging/logger.ts';
import { loadApp, openDatabaseUrl } from './database.ts';
import { UsageError, type AdminTargetOptions } from './usage.ts';

/**
 * Runs `work` on an OrderStream wired to the configured database — the embedded one a running
 * `npm start` already serves, when there is one — without starting background work or listening.
 */
export async function withOrderStream<T>(config: Config, logger: Logger, work: (orderstream: SingleProcess) => Promise<T>): Promise<T> {
  const { createSingleProcess, ensureDatabase } = await loadApp();
  const running = config.DATABASE_URL === undefined ? await runningEmbeddedPostgresUrl(config.EMBEDDED_POSTGRES_DIR) : undefined;
  const database = running === undefined ? await openDatabaseUrl(config, logger) : { url: await ensureDatabase(running, 'orderstream') };
  try {
    // A local admin command calls the app in-process, as its own edge, even where the listening services sit behind a gateway.
    const local = { ...config, GATEWAY_SECRET: undefined };
    const orderstream = await createSingleProcess({ config: local, logger, databaseUrl: database.url, keyEncryptionKey: await resolveKeyEncryptionKey(config, logger) });
    try {
      return await work(orderstream);
    } finally {
      await orderstream.close();
    }
  } finally {
    await database.embedded?.stop();
  }
}

/**
 * Runs an admin command on the OrderStream it is meant for (`--shape`, else whichever shape runs;
 * src/apps/services-admin.ts); when that one is not there, says what to start and exits 1.
 */
export async function onAdminTarget(
  config: Config, values: AdminTargetOptions,
  work: (target: ServicesAdmin.AdminTarget, admin: typeof ServicesAdmin) => Promise<void>,
): Promise<void> {
  const shape = values.shape;
  if (shape !== undefined && shape !== 'single' && shape !== 'services') throw new UsageError(`--shape must be single or services, not "${shape}".`);
  const admin = await import('../apps/services-admin.ts');
  const runner = await import('../apps/services-runner.ts');
  try {
    const target = await admin.chooseAdminTarget({
      shape,
      dir: values.dir ?? process.env.ORDERSTREAM_SERVICES_DIR ?? runner.defaultServicesDir,
      serverUrl: config.DATABASE_URL ?? runner.defaultServerUrl,
      singleRunning: async () => config.DATABASE_URL !== undefined || await runningEmbeddedPostgresUrl(config.EMBEDDED_POSTGRES_DIR) !== undefined,
    });
    await work(target, admin);
  } catch (error) {
    if (error instanceof admin.ShapeNotRunningError || error instanceof runner.ServicesError) {
      console.error(error.message);
      process.exitCode = 1;
      return;
    }
    throw error;
  }
}
