import { setImmediate as nextTurn } from 'node:timers/promises';
import type { Transaction } from 'kysely';
import type { BackgroundTask } from '../background/background-loop.ts';
import { overloadOf } from '../concurrency/overloaded.ts';
import type { Database } from '../database/database.ts';
import type { Logger } from '../logging/logger.ts';
import { runWithContext, type WorkContext } from '../logging/request-context.ts';
import { addSpanAttributes, continueTrace, isTracingEnabled, recordSpanError, type SpanOptions } from '../observability/tracing.ts';
import { topicOf, type Envelope } from './envelope.ts';
import { forgetRetry, handleOnce, recordFailedDelivery, recordInInbox, type MessageConsumer, type RetryPolicy } from './inbox.ts';
import { withBatchedOutbox, type OutboxNotify } from './outbox.ts';
import { OutboxRelay } from './outbox-relay.ts';
import { messagingRetentionSweeper, type MessagingRetention } from './retention.ts';
import { RetryScheduler } from './retry-scheduler.ts';
import type { MessageTransport } from './transport.ts';

/** The messaging runtime of one database: its outbox relay, its consumers and their retries. */
export interface Messaging {
  /** Subscribes a consumer; each message reaches it once in effect, or ends in the dead letters. */
  register(consumer: MessageConsumer): void;
  start(): Promise<void>;
  stop(): Promise<void>;
  readonly relay: OutboxRelay;
  readonly retries: RetryScheduler;
  /** Deletes sent outbox rows, inbox rows and replayed dead letters past their retention; absent when none was given. */
  readonly retention: BackgroundTask | undefined;
}

/** What messaging reports about its consumers (port): implemented with Prometheus counters by the app. */
export interface MessagingMetrics {
  messageHandled(consumer: string): void;
  /** The inbox already had the message: a redelivery, skipped without a second effect. */
  duplicateSkipped(consumer: string): void;
  deliveryFailed(consumer: string, next: 'retry' | 'dead-letter'): void;
}

/** Longest a batch applies effects before the event loop gets a turn (see `attemptBatch`). */
const batchSliceMs = 5;

/** What `createMessaging` wires for one database. */
export interface MessagingOptions {
  db: Database;
  transport: MessageTransport;
  logger: Logger;
  retryPolicy: RetryPolicy;
  pollIntervalMs: number;
  listenUrl?: string;
  /**
   * How a commit that added outbox rows wakes the relay (default `postgres`, NOTIFY); `in-process`
   * only where this process's relay is the only one on the database (see `OutboxNotify`).
   */
  notify?: OutboxNotify;
  metrics?: MessagingMetrics;
  /** Without it nothing is ever deleted (tests that inspect the tables). */
  retention?: MessagingRetention;
  /** How long a claimed retry is hidden from other processes (default `defaultRetryLeaseMs`); see `retryLeaseMs`. */
  retryLeaseMs?: number;
  /** Relay passes published at once (default 1); see `OutboxRelay`'s option of that name for when more is sound. */
  publishesInFlight?: number;
}

/** What every delivery to a consumer uses: the database of its inbox, how failures are retried, what is reported. */
interface DeliveryContext {
  db: Database;
  logger: Logger;
  retryPolicy: RetryPolicy;
  metrics: MessagingMetrics | undefined;
}

/** Wires outbox relay, transport, inbox consumers and retry scheduling for one database. */
export function createMessaging(options: MessagingOptions): Messaging {
  const { db, transport, logger, retryPolicy, metrics } = options;
  const consumers = new Map<string, MessageConsumer>();
  const deliveries: DeliveryContext = { db, logger, retryPolicy, metrics };
  const relay = createRelay(options);
  const retries = createRetryScheduler(options, consumers, deliveries);
  const retention = options.retention === undefined ? undefined : messagingRetentionSweeper(db, logger, options.retention);

  return {
    relay,
    retries,
    retention,
    register(consumer) {
      if (consumers.has(consumer.name)) throw new Error(`Consumer ${consumer.name} is registered twice`);
      consumers.set(consumer.name, consumer);
      transport.subscribe({
        consumer: consumer.name,
        types: consumer.types,
        deliver: (envelope) => attempt(deliveries, consumer, envelope, 0, false),
        deliverBatch: (envelopes) => attemptBatch(deliveries, consumer, envelopes),
      });
    },
    async start() {
      await relay.start();
      retries.start();
      retention?.start();
    },
    async stop() {
      await retention?.stop();
      await relay.stop();
      await retries.stop();
    },
  };
}

