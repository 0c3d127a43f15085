import { z } from 'zod';

/** Apache Kafka, when messages between services go through it. */
export const kafkaVariables = {
  KAFKA_BROKERS: z.string().regex(/^[^,\s]+:\d+(,[^,\s]+:\d+)*$/, 'must be host:port[,host:port...]').optional()
    .describe('Apache Kafka bootstrap brokers (`host:port,...`): messages between services go through Kafka. Unset: delivered in-process (one process only).'),
  KAFKA_NAMESPACE: z.string().regex(/^[a-z0-9][a-z0-9-]{0,40}$/, 'lower-case letters, digits and "-"').optional()
    .describe('Prefix of OrderStream\'s Kafka topics and consumer groups, so several deployments can share one cluster. Unset: none.'),
  KAFKA_TOPIC_PARTITIONS: z.coerce.number().int().min(1).max(1000).default(6)
    .describe('Partitions of the topics OrderStream creates; more partitions let more orders be handled in parallel by more instances.'),
};

/** The outbox relay and the delivery of messages to consumers, with their retries. */
export const deliveryVariables = {
  OUTBOX_POLL_INTERVAL_MS: z.coerce.number().int().min(10).max(60_000).default(1000)
    .describe('How often the outbox relay looks for unsent messages when no notification woke it.'),
  OUTBOX_NOTIFY: z.enum(['auto', 'in-process', 'postgres']).default('auto')
    .describe('Single process: how a commit that wrote outbox messages wakes the relay. `in-process` wakes this process\'s relay without a NOTIFY statement; `postgres` sends NOTIFY, needed when several processes share the database (replicas). `auto`: in-process for the whole process (`--role all`), postgres for the api and worker roles, which share one. The services shape always sends NOTIFY.'),
  MESSAGE_DELIVERY_CONCURRENCY: z.coerce.number().int().min(1).max(100).default(8)
    .describe('In one process: how many message keys (orders) are delivered at once to a subscriber that takes one message at a time; the consumers of the modules take batches instead, one batch per consumer at a time. Keep below DATABASE_POOL_SIZE.'),
  MESSAGE_MAX_ATTEMPTS: z.coerce.number().int().min(1).max(100).default(5)
    .describe('Deliveries of a message to a failing consumer before it becomes a dead letter.'),
  MESSAGE_RETRY_BASE_MS: z.coerce.number().int().min(1).max(600_000).default(200)
    .describe('First retry delay of a failing consumer; doubles with each attempt, with jitter.'),
};
