import { z } from 'zod';

/** The database, and in the services shape each module's own. */
export const databaseUrlVariables = {
  DATABASE_URL: z.url({ protocol: /^postgres(ql)?$/ }).optional()
    .describe('PostgreSQL connection string. Unset: an embedded PostgreSQL is started from node_modules.'),
  IDENTITY_DATABASE_URL: z.url({ protocol: /^postgres(ql)?$/ }).optional()
    .describe('Database of the identity service in the services shape (`--role identity`); DATABASE_URL when unset.'),
  CATALOG_DATABASE_URL: z.url({ protocol: /^postgres(ql)?$/ }).optional()
    .describe('Database of the catalog service in the services shape (`--role catalog`); DATABASE_URL when unset.'),
  INVENTORY_DATABASE_URL: z.url({ protocol: /^postgres(ql)?$/ }).optional()
    .describe('Database of the inventory service in the services shape (`--role inventory`); DATABASE_URL when unset.'),
  ORDERS_DATABASE_URL: z.url({ protocol: /^postgres(ql)?$/ }).optional()
    .describe('Database of the orders service in the services shape (`--role orders`); DATABASE_URL when unset.'),
  PAYMENTS_DATABASE_URL: z.url({ protocol: /^postgres(ql)?$/ }).optional()
    .describe('Database of the payments service in the services shape (`--role payments`); DATABASE_URL when unset.'),
  NOTIFICATIONS_DATABASE_URL: z.url({ protocol: /^postgres(ql)?$/ }).optional()
    .describe('Database of the notifications service in the services shape (`--role notifications`); DATABASE_URL when unset.'),
  JOBS_DATABASE_URL: z.url({ protocol: /^postgres(ql)?$/ }).optional()
    .describe('Database of the jobs service in the services shape (`--role jobs`); DATABASE_URL when unset.'),
};

/** The connection pool and its bounded waits, and the embedded PostgreSQL used without DATABASE_URL. */
export const databasePoolVariables = {
  DATABASE_POOL_SIZE: z.coerce.number().int().min(2).max(200).default(20)
    .describe('Maximum connections in the database pool (at least 2: the outbox relay holds one while consumers use another).'),
  DATABASE_ACQUIRE_TIMEOUT_MS: z.coerce.number().int().min(100).max(120_000).default(3000)
    .describe('Longest wait for a pooled database connection; past it the request gets 503 with Retry-After (messaging tries the message again later, without counting an attempt).'),
  DATABASE_STATEMENT_TIMEOUT_MS: z.coerce.number().int().min(100).max(3_600_000).default(30_000)
    .describe('PostgreSQL `statement_timeout` of every pooled connection: a statement running longer is cancelled. A claimed message retry is leased for twice this (at least 5 minutes), so it outlasts its attempt.'),
  DATABASE_LOCK_TIMEOUT_MS: z.coerce.number().int().min(100).max(3_600_000).default(10_000)
    .describe('PostgreSQL `lock_timeout` of every pooled connection: a statement waiting longer for a lock is cancelled.'),
  DATABASE_IDLE_IN_TRANSACTION_TIMEOUT_MS: z.coerce.number().int().min(100).max(3_600_000).default(30_000)
    .describe('PostgreSQL `idle_in_transaction_session_timeout`: a connection left idle inside a transaction this long is ended by the server, and its locks freed.'),
  DATABASE_NESTING_GUARD: z.enum(['on', 'off']).default('on').transform((value) => value === 'on')
    .describe('Refuse (with both stacks) a unit of work that asks the pool for a second connection while it holds one, the pattern that wedges a pool under load. Costs one stack capture per transaction.'),
  DATABASE_PREPARED_STATEMENTS: z.enum(['on', 'off']).default('on').transform((value) => value === 'on')
    .describe('Keep the statements a process runs most (from their third run; at most 250) prepared on each pooled connection, so PostgreSQL does not parse and plan them again on every run. Turn off behind a connection pooler that cannot keep prepared statements (PgBouncer in transaction mode before 1.21).'),
  EMBEDDED_POSTGRES_DIR: z.string().min(1).default('.data/postgres')
    .describe('Data folder of the embedded PostgreSQL (relative to the working directory).'),
  EMBEDDED_POSTGRES_PORT: z.coerce.number().int().min(0).max(65535).default(0)
    .describe('Port of the embedded PostgreSQL (0 picks a free one at each start).'),
};

/** How long each kind of record is kept, and how the retention sweepers delete what is past it. */
export const retentionVariables = {
  OUTBOX_RETENTION_MINUTES: z.coerce.number().int().min(1).max(30 * 24 * 60).default(60)
    .describe('A published outbox message is deleted this long after it was sent (an unsent one is never deleted).'),
  INBOX_RETENTION_HOURS: z.coerce.number().int().min(1).max(365 * 24).default(168)
    .describe('A consumer\'s record of a handled message (its inbox row), and a replayed dead letter, is deleted this long after it was written; a copy of the message arriving later would be handled again. At least the Kafka topics\' retention and OUTBOX_RETENTION_MINUTES (docs/operations.md, Retention).'),
  PAYMENT_CALL_RETENTION_DAYS: z.coerce.number().int().min(1).max(10 * 365).default(14)
    .describe('The record of a payment provider call is deleted this long after the call, once its operation is done (a failed one waiting for an admin keeps its calls).'),
  JOB_QUEUE_RETENTION_HOURS: z.coerce.number().int().min(1).max(30 * 24).default(24)
    .describe('pg-boss deletes a finished job\'s queue entry this long after it finished (the job record, with its outcome, stays for JOB_RETENTION_DAYS).'),
  JOB_RETENTION_DAYS: z.coerce.number().int().min(1).max(10 * 365).default(30)
    .describe('A finished document job (succeeded, failed or cancelled) is deleted, with its row errors, this long after it finished; its stored documents (an import\'s upload, an export\'s parts) are removed first, and the job stays until they are gone. An invoice job of before invoices were drawn on download stays as long as its invoice, and its PDF with it. The catalog and inventory keep what each import chunk did (to answer the chunk sent again) as long.'),
  WEBHOOK_EVENT_RETENTION_DAYS: z.coerce.number().int()
    .min(4, 'must be at least 4 days: a payment provider webhook event is kept to recognise its redeliveries, which Stripe sends for up to 3 days')
    .max(10 * 365).default(30)
    .describe('A received payment provider webhook event is deleted this long after it arrived; a copy arriving later would be applied again. At least 4 (Stripe redelivers for up to 3 days).'),
  RETENTION_INTERVAL_SECONDS: z.coerce.number().int().min(1).max(86_400).default(60)
    .describe('How often each retention sweeper (messaging tables, idempotency keys, payment provider calls and webhook events, document jobs, import chunks\' outcomes) deletes what is past its retention.'),
  RETENTION_BATCH_SIZE: z.coerce.number().int().min(1).max(100_000).default(1000)
    .describe('Rows one retention batch deletes at most, in one short transaction; at most 100 batches per table and sweep. Finished jobs\' stored documents are removed for at most 100 jobs a batch (fewer when this is smaller), 8 documents at a time.'),
  RETENTION_BATCH_PAUSE_MS: z.coerce.number().int().min(0).max(60_000).default(20)
    .describe('Pause between two retention batches, so writers and vacuum keep up.'),
};