function createRelay(options: MessagingOptions): OutboxRelay {
  const { db, transport, logger } = options;
  return new OutboxRelay({
    db, transport, logger, pollIntervalMs: options.pollIntervalMs,
    ...(options.listenUrl === undefined ? {} : { listenUrl: options.listenUrl }),
    ...(options.notify === undefined ? {} : { notify: options.notify }),
    ...(options.publishesInFlight === undefined ? {} : { publishesInFlight: options.publishesInFlight }),
  });
}

/** Retries due messages of the consumers registered in this process (`consumers`, which fills as they register). */
function createRetryScheduler(options: MessagingOptions, consumers: ReadonlyMap<string, MessageConsumer>, deliveries: DeliveryContext): RetryScheduler {
  const { db, logger, retryPolicy } = options;
  return new RetryScheduler({
    db, logger,
    pollIntervalMs: Math.min(Math.max(retryPolicy.baseDelayMs, 50), options.pollIntervalMs),
    consumers: () => [...consumers.keys()],
    ...(options.retryLeaseMs === undefined ? {} : { leaseMs: options.retryLeaseMs }),
    attempt: async (consumerName, envelope, attemptsSoFar) => {
      const consumer = consumers.get(consumerName);
      if (consumer === undefined) {
        logger.error({ consumer: consumerName }, 'a retry names a consumer this process does not run; leaving it');
        return;
      }
      await attempt(deliveries, consumer, envelope, attemptsSoFar, true);
    },
  });
}

/**
 * Delivers one message to a consumer in its own transaction. `retry` says the attempt comes from a
 * row in messaging.retries, which success must remove (in the effect's transaction); a first
 * delivery has no such row and spends no statement on it.
 */
async function attempt(context: DeliveryContext, consumer: MessageConsumer, envelope: Envelope, previousAttempts: number, retry: boolean): Promise<void> {
  const { db, logger, retryPolicy, metrics } = context;
  const deliver = () => runWithContext(contextOf(envelope), async () => {
    try {
      const outcome = await handleOnce(db, consumer.name, envelope, async (transaction) => {
        await consumer.handle(envelope, transaction);
        if (retry) await forgetRetry(transaction, consumer.name, envelope);
      });
      if (outcome === 'handled') {
        metrics?.messageHandled(consumer.name);
        consumer.afterCommit?.(envelope);
      }
      if (outcome === 'duplicate') {
        addSpanAttributes({ 'orderstream.message.duplicate': true });
        metrics?.duplicateSkipped(consumer.name);
        if (retry) await forgetRetry(db, consumer.name, envelope);
        logger.debug({ consumer: consumer.name, type: envelope.type }, 'duplicate message skipped');
      }
    } catch (error) {
      recordSpanError(error);
      // A full pool (or any resource at capacity) says nothing about the message: it is not an
      // attempt. Thrown on, the delivery stays unacknowledged (the relay publishes it again, a retry
      // is handed back, due again).
      if (overloadOf(error) !== undefined) throw error;
      const attempts = previousAttempts + 1;
      const next = await recordFailedDelivery(db, consumer.name, envelope, attempts, error, retryPolicy);
      metrics?.deliveryFailed(consumer.name, next);
      logger.warn({ err: error, consumer: consumer.name, type: envelope.type, attempts, next }, 'message delivery failed');
    }
  });
  await inConsumerSpan(consumer.name, envelope, previousAttempts + 1, deliver);
}

/**
 * Applies a batch in one transaction: one statement records every message in the inbox (those
 * handled before drop out), each new one's effect runs in order, their outbox messages are
 * written in one insert, and one commit covers it all. If any effect fails the whole batch rolls
 * back and its messages are delivered again one by one, each in its own transaction, so only the
 * failing one is retried or dead-lettered and the others commit as usual.
 */
