// No static import of this file may load `pg` (the database module is imported lazily): tracing
// starts in main() first, to instrument it (docs/decisions/0007-tracing.md).
import { ConfigError, loadConfig, type Config } from '../platform/config/config.ts';
import { DatabaseConnectionError } from '../platform/database/connection-failure.ts';
import { createLogger, type Logger } from '../platform/logging/logger.ts';
import { startConfiguredTracing } from '../platform/observability/tracing.ts';
import { keys } from './keys.ts';
import { migrate } from './migrate.ts';
import { seed } from './seed.ts';
import { services } from './services.ts';
import { start } from './start.ts';
import { bench } from './bench.ts';
import { blueprint } from './blueprint.ts';
import { parseCommandLine, usage, UsageError } from './usage.ts';
import { users } from './users.ts';

/** Commands whose result on standard output is for a person to read. */
const adminCommands = ['seed', 'users', 'keys', 'blueprint'];

/**
 * The configuration tracing starts with: a process started for some roles (`--role orders`, a
 * gateway, a worker) names its traces `orderstream-<roles>` unless OTEL_SERVICE_NAME says otherwise,
 * so the services of one deployment are told apart in a trace without a variable per service.
 */
function tracedAs(config: Config, command: string, role: string | undefined): Config {
  if (process.env.OTEL_SERVICE_NAME !== undefined || command !== 'start' || role === undefined || role === 'all') return config;
  return { ...config, OTEL_SERVICE_NAME: `orderstream-${role.split(',').map((name) => name.trim()).join('+')}` };
}

function loggerFor(command: string, config: Config): Logger {
  // An admin command's logs go to standard error, and only warnings unless LOG_LEVEL asks for more.
  return adminCommands.includes(command)
    ? createLogger({ level: process.env.LOG_LEVEL === undefined ? 'warn' : config.LOG_LEVEL, destination: process.stderr })
    : createLogger({ level: config.LOG_LEVEL });
}

async function dispatch(argv: string[]): Promise<void> {
  const { positionals, values } = parseCommandLine(argv);
  const command = positionals[0] ?? 'help';
  if (values.help === true || command === 'help') {
    console.log(usage);
    return;
  }
  const config = loadConfig();
  const logger = loggerFor(command, config);
  // With OTEL_EXPORTER_OTLP_ENDPOINT set, before the application (and pg) is imported: instrumentations
  // patch modules as they load (decision 0007). Unset, nothing is loaded or started.
  await startConfiguredTracing(tracedAs(config, command, values.role), logger);
  const args = positionals.slice(1);
  switch (command) {
    case 'start': return start(config, logger, values.role);
    case 'migrate': return migrate(config, logger);
    case 'seed': return seed(config, logger, values);
    case 'users': return users(config, logger, args, values);
    case 'keys': return keys(config, logger, args, values);
    case 'bench': return bench(values);
    case 'services': return services(config, args, values);
    case 'blueprint': return blueprint(config, logger, values);
    default: throw new UsageError(`Unknown command "${command}".\n\n${usage}`);
  }
}

/**
 * Runs one `orderstream` command. A usage or configuration mistake prints its message and exits 2;
 * a database that cannot be used prints its one line and exits 1; anything else is a bug, printed
 * with its stack, exit 1. A command that runs on (`start`) keeps the process alive after this resolves.
 */
export async function runCommandLine(argv: string[]): Promise<void> {
  try {
    await dispatch(argv);
  } catch (error) {
    if (error instanceof ConfigError || error instanceof UsageError) {
      console.error(error.message);
      process.exitCode = 2;
    } else if (error instanceof DatabaseConnectionError) {
      // One line: the database is reachable and usable, or this says what to change (the driver's error is logged at debug level).
      console.error(error.message);
      process.exitCode = 1;
    } else {
      console.error(error instanceof Error ? (error.stack ?? error.message) : String(error));
      process.exitCode = 1;
    }
  }
}
