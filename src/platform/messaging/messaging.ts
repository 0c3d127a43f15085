import type { Database } from '../database/database.ts';
import type { Logger } from '../logging/logger.ts';
import { runWithContext } from '../logging/request-context.ts';
import type { Envelope } from './envelope.ts';
import { forgetRetry, handleOnce, recordFailedDelivery, type MessageConsumer, type RetryPolicy } from './inbox.ts';
import { OutboxRelay } from './outbox-relay.ts';
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
}

/** Wires outbox relay, transport, inbox consumers and retry scheduling for one database. */
export function createMessaging(options: {
  db: Database;
  transport: MessageTransport;
  logger: Logger;
  retryPolicy: RetryPolicy;
  pollIntervalMs: number;
  listenUrl?: string;
}): Messaging {
  const { db, transport, logger, retryPolicy } = options;
  const consumers = new Map<string, MessageConsumer>();

  // `retry` says the attempt comes from a row in messaging.retries, which success must remove (in
  // the effect's transaction); a first delivery has no such row and spends no statement on it.
  async function attempt(consumer: MessageConsumer, envelope: Envelope, previousAttempts: number, retry: boolean): Promise<void> {
    await runWithContext({ messageId: envelope.id, ...(envelope.requestId === undefined ? {} : { requestId: envelope.requestId }) }, async () => {
      try {
        const outcome = await handleOnce(db, consumer.name, envelope, async (transaction) => {
          await consumer.handle(envelope, transaction);
          if (retry) await forgetRetry(transaction, consumer.name, envelope);
        });
        if (outcome === 'handled') consumer.afterCommit?.(envelope);
        if (outcome === 'duplicate') {
          if (retry) await forgetRetry(db, consumer.name, envelope);
          logger.debug({ consumer: consumer.name, type: envelope.type }, 'duplicate message skipped');
        }
      } catch (error) {
        const attempts = previousAttempts + 1;
        const next = await recordFailedDelivery(db, consumer.name, envelope, attempts, error, retryPolicy);
        logger.warn({ err: error, consumer: consumer.name, type: envelope.type, attempts, next }, 'message delivery failed');
      }
    });
  }

  const relay = new OutboxRelay({ db, transport, logger, pollIntervalMs: options.pollIntervalMs, ...(options.listenUrl === undefined ? {} : { listenUrl: options.listenUrl }) });
  const retries = new RetryScheduler({
    db, logger,
    pollIntervalMs: Math.min(Math.max(retryPolicy.baseDelayMs, 50), options.pollIntervalMs),
    attempt: async (consumerName, envelope, attemptsSoFar) => {
      const consumer = consumers.get(consumerName);
      if (consumer === undefined) {
        logger.error({ consumer: consumerName }, 'a retry names a consumer this process does not run; leaving it');
        return;
      }
      await attempt(consumer, envelope, attemptsSoFar, true);
    },
  });

  return {
    relay,
    retries,
    register(consumer) {
      if (consumers.has(consumer.name)) throw new Error(`Consumer ${consumer.name} is registered twice`);
      consumers.set(consumer.name, consumer);
      transport.subscribe({ consumer: consumer.name, types: consumer.types, deliver: (envelope) => attempt(consumer, envelope, 0, false) });
    },
    async start() {
      await relay.start();
      retries.start();
    },
    async stop() {
      await relay.stop();
      await retries.stop();
    },
  };
}
