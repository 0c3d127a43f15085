import { sql, type RawBuilder } from 'kysely';
import type { Database } from '../src/platform/database/database.ts';

/** Work the background still has to do: the benchmark waits for none before a scenario starts. */
export interface Backlog {
  unsentMessages: number;
  retries: number;
  paymentOperations: number;
  deliveries: number;
  /** Jobs queued or running: imports, which the benchmark starts none of (invoices are no jobs since decision 0014). */
  jobs: number;
}

/** Orders created in a window, by where they ended. */
export interface OrderOutcomes {
  total: number;
  confirmed: number;
  cancelled: number;
  unfinished: number;
  /** First creation and last confirmation among them, epoch ms (null when there are none). */
  firstCreatedAtMs: number | null;
  lastConfirmedAtMs: number | null;
}

/**
 * The databases holding the tables the observer reads, one per module: in the single shape they
 * are all the same database; in the services shape each service has its own, messaging schema included.
 */
export interface ObservedDatabases {
  orders: Database;
  payments: Database;
  notifications: Database;
  jobs: Database;
  /** Every database with a `messaging` schema: the backlog of unsent messages and retries is summed over them. */
  messaging: readonly Database[];
}

/** The single shape's databases: one for every module. */
export function oneDatabase(db: Database): ObservedDatabases {
  return { orders: db, payments: db, notifications: db, jobs: db, messaging: [db] };
}

const pollIntervalMs = 100;
const backlogKeys = ['unsentMessages', 'retries', 'paymentOperations', 'deliveries', 'jobs'] as const;

/**
 * Watches orders and background work from the database, with one query per database per look and
 * never more than one look per 100 ms, so observing costs the system under test next to nothing.
 * Reads the modules' tables directly: it is a measuring instrument, not a module.
 */
export class OrderObserver {
  readonly #databases: ObservedDatabases;
  /** The orders module's database, which most questions are about. */
  readonly #db: Database;

  constructor(databases: ObservedDatabases) {
    this.#databases = databases;
    this.#db = databases.orders;
  }

