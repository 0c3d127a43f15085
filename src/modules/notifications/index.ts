/**
 * The notifications module's door for composition roots: its factory, its migrations, and its contract again.
 * Other modules import only its contract.ts, so they never load this factory, its adapters or their SDKs.
 */
import { BackgroundLoop, type BackgroundTask } from '../../platform/background/background-loop.ts';
import type { Database } from '../../platform/database/database.ts';
import type { MigrationSet } from '../../platform/database/migrations.ts';
import { createEmailSender, type EmailTransportSettings } from '../../platform/email/index.ts';
import type { RouteRegistration } from '../../platform/http/app.ts';
import type { Logger } from '../../platform/logging/logger.ts';
import { continueTrace, tracedUseCase } from '../../platform/observability/tracing.ts';
import type { MessageConsumer } from '../../platform/messaging/index.ts';
import { DeleteWebhookEndpoint } from './application/delete-webhook-endpoint.ts';
import { RollWebhookSecret } from './application/roll-webhook-secret.ts';
import { ListDeliveries } from './application/list-deliveries.ts';
import { ListWebhookEndpoints } from './application/list-webhook-endpoints.ts';
import type { EmailSender } from './application/ports.ts';
import { RegisterWebhookEndpoint } from './application/register-webhook-endpoint.ts';
import { RetryDelivery } from './application/retry-delivery.ts';
import { SendDueDeliveries } from './application/send-due-deliveries.ts';
import { DeliveryEmailSender, deliveryMessageIdDomain } from './adapters/email/delivery-email-sender.ts';
import { emailDeliveryAdminRoutes } from './adapters/http/email-delivery-admin-routes.ts';
import { webhookAdminRoutes } from './adapters/http/webhook-admin-routes.ts';
import { orderEventsConsumer } from './adapters/messaging/order-events-consumer.ts';
import { PgDeliveryRepository } from './adapters/postgres/pg-delivery-repository.ts';
import { PgWebhookEndpointRepository } from './adapters/postgres/pg-webhook-endpoint-repository.ts';
import type { ResolveHost } from './adapters/webhook/checked-lookup.ts';
import { DestinationAddressRule } from './adapters/webhook/destination-address-rule.ts';
import { DnsWebhookDestinationPolicy } from './adapters/webhook/dns-webhook-destination-policy.ts';
import { HttpWebhookSender } from './adapters/webhook/http-webhook-sender.ts';

export * from './contract.ts';
export { notificationsMessageSchemas } from './adapters/messaging/notifications-message-schemas.ts';

export const notificationsMigrations: MigrationSet = {
  module: 'notifications',
  schema: 'notifications',
  directory: new URL('./adapters/postgres/migrations/', import.meta.url),
};

export interface NotificationsModule {
  routes: RouteRegistration;
  consumers: MessageConsumer[];
  background: BackgroundTask[];
}

/**
 * Wires the notifications module: the consumer that schedules deliveries of order events, the
 * worker that sends them (emails and signed webhooks, retried with backoff), and the admin API of
 * webhooks and of email deliveries.
 */
