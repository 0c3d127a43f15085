// No static import of this file may load `pg` (the database module is imported lazily): tracing
// starts in main() first, to instrument it (docs/decisions/0007-tracing.md).
import { parseArgs } from 'node:util';
import { seedDemoData, seedSummary } from './apps/seed.ts';
import { resolveKeyEncryptionKey } from './apps/key-encryption-key.ts';
import type * as ServicesAdmin from './apps/services-admin.ts';
import type { ServiceRole } from './apps/services.ts';
import type { ProcessRole, SingleProcess } from './apps/single-process.ts';
import type { BenchArguments } from './apps/bench/bench-arguments.ts';
import type { IdentityModule } from './modules/identity/index.ts';
import { ConfigError, loadConfig, type Config } from './platform/config/config.ts';
import { DatabaseConnectionError } from './platform/database/connection-failure.ts';
import { runningEmbeddedPostgresUrl, startEmbeddedPostgres, type EmbeddedPostgresServer } from './platform/database/embedded-postgres.ts';
import { migrate } from './platform/database/migrations.ts';
import { applyServerTimeouts, serverTimeoutsOf } from './platform/http/server-timeouts.ts';
import { createLogger, type Logger } from './platform/logging/logger.ts';
import { startConfiguredTracing } from './platform/observability/tracing.ts';

const usage = `Usage: orderstream <command> [options]

Commands:
  start [--role all]   Run OrderStream (default: every module in one process)
        --role api     The HTTP API, messaging and background work; queues jobs but runs none
        --role worker  Messaging, background work and the job workers; no HTTP listener
        --role gateway The public edge in front of services listed in GATEWAY_UPSTREAMS
                       (no database); services behind it set the same GATEWAY_SECRET
        --role identity|catalog|inventory|orders|payments|notifications|jobs
                       One service of the services shape (several: --role orders,payments),
                       each on its own *_DATABASE_URL, messages through KAFKA_BROKERS
  migrate              Apply pending database migrations and exit
  seed                 Create demo users and a demo catalogue with stock (safe to run again)
  users grant-admin EMAIL   Give an account the admin role (its older access tokens are refused at once)
  users revoke-sessions EMAIL   End every session of an account: refresh and access tokens refused at once
  users disable EMAIL  Disable an account: no sign-in or refresh, every session and token revoked
  users enable EMAIL   Enable a disabled account again
  keys rotate          Make a new token signing key current now
  keys rewrap          Re-encrypt the stored signing keys under IDENTITY_KEY_ENCRYPTION_KEY (after a rotation
                       of it, with the old one in IDENTITY_KEY_ENCRYPTION_KEY_PREVIOUS)
                       These act on the services shape when services up runs it (in --dir),
                       else on the single process; --shape single|services chooses
  bench [--shape single|services] [--duration 10s] [--connections 16] [--scenario NAME] [--saga-rate N] [--results-dir DIR] [--docs FILE|none]
                       Benchmark OrderStream on a fresh embedded database (npm run bench); see docs/benchmarks.md
  services up [--port 8080] [--database-prefix orderstream_] [--dir .data/services]
                       The services shape on this machine, in the background (npm run services): nginx on
                       --port in front of two gateways, a process per service with a database each on
                       DATABASE_URL's server, Kafka at KAFKA_BROKERS (else infra/kafka/run.sh), Redis
  services status [--dir DIR]  What runs and whether it is ready (exit 1 when something is not)
  services down [--dir DIR] [--purge]
                       Stop everything services up started; --purge then also deletes the run's
                       Kafka topics and consumer groups, its databases and the folder
  help                 Show this text

Configuration comes from environment variables; see README.md.`;

/**
 * The application graph (every module, fastify, pg-boss, jose, argon2, the AWS SDK) loads in about
 * two seconds; commands that need it import it, so `help` and usage errors answer at once.
 */
function loadApp() {
  return import('./apps/single-process.ts');
}

