import { parseArgs } from 'node:util';
import { demoCatalogue, seedDemoData } from './apps/seed.ts';
import { resolveKeyEncryptionKey } from './apps/key-encryption-key.ts';
import type { ProcessRole, SingleProcess } from './apps/single-process.ts';
import { ConfigError, loadConfig, type Config } from './platform/config/config.ts';
import { createDatabase } from './platform/database/database.ts';
import { runningEmbeddedPostgresUrl, startEmbeddedPostgres, type EmbeddedPostgresServer } from './platform/database/embedded-postgres.ts';
import { migrate } from './platform/database/migrations.ts';
import { createLogger, type Logger } from './platform/logging/logger.ts';

const usage = `Usage: orderstream <command> [options]

Commands:
  start [--role all]   Run OrderStream (default: every module in one process)
        --role api     The HTTP API, messaging and background work; queues jobs but runs none
        --role worker  Messaging, background work and the job workers; no HTTP listener
  migrate              Apply pending database migrations and exit
  seed                 Create demo users and a demo catalogue with stock (safe to run again)
  users grant-admin EMAIL   Give an account the admin role
  keys rotate          Make a new token signing key current now
  help                 Show this text

Configuration comes from environment variables; see README.md.`;

/**
 * The application graph (every module, fastify, pg-boss, jose, argon2, the AWS SDK) loads in about
 * two seconds; commands that need it import it, so `help` and usage errors answer at once.
 */
function loadApp() {
  return import('./apps/single-process.ts');
}

/** The embedded database when DATABASE_URL is unset, else the configured one. */
async function openDatabaseUrl(config: Config, logger: Logger): Promise<{ url: string; embedded?: EmbeddedPostgresServer }> {
  if (config.DATABASE_URL !== undefined) return { url: config.DATABASE_URL };
  const embedded = await startEmbeddedPostgres({ dataDir: config.EMBEDDED_POSTGRES_DIR, port: config.EMBEDDED_POSTGRES_PORT, logger });
  try {
    const { ensureDatabase } = await loadApp();
    return { url: await ensureDatabase(embedded.url, 'orderstream'), embedded };
  } catch (error) {
    await embedded.stop();
    throw error;
  }
}

function isProcessRole(role: string, processRoles: readonly ProcessRole[]): role is ProcessRole {
  return (processRoles as readonly string[]).includes(role);
}

async function start(config: Config, logger: Logger, role: string): Promise<void> {
  const { createSingleProcess, processRoles } = await loadApp();
  if (!isProcessRole(role, processRoles)) throw new UsageError(`Unknown role "${role}"; use --role ${processRoles.join(', --role ')}.`);
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
  try {
    orderstream = await createSingleProcess({ config, logger, role, databaseUrl: database.url, keyEncryptionKey: await resolveKeyEncryptionKey(config, logger) });
    await orderstream.start();
    if (role !== 'worker') await orderstream.app.listen({ host: config.HOST, port: config.PORT });
  } catch (error) {
    await orderstream?.close().catch(() => undefined);
    await database.embedded?.stop();
    throw error;
  }
  const startupMs = Math.round(performance.now() - startedAt);
  if (role === 'worker') {
    logger.info({ role, startupMs, embeddedDatabase: database.embedded !== undefined }, 'OrderStream worker is running (no HTTP listener)');
  } else {
    const address = orderstream.app.server.address();
    const port = typeof address === 'object' && address !== null ? address.port : config.PORT;
    const host = config.HOST.includes(':') ? `[${config.HOST}]` : config.HOST;
    logger.info({ url: `http://${host}:${port}`, role, startupMs, embeddedDatabase: database.embedded !== undefined }, 'OrderStream is listening');
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
    const orderstream = await createSingleProcess({ config, logger, databaseUrl: database.url, keyEncryptionKey: await resolveKeyEncryptionKey(config, logger) });
    try {
      return await work(orderstream);
    } finally {
      await orderstream.close();
    }
  } finally {
    await database.embedded?.stop();
  }
}

/** Creates the demo users, then the demo catalogue through the API as the demo admin; prints the credentials. */
async function seed(config: Config, logger: Logger): Promise<void> {
  await withOrderStream(config, logger, async (orderstream) => {
    const users = await orderstream.identity.seedDemoUsers();
    const login = await orderstream.app.inject({ method: 'POST', url: '/v1/auth/login', payload: users.admin });
    if (login.statusCode !== 200) throw new Error(`Signing in as the demo admin failed: ${login.statusCode} ${login.body}`);
    const authorization = `Bearer ${login.json<{ accessToken: string }>().accessToken}`;
    const result = await seedDemoData(async (method, url, payload) => {
      const response = await orderstream.app.inject({ method, url, headers: { authorization }, payload: payload as Record<string, unknown> });
      return { statusCode: response.statusCode, body: response.body };
    });
    console.log(`Seeded ${demoCatalogue.length} demo products (${result.created} new, ${result.existing} already there) with stock.`);
    console.log(`Demo admin:    ${users.admin.email} / ${users.admin.password}`);
    console.log(`Demo customer: ${users.customer.email} / ${users.customer.password}`);
  });
}

async function users(config: Config, logger: Logger, args: string[]): Promise<void> {
  const [action, email] = args;
  if (action !== 'grant-admin' || email === undefined) throw new UsageError(`Usage: orderstream users grant-admin EMAIL\n\n${usage}`);
  const { UserNotFoundError } = await import('./modules/identity/index.ts');
  await withOrderStream(config, logger, async (orderstream) => {
    try {
      const user = await orderstream.identity.grantAdmin(email);
      console.log(`${user.email} now has the roles: ${user.roles.join(', ')} (from their next sign-in).`);
    } catch (error) {
      if (error instanceof UserNotFoundError) throw new UsageError(`No account with the email ${email}.`);
      throw error;
    }
  });
}

async function keys(config: Config, logger: Logger, args: string[]): Promise<void> {
  if (args[0] !== 'rotate') throw new UsageError(`Usage: orderstream keys rotate\n\n${usage}`);
  await withOrderStream(config, logger, async (orderstream) => {
    await orderstream.identity.rotateSigningKey();
    console.log('A new signing key is current; the previous one stays published until its tokens expire.');
  });
}

async function migrateOnly(config: Config, logger: Logger): Promise<void> {
  const { allMigrations } = await loadApp();
  const database = await openDatabaseUrl(config, logger);
  const db = createDatabase({ url: database.url, poolSize: 1 });
  try {
    const applied = await migrate(db, allMigrations, logger);
    logger.info({ applied: applied.length }, applied.length === 0 ? 'database is up to date' : 'migrations applied');
  } finally {
    await db.destroy();
    await database.embedded?.stop();
  }
}

class UsageError extends Error {}

/** The arguments, with a mistyped option reported as the usage mistake it is rather than a crash. */
function parseCommandLine(argv: string[]) {
  try {
    return parseArgs({ args: argv, allowPositionals: true, options: { role: { type: 'string', default: 'all' }, help: { type: 'boolean', short: 'h' } } });
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
  const logger = createLogger({ level: config.LOG_LEVEL });
  switch (command) {
    case 'start':
      await start(config, logger, values.role);
      return;
    case 'migrate':
      await migrateOnly(config, logger);
      return;
    case 'seed':
      await seed(config, logger);
      return;
    case 'users':
      await users(config, logger, positionals.slice(1));
      return;
    case 'keys':
      await keys(config, logger, positionals.slice(1));
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
  console.error(error instanceof Error ? (error.stack ?? error.message) : String(error));
  process.exitCode = 1;
});
