/**
 * The payments module's door for composition roots: its factory, its migrations, and its contract again.
 * Other modules import only its contract.ts, so they never load this factory, its adapters or their SDKs.
 */
import type { BackgroundTask } from '../../platform/background/background-loop.ts';
import { RetentionSweeper, type BatchLimits, type RetentionMetrics } from '../../platform/database/retention-sweeper.ts';
import type { Database } from '../../platform/database/database.ts';
import type { MigrationSet } from '../../platform/database/migrations.ts';
import type { RouteRegistration } from '../../platform/http/app.ts';
import type { Logger } from '../../platform/logging/logger.ts';
import type { MessageConsumer } from '../../platform/messaging/index.ts';
import type { PaymentMetrics, PaymentProvider } from './application/ports.ts';
import { ApplyWebhookEvent } from './application/apply-webhook-event.ts';
import { ListPaymentOperations } from './application/list-payment-operations.ts';
import { RetryPaymentOperation } from './application/retry-payment-operation.ts';
import { RunPaymentOperations } from './application/run-payment-operations.ts';
import { PaymentOperationsWorker } from './adapters/background/payment-operations-worker.ts';
import { paymentOperationAdminRoutes } from './adapters/http/payment-operation-admin-routes.ts';
import { stripeWebhookRoutes } from './adapters/http/stripe-webhook-routes.ts';
import { paymentCommandsConsumer } from './adapters/messaging/payment-commands-consumer.ts';
import { PgPaymentOperationQueue } from './adapters/postgres/pg-payment-operation-queue.ts';
import { PgPaymentOperationRecords } from './adapters/postgres/pg-payment-operation-records.ts';
import { oldProviderCalls } from './adapters/postgres/provider-call-retention.ts';
import { PgWebhookEventTransactions } from './adapters/postgres/pg-webhook-event-store.ts';
import { oldWebhookEvents } from './adapters/postgres/webhook-event-retention.ts';
import { SimulatedPaymentProvider } from './adapters/providers/simulated-payment-provider.ts';
import { StripePaymentProvider } from './adapters/providers/stripe-payment-provider.ts';

export * from './contract.ts';
export { paymentsMessageSchemas } from './adapters/messaging/payments-message-schemas.ts';
export type { PaymentMetrics } from './application/ports.ts';

/** What tests may change of the payments module in a whole process: the provider, and how soon it gives up. */
export type PaymentsTestOverrides = Pick<PaymentsModuleDeps, 'paymentProvider' | 'maxAttempts' | 'retryBaseMs'>;

export const paymentsMigrations: MigrationSet = {
  module: 'payments',
  schema: 'payments',
  directory: new URL('./adapters/postgres/migrations/', import.meta.url),
};

export interface PaymentsModule {
  /** The admin routes of payment operations, and the Stripe webhook route when a webhook signing secret is configured. */
  routes: RouteRegistration;
  /** `payments.commands`: records authorize/capture/void/refund commands for the worker. */
  consumers: MessageConsumer[];
  /** The operations worker, which alone calls the payment provider. */
  background: BackgroundTask[];
}