  /** Each database once, however many modules share it. */
  #everyDatabase(): Database[] {
    const { orders, payments, notifications, jobs, messaging } = this.#databases;
    return [...new Set([orders, payments, notifications, jobs, ...messaging])];
  }

  /** Waits until every order created since `since` is CONFIRMED or CANCELLED, or `timeoutMs` passed. */
  async waitForTerminal(since: Date, timeoutMs: number): Promise<{ unfinished: number; waitedMs: number }> {
    const startedAt = Date.now();
    for (;;) {
      const row = (await sql<{ unfinished: number }>`
        select count(*)::int as unfinished from orders.orders
        where created_at >= ${since} and status not in ('CONFIRMED', 'CANCELLED')`.execute(this.#db)).rows[0];
      const unfinished = row?.unfinished ?? 0;
      const waitedMs = Date.now() - startedAt;
      if (unfinished === 0 || waitedMs >= timeoutMs) return { unfinished, waitedMs };
      await pause(pollIntervalMs);
    }
  }

  /**
   * Waits until the background has nothing left to do for the sagas (messages, retries, payment
   * calls, emails) — and for jobs (imports) too when `jobs` is true — or `timeoutMs` passed.
   */
  async settle(timeoutMs: number, options: { jobs: boolean }): Promise<{ waitedMs: number; backlog: Backlog }> {
    const startedAt = Date.now();
    for (;;) {
      const backlog = await this.backlog();
      const waitedMs = Date.now() - startedAt;
      const { jobs, ...sagaWork } = backlog;
      const idle = Object.values(sagaWork).every((count) => count === 0) && (!options.jobs || jobs === 0);
      if (idle || waitedMs >= timeoutMs) return { waitedMs, backlog };
      await pause(pollIntervalMs * 2);
    }
  }

  /** The background's work left, summed over the databases (one query for each, all at once). */
  async backlog(): Promise<Backlog> {
    const { payments, notifications, jobs, messaging } = this.#databases;
    const counts = new Map<Database, RawBuilder<unknown>[]>();
    const count = (db: Database, fragment: RawBuilder<unknown>) => { counts.set(db, [...(counts.get(db) ?? []), fragment]); };
    for (const db of new Set(messaging)) {
      count(db, sql`(select count(*)::int from messaging.outbox where sent_at is null) as "unsentMessages"`);
      count(db, sql`(select count(*)::int from messaging.retries) as "retries"`);
    }
    count(payments, sql`(select count(*)::int from payments.operations where status = 'pending') as "paymentOperations"`);
    count(notifications, sql`(select count(*)::int from notifications.deliveries where status = 'pending') as "deliveries"`);
    count(jobs, sql`(select count(*)::int from jobs.jobs where status in ('queued', 'running')) as "jobs"`);
    const rows = await Promise.all([...counts].map(async ([db, fragments]) => (await sql<Partial<Backlog>>`select ${sql.join(fragments)}`.execute(db)).rows[0]));
    const backlog: Backlog = { unsentMessages: 0, retries: 0, paymentOperations: 0, deliveries: 0, jobs: 0 };
    for (const row of rows) {
      for (const key of backlogKeys) backlog[key] += row?.[key] ?? 0;
    }
    return backlog;
  }

  /**
   * The run's invoices: recorded at confirmation (the benchmark's databases are fresh, so every row
   * is the run's), and drawn, which happens on an invoice's first download (decision 0014).
   */
  async invoiceCounts(): Promise<{ recorded: number; drawn: number }> {
    const row = (await sql<{ recorded: number; drawn: number }>`
      select count(*)::int as recorded, count(document_key)::int as drawn from jobs.invoices`.execute(this.#databases.jobs)).rows[0];
    return { recorded: row?.recorded ?? 0, drawn: row?.drawn ?? 0 };
  }

  /** Of the given orders, those whose invoice is recorded but not drawn yet (never downloaded). */
  async undrawnInvoicesOf(orderIds: readonly string[]): Promise<Set<string>> {
    const rows = orderIds.length === 0 ? [] : (await sql<{ orderId: string }>`
      select order_id as "orderId" from jobs.invoices
      where order_id = any(${[...orderIds]}::text[]) and document_key is null`.execute(this.#databases.jobs)).rows;
    return new Set(rows.map((row) => row.orderId));
  }

  /** Where the orders created since `since` stand now. */
  async outcomes(since: Date): Promise<OrderOutcomes> {
    const row = (await sql<{ total: number; confirmed: number; cancelled: number; first_created: number | null; last_confirmed: number | null }>`
      select count(*)::int as total,
             count(*) filter (where status = 'CONFIRMED')::int as confirmed,
             count(*) filter (where status = 'CANCELLED')::int as cancelled,
             (extract(epoch from min(created_at)) * 1000)::float8 as first_created,
             (extract(epoch from max(updated_at) filter (where status = 'CONFIRMED')) * 1000)::float8 as last_confirmed
      from orders.orders where created_at >= ${since}`.execute(this.#db)).rows[0];
    const total = row?.total ?? 0;
    const confirmed = row?.confirmed ?? 0;
    const cancelled = row?.cancelled ?? 0;
    return { total, confirmed, cancelled, unfinished: total - confirmed - cancelled, firstCreatedAtMs: row?.first_created ?? null, lastConfirmedAtMs: row?.last_confirmed ?? null };
  }

  /** Orders that reached CONFIRMED between `from` and `to`. */
  async confirmedBetween(from: Date, to: Date): Promise<number> {
    const row = (await sql<{ confirmed: number }>`
      select count(*)::int as confirmed from orders.orders
      where status = 'CONFIRMED' and updated_at >= ${from} and updated_at < ${to}`.execute(this.#db)).rows[0];
    return row?.confirmed ?? 0;
  }

  /** Status and last change (epoch ms) of the given orders. */
  async statusOf(orderIds: readonly string[]): Promise<Map<string, { status: string; updatedAtMs: number }>> {
    const rows = orderIds.length === 0 ? [] : (await sql<{ id: string; status: string; updated_at_ms: number }>`
      select id, status, (extract(epoch from updated_at) * 1000)::float8 as updated_at_ms
      from orders.orders where id = any(${[...orderIds]}::text[])`.execute(this.#db)).rows;
    return new Map(rows.map((row) => [row.id, { status: row.status, updatedAtMs: row.updated_at_ms }]));
  }

  /**
   * How long each step of the given orders took: the time from one timeline entry to the next
   * (`placed` → `stock-reserved` → ... → `confirmed`), median and 95th percentile in ms, in saga order.
   */
  async stepTimes(orderIds: readonly string[]): Promise<{ step: string; p50Ms: number; p95Ms: number }[]> {
    if (orderIds.length === 0) return [];
    return (await sql<{ step: string; p50Ms: number; p95Ms: number }>`
      with entries as (
        select o.id, entry.ordinality, entry.value->>'step' as step, (entry.value->>'at')::timestamptz as at
        from orders.orders o, jsonb_array_elements(o.timeline) with ordinality as entry
        where o.id = any(${[...orderIds]}::text[])
      ), steps as (
        select step, ordinality, extract(epoch from at - lag(at) over (partition by id order by ordinality)) * 1000 as ms from entries
      )
      select step, round(percentile_cont(0.5) within group (order by ms)::numeric, 1)::float8 as "p50Ms",
             round(percentile_cont(0.95) within group (order by ms)::numeric, 1)::float8 as "p95Ms"
      from steps where ms is not null group by step order by min(ordinality)`.execute(this.#db)).rows;
  }

  /** A few orders per customer, newest first, for own-order reads. */
  async ordersOf(customerIds: readonly string[], perCustomer: number): Promise<{ customerId: string; orderId: string }[]> {
    return (await sql<{ customerId: string; orderId: string }>`
      select customer_id as "customerId", id as "orderId" from (
        select customer_id, id, row_number() over (partition by customer_id order by created_at desc) as newest
        from orders.orders where customer_id = any(${[...customerIds]}::text[])
      ) ranked where newest <= ${perCustomer}`.execute(this.#db)).rows;
  }

  /** The newest CONFIRMED orders of the given customers, at most `limit`, newest first. */
  async confirmedOrdersOf(customerIds: readonly string[], limit: number): Promise<{ customerId: string; orderId: string }[]> {
    return (await sql<{ customerId: string; orderId: string }>`
      select customer_id as "customerId", id as "orderId" from orders.orders
      where customer_id = any(${[...customerIds]}::text[]) and status = 'CONFIRMED'
      order by created_at desc limit ${limit}`.execute(this.#db)).rows;
  }

  /** Transactions committed so far in every observed database (PostgreSQL's statistics, which lag by up to a second). */
  async commits(): Promise<number> {
    const counts = await Promise.all(this.#everyDatabase().map(async (db) => (await sql<{ commits: number }>`
      select xact_commit::float8 as commits from pg_stat_database where datname = current_database()`.execute(db)).rows[0]?.commits ?? 0));
    return counts.reduce((sum, commits) => sum + commits, 0);
  }

  async backendPid(): Promise<number> {
    return (await sql<{ pid: number }>`select pg_backend_pid() as pid`.execute(this.#db)).rows[0]?.pid ?? 0;
  }

  async serverVersion(): Promise<string> {
    return (await sql<{ version: string }>`select current_setting('server_version') as version`.execute(this.#db)).rows[0]?.version ?? 'unknown';
  }
}

function pause(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
