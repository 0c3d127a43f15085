import type { Config } from '../platform/config/config.ts';
import { loadServicesRunner } from './checkout-tools.ts';
import { usage, UsageError, type CommandLineValues } from './usage.ts';

/** `orderstream services up|down|status`: the services shape as background processes on this machine (tools/services-runner.ts). */
export async function services(config: Config, positionals: string[], values: CommandLineValues): Promise<void> {
  const runner = await loadServicesRunner();
  let parsed;
  try {
    parsed = runner.parseServicesArguments(positionals, values);
  } catch (error) {
    if (error instanceof runner.ServicesArgumentError) throw new UsageError(`${error.message}\n\n${usage}`);
    throw error;
  }
  try {
    process.exitCode = await runner.runServices(parsed.action, {
      dir: values.dir ?? process.env.ORDERSTREAM_SERVICES_DIR ?? runner.defaultServicesDir,
      ...(parsed.port === undefined ? {} : { port: parsed.port }),
      ...(parsed.databasePrefix === undefined ? {} : { databasePrefix: parsed.databasePrefix }),
      ...(parsed.purge === true ? { purge: true } : {}),
      serverUrl: config.DATABASE_URL ?? runner.defaultServerUrl,
      redisUrl: config.REDIS_URL ?? runner.defaultRedisUrl,
      ...(config.KAFKA_BROKERS === undefined ? {} : { kafkaBrokers: config.KAFKA_BROKERS }),
      ...(config.KAFKA_NAMESPACE === undefined ? {} : { kafkaNamespace: config.KAFKA_NAMESPACE }),
      ...(process.env.REDIS_KEY_PREFIX === undefined ? {} : { redisKeyPrefix: config.REDIS_KEY_PREFIX }),
      env: process.env,
    });
  } catch (error) {
    if (error instanceof runner.ServicesArgumentError) throw new UsageError(error.message);
    if (error instanceof runner.ServicesError) {
      console.error(error.message);
      process.exitCode = 1;
      return;
    }
    throw error;
  }
}
