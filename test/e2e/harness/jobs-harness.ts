import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { auditMigrations } from '../../../src/platform/audit/index.ts';
import type { Database } from '../../../src/platform/database/database.ts';
import { createHttpApp, type HttpApp } from '../../../src/platform/http/app.ts';
import { createLogger } from '../../../src/platform/logging/logger.ts';
import { messagingMigrations } from '../../../src/platform/messaging/index.ts';
import { createTestDatabase, embeddedServerUrl } from '../../../src/platform/testing/test-database.ts';
import { catalogMigrations, createCatalogModule, type CatalogClient } from '../../../src/modules/catalog/index.ts';
import { createInventoryModule, inventoryMigrations } from '../../../src/modules/inventory/index.ts';
import { createJobsModule, jobsMigrations, type JobsModule, type JobsModuleDeps } from '../../../src/modules/jobs/index.ts';
import { createOrdersModule, ordersMigrations } from '../../../src/modules/orders/index.ts';

/** The jobs module with the catalogue and inventory it imports into and the orders it exports, on a database and a documents folder of its own. */
export interface JobsHarness {
  app: HttpApp;
  db: Database;
  jobs: JobsModule;
  catalog: CatalogClient;
  documentsDir: string;
  /** The listening address when started with `listen`, else undefined (use app.inject). */
  base: string | undefined;
  stop(): Promise<void>;
}

/** What a test may set of the jobs module; everything else is the harness's. */
export type JobsSettings = Partial<Omit<JobsModuleDeps, 'db' | 'logger' | 'databaseUrl' | 'documents' | 'catalog' | 'inventory' | 'orders'>>;

/**
 * Starts the jobs module's routes and workers beside catalog and inventory in one app, with
 * development identity headers (`x-dev-roles: admin`); `listen` also opens a port (for streams).
 */
export async function startJobsHarness(settings: JobsSettings = {}, options: { listen?: boolean } = {}): Promise<JobsHarness> {
  const created = await createTestDatabase(embeddedServerUrl(), [messagingMigrations, auditMigrations, catalogMigrations, inventoryMigrations, ordersMigrations, jobsMigrations]);
  const documentsDir = await mkdtemp(join(tmpdir(), 'orderstream-jobs-'));
  const logger = createLogger({ level: 'silent' });
  const catalogModule = createCatalogModule({ db: created.db });
  const inventoryModule = createInventoryModule({ db: created.db, logger, reservationTtlSeconds: 900 });
  // Orders are placed (and stay PENDING: no saga runs here) and exported; their background work is not started.
  const ordersModule = createOrdersModule({ db: created.db, logger, catalog: catalogModule.client, stepTimeoutMs: 60_000, idempotencyTtlHours: 24, devIdentityHeaders: true });
  const jobs = createJobsModule({
    db: created.db, logger, databaseUrl: created.url, documents: { store: 'filesystem', directory: documentsDir },
    catalog: catalogModule.client, inventory: inventoryModule.client, orders: ordersModule.exportClient, importChunksInOneTransaction: true,
    devIdentityHeaders: true, importMaxBytes: 64 * 1024, jobConcurrency: 1, invoiceSeller: 'OrderStream Test Shop',
    jobPollIntervalSeconds: 0.5, jobRetryDelaySeconds: 1, importBatchSize: 3,
    ...settings,
  });
  const app = createHttpApp({ logger, bodyLimit: 16 * 1024, routes: [catalogModule.routes, inventoryModule.routes, ordersModule.routes, jobs.routes], readiness: [] });
  const base = options.listen === true ? await app.listen({ host: '127.0.0.1', port: 0 }) : (await app.ready(), undefined);
  for (const task of jobs.background) task.start();
  await jobs.whenReady();
  return {
    app, db: created.db, jobs, catalog: catalogModule.client, documentsDir, base,
    async stop() {
      await app.close();
      await Promise.all(jobs.background.map((task) => task.stop()));
      await created.drop();
      await rm(documentsDir, { recursive: true, force: true });
    },
  };
}