export function createNotificationsModule(deps: {
  db: Database;
  logger: Logger;
  /** How customer emails leave: as `.eml` files in a folder (development), or through an SMTP server. */
  email: EmailTransportSettings;
  emailFrom: string;
  /** Attempts of one delivery before it is dead. */
  maxAttempts: number;
  /** First retry delay; doubles with each attempt, with jitter. */
  retryBaseMs: number;
  webhookTimeoutMs: number;
  /**
   * Networks (CIDRs) webhooks may reach although they are internal — loopback, private, link-local —
   * for local receivers in development and tests; unsafe in production. Default: none.
   */
  webhookAllowedNetworks?: readonly string[];
  /** How webhook hosts are resolved, at registration and when sending; the system resolver unless a test gives its own. */
  resolveHost?: ResolveHost;
  /** How often the idle worker looks for due deliveries (a new delivery wakes it at once). Default 1000. */
  workerIntervalMs?: number;
}): NotificationsModule {
  const { db, logger } = deps;
  const logFor = logger.child({ module: 'notifications' });
  const deliveries = new PgDeliveryRepository(db);
  const endpoints = new PgWebhookEndpointRepository(db);
  const destinationRule = new DestinationAddressRule(deps.webhookAllowedNetworks ?? []);
  const emailSender: EmailSender = new DeliveryEmailSender(
    createEmailSender(deps.email, { from: deps.emailFrom, messageIdDomain: deliveryMessageIdDomain, logger: logFor }),
  );
  const sendDueDeliveries = new SendDueDeliveries({
    deliveries,
    email: emailSender,
    webhooks: new HttpWebhookSender({ timeoutMs: deps.webhookTimeoutMs, rule: destinationRule, resolveHost: deps.resolveHost }),
    policy: { maxAttempts: deps.maxAttempts, baseDelayMs: deps.retryBaseMs },
    // Longer than any send can take (webhook timeout; the SMTP client's own timeouts stay under a minute).
    leaseMs: Math.max(60_000, deps.webhookTimeoutMs * 4),
    log: logFor,
    // Each send continues the trace of the event it announces.
    aroundAttempt: (claim, attempt) => continueTrace(`notifications.send-${claim.delivery.channel}`, claim.traceparent, attempt, {
      attributes: { 'orderstream.order_id': claim.event.orderId, 'orderstream.delivery_id': claim.delivery.id, 'orderstream.delivery.attempt': claim.delivery.attempts },
    }),
  });
  const worker = new BackgroundLoop({
    name: 'notifications.delivery-worker',
    intervalMs: deps.workerIntervalMs ?? 1000,
    logger: logFor,
    // Only a full batch may leave more due: after a smaller one the worker sleeps until a delivery is
    // recorded (a wake-up during the sends counts) or its interval passes (retries), not one more look.
    step: async () => {
      const attempted = await sendDueDeliveries.execute();
      return attempted < sendDueDeliveries.batchSize ? 0 : attempted;
    },
  });
  const wakeWorker = () => { worker.wake(); };
  const webhookRoutes = webhookAdminRoutes({
    registerWebhookEndpoint: tracedUseCase('notifications.register-webhook-endpoint', new RegisterWebhookEndpoint({
      endpoints, destinations: new DnsWebhookDestinationPolicy({ rule: destinationRule, timeoutMs: deps.webhookTimeoutMs, resolveHost: deps.resolveHost }),
    })),
    listWebhookEndpoints: tracedUseCase('notifications.list-webhook-endpoints', new ListWebhookEndpoints({ endpoints })),
    deleteWebhookEndpoint: tracedUseCase('notifications.delete-webhook-endpoint', new DeleteWebhookEndpoint({ endpoints })),
    rollWebhookSecret: tracedUseCase('notifications.roll-webhook-secret', new RollWebhookSecret({ endpoints })),
    listWebhookDeliveries: tracedUseCase('notifications.list-webhook-deliveries', new ListDeliveries({ deliveries, channel: 'webhook' })),
    retryWebhookDelivery: tracedUseCase('notifications.retry-webhook-delivery', new RetryDelivery({ deliveries, channel: 'webhook', wakeWorker })),
  });
  const emailRoutes = emailDeliveryAdminRoutes({
    listEmailDeliveries: tracedUseCase('notifications.list-email-deliveries', new ListDeliveries({ deliveries, channel: 'email' })),
    retryEmailDelivery: tracedUseCase('notifications.retry-email-delivery', new RetryDelivery({ deliveries, channel: 'email', wakeWorker })),
  });
  return {
    routes: (app) => {
      webhookRoutes(app);
      emailRoutes(app);
    },
    consumers: [orderEventsConsumer({ wakeWorker })],
    background: [worker],
  };
}
