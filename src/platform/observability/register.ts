/**
 * Starts tracing before an entry point's own imports load, for entry points that import the
 * application statically (scripts, benchmarks); the CLI starts tracing itself and needs no preload:
 *
 *   OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:4318 node --import ./src/platform/observability/register.ts scripts/my-script.ts
 *
 * Does nothing when OTEL_EXPORTER_OTLP_ENDPOINT is unset. A bad configuration is left for the entry
 * point to report, in its own words.
 */
import { ConfigError, loadConfig, type Config } from '../config/config.ts';
import { createLogger } from '../logging/logger.ts';
import { startConfiguredTracing } from './tracing.ts';

let config: Config | undefined;
try {
  config = loadConfig();
} catch (error) {
  if (!(error instanceof ConfigError)) throw error;
}
if (config !== undefined) await startConfiguredTracing(config, createLogger({ level: config.LOG_LEVEL }));