export interface PaymentsModuleDeps {
  db: Database;
  logger: Logger;
  provider: 'simulated' | 'stripe';
  /** How long the simulated provider takes to answer for `tok_slow`. */
  simulatedDelayMs: number;
  /** Required when `provider` is `stripe`. */
  stripeApiKey?: string;
  /** Another address for the Stripe API (tests point it at a local stub). */
  stripeApiBaseUrl?: string;
  /** Enables `POST /v1/payments/stripe/webhook`, verified with this signing secret. */
  stripeWebhookSecret?: string;
  /** Attempts of one provider call before its operation gives up (default 5). */
  maxAttempts?: number;
  /** First retry delay after a transient provider failure, doubling with jitter (default 500 ms). */
  retryBaseMs?: number;
  /** How often the idle worker looks for retries and expired leases (default 500 ms); new work wakes it at once. */
  workerIntervalMs?: number;
  /** Provider calls in flight at once (default 16). */
  workerConcurrency?: number;
  /**
   * How long a claimed operation stays with its worker unless renewed (default 5 s); renewed every
   * third of it while the provider call runs, so it bounds how long a crashed worker's operations wait.
   */
  operationLeaseMs?: number;
  /** Operations that failed for an admin; nothing is reported without it. */
  metrics?: PaymentMetrics;
  /** Tests pass their own provider; it replaces the one `provider` names. */
  paymentProvider?: PaymentProvider;
  /** How long provider calls and webhook events are kept and how their sweeper runs; without it they are kept for ever. */
  retention?: { providerCallSeconds: number; webhookEventSeconds: number; intervalMs: number; limits: BatchLimits; metrics?: RetentionMetrics };
}

/**
 * Wires payments: a consumer that records commands, a worker that calls the provider outside any
 * transaction and publishes the outcome, the admin routes that list and retry failed operations,
 * and (with a signing secret) the Stripe webhook.
 */
export function createPaymentsModule(deps: PaymentsModuleDeps): PaymentsModule {
  const { db, logger } = deps;
  const provider = deps.paymentProvider ?? providerFor(deps);
  const leaseMs = deps.operationLeaseMs ?? 5_000;
  const operations = new RunPaymentOperations({
    operations: new PgPaymentOperationQueue(db),
    provider,
    log: logger,
    ...(deps.metrics === undefined ? {} : { metrics: deps.metrics }),
    settings: {
      maxAttempts: deps.maxAttempts ?? 5,
      retryBaseMs: deps.retryBaseMs ?? 500,
      leaseMs,
    },
  });
  const worker = new PaymentOperationsWorker({
    operations, logger, intervalMs: deps.workerIntervalMs ?? 500, concurrency: deps.workerConcurrency ?? 16, heartbeatMs: Math.max(1, Math.floor(leaseMs / 3)),
  });
  const operationRecords = new PgPaymentOperationRecords(db);
  const adminRoutes = paymentOperationAdminRoutes({
    listPaymentOperations: new ListPaymentOperations({ operations: operationRecords }),
    retryPaymentOperation: new RetryPaymentOperation({ operations: operationRecords, wakeWorker: () => { worker.wake(); } }),
  });
  const webhookSecret = deps.stripeWebhookSecret;
  const parts = {
    ...(webhookSecret === undefined ? {} : {
      routes: stripeWebhookRoutes({ webhookSecret, applyWebhookEvent: new ApplyWebhookEvent({ transactions: new PgWebhookEventTransactions(db), log: logger }) }),
    }),
    consumers: [paymentCommandsConsumer({ logger, wakeWorker: () => { worker.wake(); } })],
    background: [
      worker,
      ...(deps.retention === undefined ? [] : [new RetentionSweeper({
        name: 'payments.retention', db, logger, ...deps.retention,
        rules: [oldProviderCalls(deps.retention.providerCallSeconds), oldWebhookEvents(deps.retention.webhookEventSeconds)],
      })]),
    ],
  };
  const webhookRoutes = parts.routes;
  return {
    ...parts,
    routes: (app) => {
      adminRoutes(app);
      webhookRoutes?.(app);
    },
  };
}

function providerFor(deps: PaymentsModuleDeps): PaymentProvider {
  if (deps.provider === 'simulated') return new SimulatedPaymentProvider({ delayMs: deps.simulatedDelayMs });
  if (deps.stripeApiKey === undefined) throw new Error('The stripe payment provider needs stripeApiKey (STRIPE_API_KEY)');
  return new StripePaymentProvider({ apiKey: deps.stripeApiKey, ...(deps.stripeApiBaseUrl === undefined ? {} : { apiBaseUrl: deps.stripeApiBaseUrl }) });
}
