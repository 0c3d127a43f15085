/**
 * The inventory module's door for composition roots: its factory, its migrations, and its contract again.
 * Other modules import only its contract.ts, so they never load this factory, its adapters or their SDKs.
 */
import { BackgroundLoop, type BackgroundTask } from '../../platform/background/background-loop.ts';
import { RetentionSweeper, type BatchLimits, type RetentionMetrics } from '../../platform/database/retention-sweeper.ts';
import { tracedUseCase } from '../../platform/observability/tracing.ts';
import type { Database } from '../../platform/database/database.ts';
import type { MigrationSet } from '../../platform/database/migrations.ts';
import type { RouteRegistration } from '../../platform/http/app.ts';
import type { ServiceCaller } from '../../platform/http/service-caller.ts';
import type { Logger } from '../../platform/logging/logger.ts';
import type { MessageConsumer } from '../../platform/messaging/index.ts';
import { CommitStock } from './application/commit-stock.ts';
import { ExpireReservations } from './application/expire-reservations.ts';
import { GetStockLevel } from './application/get-stock-level.ts';
import { ListStockLevels } from './application/list-stock-levels.ts';
import { ReleaseStock } from './application/release-stock.ts';
import { ReserveStock } from './application/reserve-stock.ts';
import { RestockOrder } from './application/restock-order.ts';
import { SetStockLevel } from './application/set-stock-level.ts';
import { SetStockLevels } from './application/set-stock-levels.ts';
import { inventoryInternalRoutes } from './adapters/http/inventory-internal-routes.ts';
import { inventoryRoutes } from './adapters/http/inventory-routes.ts';
import { stockLevelAdminRoutes } from './adapters/http/stock-level-admin-routes.ts';
import { HttpInventoryClient } from './adapters/http-client/http-inventory-client.ts';
import { inventoryConsumers } from './adapters/messaging/inventory-consumers.ts';
import { oldAppliedStockBatches } from './adapters/postgres/applied-batch-retention.ts';
import { PgInventoryTransactions } from './adapters/postgres/pg-inventory-store.ts';
import { PgStockLevelList } from './adapters/postgres/pg-stock-level-list.ts';
import { PgStockRepository } from './adapters/postgres/pg-stock-repository.ts';
import type { InventoryClient } from './contract.ts';
import { OnHandBelowReservedError } from './domain/inventory.errors.ts';

export * from './contract.ts';
export { inventoryMessageSchemas } from './adapters/messaging/inventory-message-schemas.ts';

export const inventoryMigrations: MigrationSet = {
  module: 'inventory',
  schema: 'inventory',
  directory: new URL('./adapters/postgres/migrations/', import.meta.url),
};

export interface InventoryModule {
  routes: RouteRegistration;
  /** `inventory.reserve-stock`, `inventory.release-stock`, `inventory.commit-stock`, `inventory.restock`. */
  consumers: MessageConsumer[];
  /** The reservation expiry sweeper, and with `retention` the sweeper of old applied batches. */
  background: BackgroundTask[];
  /** In-process adapter of inventory's client, for modules in the same process. */
  client: InventoryClient;
}

/** Expired reservations released per sweeper transaction; the loop runs again at once while it finds work. */
const expiryBatchSize = 100;

/** Wires inventory's use cases to PostgreSQL. */
export function createInventoryModule(deps: {
  db: Database;
  logger: Logger;
  /** How long a reservation holds its units before the sweeper releases it (RESERVATION_TTL_SECONDS). */
  reservationTtlSeconds: number;
  /** How often the expiry sweeper looks for expired reservations; 1000 ms by default. */
  sweepIntervalMs?: number;
  /** `inventory.retention`: deletes applied batches of stock levels older than `appliedBatchSeconds`. */
  retention?: { appliedBatchSeconds: number; intervalMs: number; limits: BatchLimits; metrics?: RetentionMetrics };
}): InventoryModule {
  const { db, logger } = deps;
  const stock = new PgStockRepository(db);
  const transactions = new PgInventoryTransactions(db);
  const expireReservations = new ExpireReservations();
  const setStockLevel = tracedUseCase('inventory.set-stock-level', new SetStockLevel({ stock }));
  const setStockLevels = tracedUseCase('inventory.set-stock-levels', new SetStockLevels({ stock }));
  const client: InventoryClient = {
    setStockLevels: (batch) => setStockLevels.execute(batch),
    async setStockLevel(sku, onHand) {
      try {
        const level = await setStockLevel.execute({ sku, onHand });
        return { outcome: 'set', sku: level.sku, onHand: level.onHand, reserved: level.reserved };
      } catch (error) {
        if (error instanceof OnHandBelowReservedError) return { outcome: 'refused', sku: error.sku, reason: 'below-reserved', reserved: error.reserved };
        throw error;
      }
    },
  };
  const publicRoutes = inventoryRoutes({
    setStockLevel,
    getStockLevel: tracedUseCase('inventory.get-stock-level', new GetStockLevel({ stock })),
  });
  const adminRoutes = stockLevelAdminRoutes({ listStockLevels: tracedUseCase('inventory.list-stock-levels', new ListStockLevels({ stock: new PgStockLevelList(db) })) });
  const internalRoutes = inventoryInternalRoutes(client);
  return {
    routes: (app) => {
      publicRoutes(app);
      adminRoutes(app);
      internalRoutes(app);
    },
    consumers: inventoryConsumers({
      reserveStock: tracedUseCase('inventory.reserve-stock', new ReserveStock({ reservationTtlSeconds: deps.reservationTtlSeconds })),
      releaseStock: tracedUseCase('inventory.release-stock', new ReleaseStock()),
      commitStock: tracedUseCase('inventory.commit-stock', new CommitStock()),
      restockOrder: tracedUseCase('inventory.restock-order', new RestockOrder()),
    }, logger),
    background: [
      new BackgroundLoop({
        name: 'inventory.reservation-expiry',
        intervalMs: deps.sweepIntervalMs ?? 1000,
        logger,
        step: () => transactions.run((store) => expireReservations.execute(store, expiryBatchSize)),
      }),
      ...(deps.retention === undefined ? [] : [new RetentionSweeper({
        name: 'inventory.retention', db, logger, ...deps.retention, rules: [oldAppliedStockBatches(deps.retention.appliedBatchSeconds)],
      })]),
    ],
    client,
  };
}

/** Inventory's client over HTTP, for modules in another service (services shape). */
export function createInventoryHttpClient(inventory: ServiceCaller): InventoryClient {
  return new HttpInventoryClient(inventory);
}
