import { ConfigError, type Config } from '../platform/config/config.ts';
import type { Logger } from '../platform/logging/logger.ts';
import { takeSignals } from './lifecycle.ts';
import { listen } from './listeners.ts';

/** `start --role gateway`: the public edge of the services shape, in front of GATEWAY_UPSTREAMS (no database). */
export async function startGateway(config: Config, logger: Logger): Promise<void> {
  const { createGateway } = await import('../apps/gateway/gateway.ts');
  let gateway;
  try {
    gateway = createGateway({ config, logger });
  } catch (error) {
    // Building the gateway reads nothing but its configuration: a missing secret or upstream is a configuration mistake, reported as one.
    throw new ConfigError([(error as Error).message]);
  }
  const running = gateway;
  await takeSignals({ logger, shutdownTimeoutMs: config.SHUTDOWN_TIMEOUT_MS }).stopWith(() => running.close());
  let listening;
  try {
    listening = await listen(config, running);
  } catch (error) {
    // A taken port: close what is open (Redis, upstream pools), or they would keep the process alive, failed but running.
    await running.close().catch(() => undefined);
    throw error;
  }
  logger.info({ url: listening.url, metricsUrl: listening.metricsUrl, role: 'gateway', upstreams: config.GATEWAY_UPSTREAMS }, 'OrderStream gateway is listening');
}