/** The embedded database when DATABASE_URL is unset, else the configured one, once it answers (else `DatabaseConnectionError`). */
async function openDatabaseUrl(config: Config, logger: Logger): Promise<{ url: string; embedded?: EmbeddedPostgresServer }> {
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
async function checkConfiguredDatabases(config: Config, logger: Logger, databases: readonly { variable: string; url: string }[]): Promise<void> {
  const { checkDatabaseConnection } = await import('./platform/database/connection-check.ts');
  for (const { variable, url } of databases) {
    await checkDatabaseConnection({ url, variable, timeoutMs: config.DATABASE_ACQUIRE_TIMEOUT_MS, logger });
  }
}

function isProcessRole(role: string, processRoles: readonly ProcessRole[]): role is ProcessRole {
  return (processRoles as readonly string[]).includes(role);
}

/** Runs until SIGINT/SIGTERM, then `stop` within SHUTDOWN_TIMEOUT_MS; a second signal exits at once. */
function stopOnSignal(config: Config, logger: Logger, stop: () => Promise<void>): void {
  let stopping = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (stopping) {
      logger.warn({ signal }, 'second signal: exiting at once');
      process.exit(1);
    }
    stopping = true;
    logger.info({ signal }, 'shutting down');
    setTimeout(() => {
      logger.error({ timeoutMs: config.SHUTDOWN_TIMEOUT_MS }, 'shutdown took too long; exiting');
      process.exit(1);
    }, config.SHUTDOWN_TIMEOUT_MS).unref();
    stop().then(() => { logger.info('stopped'); }, (error: unknown) => {
      logger.error({ err: error }, 'error while shutting down');
      process.exitCode = 1;
    });
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
}

async function startGateway(config: Config, logger: Logger): Promise<void> {
  const { createGateway } = await import('./apps/gateway/gateway.ts');
  let gateway;
  try {
    gateway = createGateway({ config, logger });
  } catch (error) {
    // A missing secret or upstream is a configuration mistake, reported as one.
    throw new ConfigError([(error as Error).message]);
  }
  const running = gateway;
  stopOnSignal(config, logger, () => running.close());
  let url: string;
  let metricsUrl: string;
  try {
    const timeouts = serverTimeoutsOf(config);
    applyServerTimeouts(running.app.server, timeouts);
    url = await running.app.listen({ host: config.HOST, port: config.PORT });
    metricsUrl = `${(await running.ops.listen({ host: config.OPS_HOST, port: config.OPS_PORT, timeouts })).url}/metrics`;
  } catch (error) {
    // A taken port: close what is open (Redis, upstream pools), or they would keep the process alive, failed but running.
    await running.close().catch(() => undefined);
    throw error;
  }
  logger.info({ url, metricsUrl, role: 'gateway', upstreams: config.GATEWAY_UPSTREAMS }, 'OrderStream gateway is listening');
}

/** Some services of the services shape in this process (`--role orders` or `--role orders,payments`). */
async function startServices(config: Config, logger: Logger, roles: readonly ServiceRole[]): Promise<void> {
  const { createServices, serviceDatabaseUrls } = await import('./apps/services.ts');
  const startedAt = performance.now();
  await checkConfiguredDatabases(config, logger, serviceDatabaseUrls(config, roles));
  let services;
  try {
    services = await createServices({ config, logger, roles, keyEncryptionKey: await resolveKeyEncryptionKey(config, logger) });
  } catch (error) {
    if (error instanceof Error && /^(Set |Service roles|Services in separate|The [a-z]+ module needs)/.test(error.message)) throw new ConfigError([error.message]);
    throw error;
  }
  const running = services;
  stopOnSignal(config, logger, () => running.close());
  let url: string;
  let metricsUrl: string;
  try {
    await running.start();
    const timeouts = serverTimeoutsOf(config);
    applyServerTimeouts(running.app.server, timeouts);
    url = await running.app.listen({ host: config.HOST, port: config.PORT });
    metricsUrl = `${(await running.ops.listen({ host: config.OPS_HOST, port: config.OPS_PORT, timeouts })).url}/metrics`;
  } catch (error) {
    // A taken port or a failed start: close what is open (Kafka, pools, workers), or the process would stay up, failed but running.
    await running.close().catch(() => undefined);
    throw error;
  }
  logger.info({ url, metricsUrl, roles, startupMs: Math.round(performance.now() - startedAt) }, 'OrderStream is listening');
}

async function start(config: Config, logger: Logger, roleOption: string): Promise<void> {
  const roles = roleOption.split(',').map((role) => role.trim()).filter((role) => role !== '');
  if (roles.length === 1 && roles[0] === 'gateway') {
    await startGateway(config, logger);
    return;
  }
  const { isServiceRole } = await import('./apps/services.ts');
  if (roles.length > 0 && roles.every((role) => isServiceRole(role))) {
    await startServices(config, logger, roles);
    return;
  }
  const role = roles.length === 1 ? roles[0] ?? roleOption : roleOption;
  const { createSingleProcess, processRoles } = await loadApp();
  if (!isProcessRole(role, processRoles)) {
    const { serviceRoles } = await import('./apps/services.ts');
    throw new UsageError(`Unknown role "${roleOption}"; use --role ${[...processRoles, 'gateway'].join(', --role ')}, or service roles (comma-separated): ${serviceRoles.join(', ')}.`);
  }
  const startedAt = performance.now();
  // Signals are taken from the first moment: the embedded database runs in its own process group, so
  // a Ctrl-C that ended Node while starting would leave it running. An early one is obeyed once started.
  let shutdown: ((signal: NodeJS.Signals) => Promise<void>) | undefined = undefined;
  let signalWhileStarting: NodeJS.Signals | undefined;
  const onSignal = (signal: NodeJS.Signals) => {
    if (shutdown !== undefined) {
      void shutdown(signal);
    } else if (signalWhileStarting === undefined) {
      signalWhileStarting = signal;
      logger.info({ signal }, 'stopping as soon as started');
    } else {
      logger.warn({ signal }, 'second signal: exiting at once');
      process.exit(1);
    }
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  const database = await openDatabaseUrl(config, logger);
  let orderstream;
  let metricsUrl: string;
  try {
    orderstream = await createSingleProcess({ config, logger, role, databaseUrl: database.url, keyEncryptionKey: await resolveKeyEncryptionKey(config, logger) });
    await orderstream.start();
    // Every listener cuts off a slow or idle client alike (docs/operations.md, HTTP limits).
    const timeouts = serverTimeoutsOf(config);
    // Every role, the worker included, serves its metrics and probes on the operations listener.
    metricsUrl = `${(await orderstream.ops.listen({ host: config.OPS_HOST, port: config.OPS_PORT, timeouts })).url}/metrics`;
    if (role !== 'worker') {
      applyServerTimeouts(orderstream.app.server, timeouts);
      await orderstream.app.listen({ host: config.HOST, port: config.PORT });
    }
  } catch (error) {
    await orderstream?.close().catch(() => undefined);
    await database.embedded?.stop();
    throw error;
  }
  const startupMs = Math.round(performance.now() - startedAt);
  if (role === 'worker') {
    logger.info({ role, startupMs, metricsUrl, embeddedDatabase: database.embedded !== undefined }, 'OrderStream worker is running (no HTTP listener)');
  } else {
    const address = orderstream.app.server.address();
    const port = typeof address === 'object' && address !== null ? address.port : config.PORT;
    const host = config.HOST.includes(':') ? `[${config.HOST}]` : config.HOST;
    logger.info({ url: `http://${host}:${port}`, metricsUrl, role, startupMs, embeddedDatabase: database.embedded !== undefined }, 'OrderStream is listening');
  }

  const running = orderstream;
  let shuttingDown = false;
  const stopAll = async (signal: NodeJS.Signals) => {
    if (shuttingDown) {
      logger.warn({ signal }, 'second signal: exiting at once');
      process.exit(1);
    }
    shuttingDown = true;
    logger.info({ signal }, 'shutting down');
    const timer = setTimeout(() => {
      logger.error({ timeoutMs: config.SHUTDOWN_TIMEOUT_MS }, 'shutdown took too long; exiting');
      process.exit(1);
    }, config.SHUTDOWN_TIMEOUT_MS);
    timer.unref();
    try {
      await running.close();
      await database.embedded?.stop();
      logger.info('stopped');
    } catch (error) {
      logger.error({ err: error }, 'error while shutting down');
      process.exitCode = 1;
    }
  };
  shutdown = stopAll;
  if (signalWhileStarting !== undefined) await stopAll(signalWhileStarting);
}

/**
 * Runs `work` on an OrderStream wired to the configured database — the embedded one a running
 * `npm start` already serves, when there is one — without starting background work or listening.
 */
async function withOrderStream<T>(config: Config, logger: Logger, work: (orderstream: SingleProcess) => Promise<T>): Promise<T> {
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
async function onAdminTarget(
  config: Config, values: { shape?: string; dir?: string },
  work: (target: ServicesAdmin.AdminTarget, admin: typeof ServicesAdmin) => Promise<void>,
): Promise<void> {
  const shape = values.shape;
  if (shape !== undefined && shape !== 'single' && shape !== 'services') throw new UsageError(`--shape must be single or services, not "${shape}".`);
  const admin = await import('./apps/services-admin.ts');
  const runner = await import('./apps/services-runner.ts');
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

/** Creates the demo users, then the demo catalogue through the API as the demo admin; prints the credentials and nothing else. */
async function seed(config: Config, logger: Logger, values: { shape?: string; dir?: string }): Promise<void> {
  await onAdminTarget(config, values, async (target, admin) => {
    if (target.shape === 'services') {
      const seeded = await admin.seedServicesShape(target.services, config, logger);
      console.log(seedSummary(seeded, `through the services shape at ${target.services.apiUrl}`));
      return;
    }
    const seeded = await withOrderStream(config, logger, async (orderstream) => {
      const users = await orderstream.identity.seedDemoUsers();
      const login = await orderstream.app.inject({ method: 'POST', url: '/v1/auth/login', payload: users.admin });
      if (login.statusCode !== 200) throw new Error(`Signing in as the demo admin failed: ${login.statusCode} ${login.body}`);
      const authorization = `Bearer ${login.json<{ accessToken: string }>().accessToken}`;
      const result = await seedDemoData(async (method, url, payload) => {
        const response = await orderstream.app.inject({ method, url, headers: { authorization }, payload: payload as Record<string, unknown> });
        return { statusCode: response.statusCode, body: response.body };
      });
      return { users, ...result };
    });
    console.log(seedSummary(seeded, "in the single process's database"));
  });
}

async function users(config: Config, logger: Logger, args: string[], values: { shape?: string; dir?: string }): Promise<void> {
  const [action, email] = args;
  const actions = ['grant-admin', 'revoke-sessions', 'disable', 'enable'];
  if (action === undefined || !actions.includes(action) || email === undefined) {
    throw new UsageError(`Usage: orderstream users grant-admin|revoke-sessions|disable|enable EMAIL [--shape single|services]\n\n${usage}`);
  }
  const { UserNotFoundError } = await import('./modules/identity/index.ts');
  const act = async (identity: IdentityModule): Promise<string> => {
    switch (action) {
      case 'grant-admin': {
        const user = await identity.grantAdmin(email);
        return `${user.email} now has the roles: ${user.roles.join(', ')} (tokens issued before are refused; the next one carries them).`;
      }
      case 'revoke-sessions': {
        const user = await identity.revokeSessionsOf(email);
        return `${user.email}: ${user.sessionsRevoked} open sessions revoked; every access token issued before now is refused.`;
      }
      case 'disable': {
        const user = await identity.disableAccount(email);
        return `${user.email} is disabled: sign-in and refresh are refused, and every session and access token is revoked.`;
      }
      default: {
        const user = await identity.enableAccount(email);
        return `${user.email} is enabled: it may sign in again.`;
      }
    }
  };
  await onAdminTarget(config, values, async (target, admin) => {
    try {
      const message = target.shape === 'services'
        ? await admin.withServicesIdentity(target.services, config, logger, act)
        : await withOrderStream(config, logger, (orderstream) => act(orderstream.identity));
      console.log(message);
    } catch (error) {
      if (error instanceof UserNotFoundError) throw new UsageError(`No account with the email ${email}.`);
      throw error;
    }
  });
}

async function keys(config: Config, logger: Logger, args: string[], values: { shape?: string; dir?: string }): Promise<void> {
  if (args[0] === 'rewrap') {
    await onAdminTarget(config, values, async (target, admin) => {
      const { rewrapped, total } = target.shape === 'services'
        ? await admin.withServicesIdentity(target.services, config, logger, (identity) => identity.rewrapSigningKeys())
        : await withOrderStream(config, logger, (orderstream) => orderstream.identity.rewrapSigningKeys());
      console.log(`${rewrapped} of ${total} signing keys re-encrypted; all are now under the current key-encryption key, and IDENTITY_KEY_ENCRYPTION_KEY_PREVIOUS can be removed.`);
    });
    return;
  }
  if (args[0] !== 'rotate') throw new UsageError(`Usage: orderstream keys rotate|rewrap [--shape single|services]\n\n${usage}`);
  await onAdminTarget(config, values, async (target, admin) => {
    if (target.shape === 'services') await admin.withServicesIdentity(target.services, config, logger, (identity) => identity.rotateSigningKey());
    else await withOrderStream(config, logger, (orderstream) => orderstream.identity.rotateSigningKey());
    console.log('A new signing key is current; the previous one stays published until its tokens expire.');
  });
}

async function migrateOnly(config: Config, logger: Logger): Promise<void> {
  // The database before the application graph: a wrong DATABASE_URL is reported without waiting for it to load.
  const database = await openDatabaseUrl(config, logger);
  try {
    const { allMigrations } = await loadApp();
    const { createDatabase } = await import('./platform/database/database.ts');
    const db = createDatabase({ url: database.url, poolSize: 1 });
    try {
      const applied = await migrate(db, allMigrations, logger);
      logger.info({ applied: applied.length }, applied.length === 0 ? 'database is up to date' : 'migrations applied');
    } finally {
      await db.destroy();
    }
  } finally {
    await database.embedded?.stop();
  }
}

/** `services up|down|status`: the services shape as background processes on this machine (src/apps/services-runner.ts). */
async function services(config: Config, positionals: string[], values: { dir?: string; port?: string; 'database-prefix'?: string; purge?: boolean }): Promise<void> {
  const runner = await import('./apps/services-runner.ts');
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

/** Runs the benchmark harness (src/apps/bench) and prints its table; a run with errors exits 1. */
async function bench(values: BenchArguments): Promise<void> {
  const { BenchArgumentError, parseBenchArguments } = await import('./apps/bench/bench-arguments.ts');
  let options;
  try {
    options = parseBenchArguments(values);
  } catch (error) {
    if (error instanceof BenchArgumentError) throw new UsageError(error.message);
    throw error;
  }
  const { runBench } = await import('./apps/bench/bench.ts');
  const { renderText } = await import('./apps/bench/report.ts');
  const run = await runBench({ ...options, log: (line) => { console.error(`bench: ${line}`); } });
  console.log(renderText(run.report));
  console.log(`\nResults: ${run.resultsFile}${run.docsFile === undefined ? '' : `; table in ${run.docsFile}`}`);
  if (!run.report.ok) process.exitCode = 1;
}

class UsageError extends Error {}

/**
 * The configuration tracing starts with: a process started for some roles (`--role orders`, a
 * gateway, a worker) names its traces `orderstream-<roles>` unless OTEL_SERVICE_NAME says otherwise,
 * so the services of one deployment are told apart in a trace without a variable per service.
 */
function tracedAs(config: Config, command: string, role: string | undefined): Config {
  if (process.env.OTEL_SERVICE_NAME !== undefined || command !== 'start' || role === undefined || role === 'all') return config;
  return { ...config, OTEL_SERVICE_NAME: `orderstream-${role.split(',').map((name) => name.trim()).join('+')}` };
}

/** The arguments, with a mistyped option reported as the usage mistake it is rather than a crash. */
function parseCommandLine(argv: string[]) {
  try {
    return parseArgs({
      args: argv, allowPositionals: true,
      options: {
        role: { type: 'string', default: 'all' }, help: { type: 'boolean', short: 'h' },
        // bench
        shape: { type: 'string' }, duration: { type: 'string' }, connections: { type: 'string' }, scenario: { type: 'string' }, 'saga-rate': { type: 'string' }, 'results-dir': { type: 'string' }, docs: { type: 'string' },
        // services
        dir: { type: 'string' }, port: { type: 'string' }, 'database-prefix': { type: 'string' }, purge: { type: 'boolean' },
      },
    });
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    if (typeof code === 'string' && code.startsWith('ERR_PARSE_ARGS_')) {
      throw new UsageError(`${(error as Error).message}\n\n${usage}`);
    }
    throw error;
  }
}

async function main(argv: string[]): Promise<void> {
  const { positionals, values } = parseCommandLine(argv);
  const command = positionals[0] ?? 'help';
  if (values.help === true || command === 'help') {
    console.log(usage);
    return;
  }
  const config = loadConfig();
  // An admin command's result on standard output is for a person to read: logs go to standard
  // error, and only warnings unless LOG_LEVEL asks for more.
  const logger = ['seed', 'users', 'keys'].includes(command)
    ? createLogger({ level: process.env.LOG_LEVEL === undefined ? 'warn' : config.LOG_LEVEL, destination: process.stderr })
    : createLogger({ level: config.LOG_LEVEL });
  // With OTEL_EXPORTER_OTLP_ENDPOINT set, before the application (and pg) is imported: instrumentations
  // patch modules as they load (decision 0007). Unset, nothing is loaded or started.
  await startConfiguredTracing(tracedAs(config, command, values.role), logger);
  switch (command) {
    case 'start':
      await start(config, logger, values.role);
      return;
    case 'migrate':
      await migrateOnly(config, logger);
      return;
    case 'seed':
      await seed(config, logger, values);
      return;
    case 'users':
      await users(config, logger, positionals.slice(1), values);
      return;
    case 'keys':
      await keys(config, logger, positionals.slice(1), values);
      return;
    case 'bench':
      await bench(values);
      return;
    case 'services':
      await services(config, positionals.slice(1), values);
      return;
    default:
      throw new UsageError(`Unknown command "${command}".\n\n${usage}`);
  }
}

main(process.argv.slice(2)).catch((error: unknown) => {
  if (error instanceof ConfigError || error instanceof UsageError) {
    console.error(error.message);
    process.exitCode = 2;
    return;
  }
  // One line: the database is reachable and usable, or this says what to change (the driver's error is logged at debug level).
  if (error instanceof DatabaseConnectionError) {
    console.error(error.message);
    process.exitCode = 1;
    return;
  }
  console.error(error instanceof Error ? (error.stack ?? error.message) : String(error));
  process.exitCode = 1;
});
