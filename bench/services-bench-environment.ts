import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { sql } from 'kysely';
import { loadConfig } from '../src/platform/config/config.ts';
import { createDatabase, type Database } from '../src/platform/database/database.ts';
import { serviceRoles, type ServiceRole } from '../src/apps/services.ts';
import {
  benchSettings, observerApplication, onlyOnce, openBenchWorkspace, seedThroughApi, type BenchTarget, type BenchTargetOptions,
} from './bench-environment.ts';
import { OrderObserver } from './order-observer.ts';
import { postmasterOf } from './resource-sampler.ts';
import { startServicesShapeProcesses } from './services-shape-processes.ts';

/**
 * Starts OrderStream in the services shape for a benchmark, laid out as `orderstream services up`
 * lays it out: nginx in front of two gateways, one process per service role, each on a database of
 * its own (`bench_<run>_<role>`) on a fresh embedded PostgreSQL (or on `databaseServerUrl`),
 * messages through Kafka (`kafkaBrokers`, KAFKA_BROKERS, else the local broker of
 * infra/kafka/run.sh, started when it is not running and stopped again at the end), Redis at
 * `redisUrl` (REDIS_URL, else the local one); topics and Redis keys prefixed for this run alone.
 * Seeded through nginx exactly as the single shape is; the admin is made one in the identity database.
 */
export async function startServicesBenchTarget(options: BenchTargetOptions & { kafkaBrokers?: string | undefined; redisUrl?: string | undefined }): Promise<BenchTarget> {
  const log = options.log ?? (() => undefined);
  const { workDir, serverUrl, sharedServer, onCleanUp, cleanUp } = await openBenchWorkspace(options);
  try {
    const run = randomBytes(4).toString('hex');
    const databasePrefix = `bench_${run}_`;
    const databaseUrlOf = (role: ServiceRole) => Object.assign(new URL(serverUrl), { pathname: `/${databasePrefix}${role}` }).toString();
    if (sharedServer) {
      onCleanUp(async () => {
        const admin = createDatabase({ url: serverUrl, poolSize: 1 });
        try {
          for (const role of serviceRoles) await sql.raw(`drop database if exists "${databasePrefix}${role}" with (force)`).execute(admin);
        } finally {
          await admin.destroy();
        }
      });
    }
    // Every process reads these besides its own address, database and upstreams.
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      ...benchSettings,
      DOCUMENTS_DIR: path.join(workDir, 'documents'),
      EMAIL_OUTBOX_DIR: path.join(workDir, 'mail'),
    };
    const environmentBrokers = process.env.KAFKA_BROKERS === '' ? undefined : process.env.KAFKA_BROKERS;
    const shape = await startServicesShapeProcesses({
      dir: path.join(workDir, 'services'), serverUrl, databasePrefix,
      kafkaBrokers: options.kafkaBrokers ?? environmentBrokers,
      redisUrl: options.redisUrl ?? (process.env.REDIS_URL === '' ? undefined : process.env.REDIS_URL) ?? 'redis://127.0.0.1:6379',
      namespace: `bench-${run}`,
      env, log,
    });
    const closeApp = onlyOnce(() => shape.stop());
    onCleanUp(closeApp);

    const databases = new Map<ServiceRole, Database>(serviceRoles.map((role) => [role, createDatabase({ url: databaseUrlOf(role), poolSize: 1, applicationName: observerApplication })]));
    onCleanUp(async () => { await Promise.all([...databases.values()].map((db) => db.destroy())); });
    const databaseOf = (role: ServiceRole): Database => {
      const db = databases.get(role);
      if (db === undefined) throw new Error(`no ${role} database`);
      return db;
    };
    const observer = new OrderObserver({
      orders: databaseOf('orders'), payments: databaseOf('payments'), notifications: databaseOf('notifications'), jobs: databaseOf('jobs'),
      messaging: [...databases.values()],
    });
    const baseUrl = shape.apiUrl;
    const seeded = await seedThroughApi({
      baseUrl, products: options.products, customers: options.customers, observer, log,
      grantAdmin: async (email) => {
        await sql`update identity.users set roles = array['customer', 'admin'] where email = ${email}`.execute(databaseOf('identity'));
      },
    });
    const backendPid = await observer.backendPid();
    return {
      ...seeded, shape: 'services', baseUrl, databaseUrl: undefined, ceilingDatabaseUrl: databaseUrlOf('orders'), config: loadConfig(env), observer,
      processes: { app: shape.orderstream, others: shape.others }, probe: undefined,
      postgres: { version: await observer.serverVersion(), postmasterPid: postmasterOf(backendPid) },
      closeApp,
      close: cleanUp,
    };
  } catch (error) {
    await cleanUp();
    throw error;
  }
}
