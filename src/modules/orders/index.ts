/**
 * The orders module's door for composition roots (other modules import only contract.ts): its factory,
 * migrations and contract again. Orders orchestrates the fulfilment saga: it talks to inventory and
 * payments only through their messages.
 */
import type { Database } from '../../platform/database/database.ts';
import type { MigrationSet } from '../../platform/database/migrations.ts';
import { BackgroundLoop, type BackgroundTask } from '../../platform/background/background-loop.ts';
import { RetentionSweeper, type BatchLimits, type RetentionMetrics } from '../../platform/database/retention-sweeper.ts';
import type { RouteRegistration } from '../../platform/http/app.ts';
import type { ServiceCaller } from '../../platform/http/service-caller.ts';
import { tracedUseCase } from '../../platform/observability/tracing.ts';
import type { Logger } from '../../platform/logging/logger.ts';
import { countOpenDeadLetters, type MessageConsumer } from '../../platform/messaging/index.ts';
import type { CatalogClient } from '../catalog/contract.ts';
import { AdvanceSaga } from './application/advance-saga.ts';
import { CancelOrder } from './application/cancel-order.ts';
import { ExportOrderPage } from './application/export-order-page.ts';
import { GetOperationsSummary } from './application/get-operations-summary.ts';
import { GetOrder } from './application/get-order.ts';
import { ListAllOrders } from './application/list-all-orders.ts';
import { ListOrders } from './application/list-orders.ts';
import { OrderAdmission } from './application/order-admission.ts';
import { PlaceOrder } from './application/place-order.ts';
import { TimeOutOrders } from './application/time-out-orders.ts';
import type { OrderMetrics } from './application/ports.ts';
import { noOrderMetrics } from './application/report-transition.ts';
import { adminOrderRoutes } from './adapters/http/admin-order-routes.ts';
import { orderRoutes } from './adapters/http/order-routes.ts';
import { ordersInternalRoutes } from './adapters/http/orders-internal-routes.ts';
import { HttpOrdersExportClient } from './adapters/http-client/http-orders-export-client.ts';
import { sagaConsumer } from './adapters/messaging/saga-consumer.ts';
import { expiredIdempotencyKeys } from './adapters/postgres/idempotency-key-retention.ts';
import { PgIdempotencyKeys } from './adapters/postgres/pg-idempotency-keys.ts';
import { PgOrderExportReader } from './adapters/postgres/pg-order-export-reader.ts';
import { PgOrderOperationsReader } from './adapters/postgres/pg-order-operations-reader.ts';
import { PgOrderReader } from './adapters/postgres/pg-order-reader.ts';
import { PgOrderTransactions } from './adapters/postgres/pg-order-store.ts';

export * from './contract.ts';
import type { OrdersExportClient } from './contract.ts';
export { ordersMessageSchemas } from './adapters/messaging/orders-message-schemas.ts';
export type { OrderMetrics, SagaStepOutcome } from './application/ports.ts';
// The saga's definition, pure data and one pure function, for the blueprint that draws it (tools/blueprint/).
export { compensationsFor, sagaSteps } from './domain/order-saga.ts';

export const ordersMigrations: MigrationSet = {
  module: 'orders',
  schema: 'orders',
  directory: new URL('./adapters/postgres/migrations/', import.meta.url),
};

export interface OrdersModule {
  /** The orders API, and the admin's reads of every order and of the operations summary. */
  routes: RouteRegistration;
  consumers: MessageConsumer[];
  background: BackgroundTask[];
  /** In-process adapter of the orders client for exports, for modules in the same process. */
  exportClient: OrdersExportClient;
}

/**
 * Wires the orders use cases, the saga consumer, the timeout sweeper (steps and compensations) and the
 * backlog sampler of admission control to PostgreSQL and the catalogue.
 */