async function attemptBatch(context: DeliveryContext, consumer: MessageConsumer, envelopes: readonly Envelope[]): Promise<void> {
  const { db, logger, metrics } = context;
  const batch = distinctById(envelopes);
  const [first] = batch;
  if (first === undefined) return;
  if (batch.length === 1) return attempt(context, consumer, first, 0, false);
  let handled: Envelope[];
  try {
    handled = await db.transaction().execute(async (transaction) => {
      const fresh = await recordInInbox(transaction, consumer.name, batch.map((envelope) => envelope.id));
      const news = batch.filter((envelope) => fresh.has(envelope.id.toLowerCase()));
      if (news.length > 1) await consumer.lockForBatch?.(news, transaction);
      await withBatchedOutbox(transaction, async () => {
        // Effects applied in memory resolve without I/O: a long batch would hold the event loop
        // from the requests waiting on it, so it gives them a turn every few milliseconds.
        let sliceStartedAt = performance.now();
        for (const envelope of news) {
          await handleInBatch(consumer, envelope, transaction);
          if (performance.now() - sliceStartedAt > batchSliceMs) {
            await nextTurn();
            sliceStartedAt = performance.now();
          }
        }
        if (news.length > 1) await consumer.finishBatch?.(news, transaction);
      });
      return news;
    });
  } catch (error) {
    if (overloadOf(error) !== undefined) throw error;
    logger.warn({ err: error, consumer: consumer.name, messages: batch.length }, 'a batch failed; delivering its messages one by one');
    for (const envelope of batch) await attempt(context, consumer, envelope, 0, false);
    return;
  }
  for (const envelope of handled) {
    metrics?.messageHandled(consumer.name);
    consumer.afterCommit?.(envelope);
  }
  for (let duplicates = batch.length - handled.length; duplicates > 0; duplicates -= 1) metrics?.duplicateSkipped(consumer.name);
}

/**
 * One message's effect inside its batch's transaction, with the message's log context and, with
 * tracing on, its own consumer span continuing the producer's trace.
 */
function handleInBatch(consumer: MessageConsumer, envelope: Envelope, transaction: Transaction<object>): Promise<void> {
  return inConsumerSpan(consumer.name, envelope, 1, () => runWithContext(contextOf(envelope), () => consumer.handle(envelope, transaction)));
}

/** The first of each id, in order: a batch may carry one message twice (a re-published row). */
function distinctById(envelopes: readonly Envelope[]): Envelope[] {
  const seen = new Set<string>();
  return envelopes.filter((envelope) => {
    const id = envelope.id.toLowerCase();
    if (seen.has(id)) return false;
    seen.add(id);
    return true;
  });
}

/**
 * The log context of a delivery: the message id, the request that caused it (so one request id
 * follows an order through every saga step), and the order or job it is about when it names one.
 */
function contextOf(envelope: Envelope): WorkContext {
  const payload = (typeof envelope.payload === 'object' && envelope.payload !== null ? envelope.payload : {}) as { orderId?: unknown; jobId?: unknown };
  return {
    messageId: envelope.id,
    ...(envelope.requestId === undefined ? {} : { requestId: envelope.requestId }),
    ...(typeof payload.orderId === 'string' ? { orderId: payload.orderId } : {}),
    ...(typeof payload.jobId === 'string' ? { jobId: payload.jobId } : {}),
  };
}

/** Runs a delivery in its consumer span, which continues the producer's trace from the envelope whichever transport carried it; the bare call with tracing off. */
function inConsumerSpan(consumer: string, envelope: Envelope, attempt: number, work: () => Promise<void>): Promise<void> {
  return isTracingEnabled()
    ? continueTrace(`process ${envelope.type}`, envelope.traceparent, work, consumerSpan(consumer, envelope, attempt))
    : work();
}

/** A delivery's span: OpenTelemetry's messaging attributes, the consumer as its consumer group. */
function consumerSpan(consumer: string, envelope: Envelope, attempt: number): SpanOptions {
  return {
    role: 'consumer',
    attributes: {
      'messaging.system': 'orderstream',
      'messaging.operation.type': 'process',
      'messaging.operation.name': 'process',
      'messaging.destination.name': topicOf(envelope),
      'messaging.consumer.group.name': consumer,
      'messaging.message.id': envelope.id,
      'messaging.message.conversation_id': envelope.key,
      'orderstream.message.type': envelope.type,
      'orderstream.delivery.attempt': attempt,
    },
  };
}
