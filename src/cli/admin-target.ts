import { resolveKeyEncryptionKey } from '../apps/key-encryption-key.ts';
import type * as ServicesAdmin from '../../tools/services-admin.ts';
import type { ServicesShape } from '../../tools/services-runner.ts';
import type { SingleProcess } from '../apps/single-process.ts';
import type { Config } from '../platform/config/config.ts';
import { runningEmbeddedPostgresUrl } from '../platform/database/embedded-postgres.ts';
import type { Logger } from '../platform/logging/logger.ts';
import { CheckoutOnlyError, loadServicesAdmin, loadServicesRunner } from './checkout-tools.ts';
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
 * Which OrderStream an admin command acts on: the single process, or the services shape that
 * `orderstream services up` runs on this machine, with the tools that reach its databases.
 */
export type AdminTarget = { shape: 'single' } | { shape: 'services'; services: ServicesShape; admin: typeof ServicesAdmin };

/**
 * Runs an admin command on the OrderStream it is meant for (`--shape`, else whichever shape runs;
 * tools/services-admin.ts); when that one is not there, says what to start and exits 1. Where
 * tools/ is absent (the production image) there is no local services shape: the single process's
 * database (DATABASE_URL) is the target, and `--shape services` is refused plainly.
 */
export async function onAdminTarget(config: Config, values: AdminTargetOptions, work: (target: AdminTarget) => Promise<void>): Promise<void> {
  const shape = values.shape;
  if (shape !== undefined && shape !== 'single' && shape !== 'services') throw new UsageError(`--shape must be single or services, not "${shape}".`);
  let admin: typeof ServicesAdmin;
  let runner: Awaited<ReturnType<typeof loadServicesRunner>>;
  try {
    [admin, runner] = await Promise.all([loadServicesAdmin(), loadServicesRunner()]);
  } catch (error) {
    if (!(error instanceof CheckoutOnlyError) || shape === 'services') throw error;
    await work({ shape: 'single' });
    return;
  }
  try {
    const target = await admin.chooseAdminTarget({
      shape,
      dir: values.dir ?? process.env.ORDERSTREAM_SERVICES_DIR ?? runner.defaultServicesDir,
      serverUrl: config.DATABASE_URL ?? runner.defaultServerUrl,
      singleRunning: async () => config.DATABASE_URL !== undefined || await runningEmbeddedPostgresUrl(config.EMBEDDED_POSTGRES_DIR) !== undefined,
    });
    await work(target.shape === 'services' ? { ...target, admin } : target);
  } catch (error) {
    if (error instanceof admin.ShapeNotRunningError || error instanceof runner.ServicesError) {
      console.error(error.message);
      process.exitCode = 1;
      return;
    }
    throw error;
  }
}
