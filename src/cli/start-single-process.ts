import { resolveKeyEncryptionKey } from '../apps/key-encryption-key.ts';
import type { ProcessRole } from '../apps/single-process.ts';
import type { Config } from '../platform/config/config.ts';
import type { Logger } from '../platform/logging/logger.ts';
import { loadApp, openDatabaseUrl } from './database.ts';
import { takeSignals } from './lifecycle.ts';
import { listen } from './listeners.ts';

/** `start --role all|api|worker`: the single process (or one half of it) on one database, the embedded one when DATABASE_URL is unset. */
export async function startSingleProcess(config: Config, logger: Logger, role: ProcessRole): Promise<void> {
  const { createSingleProcess } = await loadApp();
  const startedAt = performance.now();
  // Signals are taken from the first moment: a Ctrl-C while the embedded database starts is obeyed once started.
  const lifecycle = takeSignals({ logger, shutdownTimeoutMs: config.SHUTDOWN_TIMEOUT_MS });
  const database = await openDatabaseUrl(config, logger);
  let orderstream;
  let listening;
  try {
    orderstream = await createSingleProcess({ config, logger, role, databaseUrl: database.url, keyEncryptionKey: await resolveKeyEncryptionKey(config, logger) });
    await orderstream.start();
    listening = await listen(config, orderstream, { publicListener: role !== 'worker' });
  } catch (error) {
    await orderstream?.close().catch(() => undefined);
    await database.embedded?.stop();
    throw error;
  }
  const startupMs = Math.round(performance.now() - startedAt);
  const embeddedDatabase = database.embedded !== undefined;
  if (role === 'worker') {
    logger.info({ role, startupMs, metricsUrl: listening.metricsUrl, embeddedDatabase }, 'OrderStream worker is running (no HTTP listener)');
  } else {
    const address = orderstream.app.server.address();
    const port = typeof address === 'object' && address !== null ? address.port : config.PORT;
    const host = config.HOST.includes(':') ? `[${config.HOST}]` : config.HOST;
    logger.info({ url: `http://${host}:${port}`, metricsUrl: listening.metricsUrl, role, startupMs, embeddedDatabase }, 'OrderStream is listening');
  }
  const running = orderstream;
  await lifecycle.stopWith(async () => {
    await running.close();
    await database.embedded?.stop();
  });
}
