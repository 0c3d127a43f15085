import { resolveKeyEncryptionKey } from '../apps/key-encryption-key.ts';
import type { ServiceRole } from '../apps/services.ts';
import type { Config } from '../platform/config/config.ts';
import type { Logger } from '../platform/logging/logger.ts';
import { checkConfiguredDatabases } from './database.ts';
import { takeSignals } from './lifecycle.ts';
import { listen } from './listeners.ts';

/** `start --role orders` or `--role orders,payments`: some services of the services shape in this process. */
export async function startServices(config: Config, logger: Logger, roles: readonly ServiceRole[]): Promise<void> {
  const { createServices, serviceDatabaseUrls } = await import('../apps/services.ts');
  const startedAt = performance.now();
  await checkConfiguredDatabases(config, logger, serviceDatabaseUrls(config, roles));
  const running = await createServices({ config, logger, roles, keyEncryptionKey: await resolveKeyEncryptionKey(config, logger) });
  await takeSignals({ logger, shutdownTimeoutMs: config.SHUTDOWN_TIMEOUT_MS }).stopWith(() => running.close());
  let listening;
  try {
    await running.start();
    listening = await listen(config, running);
  } catch (error) {
    // A taken port or a failed start: close what is open (Kafka, pools, workers), or the process would stay up, failed but running.
    await running.close().catch(() => undefined);
    throw error;
  }
  logger.info({ url: listening.url, metricsUrl: listening.metricsUrl, roles, startupMs: Math.round(performance.now() - startedAt) }, 'OrderStream is listening');
}