export function createOrdersModule(deps: {
  db: Database;
  logger: Logger;
  catalog: CatalogClient;
  stepTimeoutMs: number;
  idempotencyTtlHours: number;
  /** An unfinished order placement's Idempotency-Key may be taken over by a retry after this long (default 60). */
  idempotencyTakeoverSeconds?: number;
  devIdentityHeaders: boolean;
  timeoutSweepIntervalMs?: number;
  /** Saga step durations and outcomes, orders placed, finished and refused, the backlog; nothing is reported without it. */
  metrics?: OrderMetrics;
  /** How the sweeper of expired Idempotency-Keys runs; without it expired keys stay (and are claimed afresh when reused). */
  retention?: { intervalMs: number; limits: BatchLimits; metrics?: RetentionMetrics };
  /** Unfinished orders at which new ones are refused with 503 (ORDER_BACKLOG_LIMIT); 0 or absent refuses none, and the backlog is still counted. */
  backlogLimit?: number;
  /** Seconds of finishing work the backlog may hold (ORDER_BACKLOG_SECONDS): the limit follows the rate orders finish at; 0 or absent: only `backlogLimit`. */
  backlogSeconds?: number;
  /** How often the unfinished orders are counted (default 250 ms). */
  backlogSampleIntervalMs?: number;
}): OrdersModule {
  const transactions = new PgOrderTransactions(deps.db);
  const orders = new PgOrderReader(deps.db);
  const backlogSampleIntervalMs = deps.backlogSampleIntervalMs ?? 250;
  const admission = new OrderAdmission({
    orders, limit: deps.backlogLimit ?? 0, backlogSeconds: deps.backlogSeconds ?? 0,
    ...(deps.metrics === undefined ? {} : { metrics: deps.metrics }),
    // Twenty missed counts in a row (or 5 s): the last one no longer says enough to refuse anyone.
    staleAfterMs: Math.max(5000, 20 * backlogSampleIntervalMs),
  });
  // Every order that finishes here also tells admission how fast the sagas finish orders now.
  const reported = deps.metrics ?? noOrderMetrics;
  const metrics: OrderMetrics = { ...reported, orderFinished: (status) => { reported.orderFinished(status); admission.finished(); } };
  const timeOutOrders = new TimeOutOrders({ orders, transactions, stepTimeoutMs: deps.stepTimeoutMs, metrics, log: deps.logger });
  const operations = new PgOrderOperationsReader(deps.db);
  const customerRoutes = orderRoutes({
    placeOrder: tracedUseCase('orders.place-order', new PlaceOrder({
      idempotencyKeys: new PgIdempotencyKeys(deps.db, {
        ttlHours: deps.idempotencyTtlHours,
        ...(deps.idempotencyTakeoverSeconds === undefined ? {} : { takeoverAfterSeconds: deps.idempotencyTakeoverSeconds }),
      }),
      catalog: { findProducts: (skus) => deps.catalog.findProductsBySku(skus) },
      stepTimeoutMs: deps.stepTimeoutMs,
      metrics,
      admission,
    })),
    getOrder: tracedUseCase('orders.get-order', new GetOrder({ orders })),
    listOrders: tracedUseCase('orders.list-orders', new ListOrders({ orders })),
    cancelOrder: tracedUseCase('orders.cancel-order', new CancelOrder({ transactions, stepTimeoutMs: deps.stepTimeoutMs, metrics })),
  }, { devIdentityHeaders: deps.devIdentityHeaders });
  const adminRoutes = adminOrderRoutes({
    listAllOrders: tracedUseCase('orders.list-all-orders', new ListAllOrders({ orders: operations })),
    getOperationsSummary: tracedUseCase('orders.get-operations-summary', new GetOperationsSummary({
      orders: operations, admission, deadLetters: { waitingPerModule: () => countOpenDeadLetters(deps.db) },
    })),
  });
  const exportOrderPage = tracedUseCase('orders.export-order-page', new ExportOrderPage({ orders: new PgOrderExportReader(deps.db) }));
  const exportClient: OrdersExportClient = { exportPage: (query) => exportOrderPage.execute(query) };
  const internalRoutes = ordersInternalRoutes(exportClient);
  return {
    routes: (app) => { customerRoutes(app); adminRoutes(app); internalRoutes(app); },
    exportClient,
    consumers: [sagaConsumer(tracedUseCase('orders.advance-saga', new AdvanceSaga({ stepTimeoutMs: deps.stepTimeoutMs, metrics })))],
    background: [
      new BackgroundLoop({
        name: 'orders.saga-timeouts', logger: deps.logger,
        intervalMs: deps.timeoutSweepIntervalMs ?? Math.min(1000, Math.max(50, Math.floor(deps.stepTimeoutMs / 4))),
        step: () => timeOutOrders.execute(),
      }),
      new BackgroundLoop({ name: 'orders.backlog-sampler', logger: deps.logger, intervalMs: backlogSampleIntervalMs, step: () => admission.sample() }),
      ...(deps.retention === undefined ? [] : [new RetentionSweeper({ name: 'orders.retention', db: deps.db, logger: deps.logger, rules: [expiredIdempotencyKeys], ...deps.retention })]),
    ],
  };
}

/** The orders client for exports over HTTP, for the jobs module in another service (services shape). */
export function createOrdersExportHttpClient(orders: ServiceCaller): OrdersExportClient {
  return new HttpOrdersExportClient(orders);
}
