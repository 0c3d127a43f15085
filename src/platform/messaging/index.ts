export { createEnvelope, topicOf, type Envelope } from './envelope.ts';
export { appendToOutbox, gatedOutboxAppend, type OutboxNotify } from './outbox.ts';
export { handleOnce, recordFailedDelivery, retryDelayMs, type MessageConsumer, type RetryPolicy } from './inbox.ts';
export { batchStores, type BatchStore } from './batch-stores.ts';
export { countOpenDeadLetters, listDeadLetters, replayDeadLetter, type DeadLetter } from './dead-letters.ts';
export { deadLetterPaths, deadLetterRoutes } from './dead-letter-routes.ts';
export { InProcessTransport } from './in-process-transport.ts';
export { OutboxRelay } from './outbox-relay.ts';
export { defaultRetryLeaseMs, RetryScheduler, retryLeaseMs } from './retry-scheduler.ts';
export { createMessaging, type Messaging, type MessagingMetrics } from './messaging.ts';
export type { ConsumerLag, MessageTransport, OutgoingMessage, Subscription, DeliveryHandler } from './transport.ts';
export { messagingRetentionRules, type MessagingRetention } from './retention.ts';
export { readMessagingBacklog, type MessagingBacklog } from './backlog.ts';

/** The messaging tables (outbox, inbox, retries, dead letters) live in their own schema. */
export const messagingMigrations = { module: 'messaging', schema: 'messaging', directory: new URL('./migrations/', import.meta.url) };
