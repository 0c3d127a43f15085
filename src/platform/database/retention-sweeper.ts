import { setTimeout as sleep } from 'node:timers/promises';
import { sql, type RawBuilder } from 'kysely';
import { BackgroundLoop, type BackgroundTask } from '../background/background-loop.ts';
import type { Logger } from '../logging/logger.ts';
import type { Database } from './database.ts';

/** Which rows of one table are past their retention, and how to find them without reading the whole table. */
export interface RetentionRule {
  /** Schema-qualified (`messaging.inbox`); also the `table` label of the metrics. */
  table: string;
  /** True for a row past its retention; written over the table's own columns (the table's bare name may qualify them). */
  expired: RawBuilder<unknown>;
  /**
   * How a batch finds its rows. `{ oldestBy: key }`: among the `batchSize` rows lowest by `key` (an
   * indexed key that grows with age, such as a bigserial), those expired, so a batch reads at most
   * `batchSize` index entries even when nothing is expired. `{ orderBy: column }`: the first expired
   * rows by an indexed column the condition ranges over. Neither: any expired rows, by whatever
   * index the condition allows.
   */
  scan?: { oldestBy: string } | { orderBy: string };
}

/** What retention reports (port): implemented with a Prometheus counter by the app. */
export interface RetentionMetrics {
  rowsDeleted(table: string, count: number): void;
}

/** How hard one sweep pushes: rows per batch, the pause between batches, and the batches one table gets per pass. */
export interface BatchLimits {
  batchSize: number;
  pauseMs: number;
  /** After this many batches a table waits for the next pass, so one table's backlog never starves the others. */
  maxBatches: number;
}

/**
 * Deletes one batch of at most `batchSize` expired rows in one statement (so one short
 * transaction): the rows are picked by `ctid` and locked with `skip locked`, so two sweepers of one
 * database share the work instead of waiting on each other, and a row in use is simply left for
 * later. The condition is checked again on delete: a row changed since it was picked is kept.
 */
export async function deleteBatch(db: Database, rule: RetentionRule, batchSize: number): Promise<number> {
  const table = sql.table(rule.table);
  const bareName = sql.id(rule.table.split('.').pop() ?? rule.table);
  const scan = rule.scan;
  const candidates = scan === undefined
    ? sql`select ctid from ${table} where ${rule.expired} limit ${batchSize} for update skip locked`
    : 'orderBy' in scan
      ? sql`select ctid from ${table} where ${rule.expired} order by ${sql.ref(scan.orderBy)} limit ${batchSize} for update skip locked`
      : sql`select ctid from (select ctid, * from ${table} order by ${sql.ref(scan.oldestBy)} limit ${batchSize} for update skip locked) as ${bareName} where ${rule.expired}`;
  const result = await sql`delete from ${table} where ctid = any(array(${candidates})) and ${rule.expired}`.execute(db);
  return Number(result.numAffectedRows ?? 0n);
}

/**
 * Deletes expired rows of one table batch after batch, pausing between batches so the table's
 * writers and vacuum keep up, until a batch finds nothing, `maxBatches` ran, or `stopping()` says so.
 */
export async function deleteInBatches(
  db: Database, rule: RetentionRule, limits: BatchLimits,
  options: { stopping?: () => boolean; onDeleted?: (count: number) => void } = {},
): Promise<number> {
  let total = 0;
  for (let batch = 0; batch < limits.maxBatches && options.stopping?.() !== true; batch += 1) {
    const deleted = await deleteBatch(db, rule, limits.batchSize);
    total += deleted;
    if (deleted === 0) break;
    options.onDeleted?.(deleted);
    if (limits.pauseMs > 0) await sleep(limits.pauseMs);
  }
  return total;
}

/**
 * Deletes, every `intervalMs`, the rows of its tables that are past their retention, in bounded
 * batches (see `deleteInBatches`); a background task of the module or platform part that owns the tables.
 */
export class RetentionSweeper implements BackgroundTask {
  readonly name: string;
  readonly #db: Database;
  readonly #rules: readonly RetentionRule[];
  readonly #limits: BatchLimits;
  readonly #metrics: RetentionMetrics | undefined;
  readonly #logger: Logger;
  readonly #loop: BackgroundLoop;
  #stopping = false;

  constructor(options: { name: string; db: Database; logger: Logger; rules: readonly RetentionRule[]; intervalMs: number; limits: BatchLimits; metrics?: RetentionMetrics | undefined }) {
    this.name = options.name;
    this.#db = options.db;
    this.#rules = options.rules;
    this.#limits = options.limits;
    this.#metrics = options.metrics;
    this.#logger = options.logger;
    // Never "work done": a pass already goes on while it finds rows, up to its batch limit.
    this.#loop = new BackgroundLoop({ name: options.name, intervalMs: options.intervalMs, logger: options.logger, step: async () => { await this.sweepOnce(); return 0; } });
  }

  /** One pass over every table; answers the rows deleted per table. */
  async sweepOnce(): Promise<Record<string, number>> {
    const deleted: Record<string, number> = {};
    for (const rule of this.#rules) {
      if (this.#stopping) break;
      const count = await deleteInBatches(this.#db, rule, this.#limits, {
        stopping: () => this.#stopping,
        onDeleted: (batch) => { this.#metrics?.rowsDeleted(rule.table, batch); },
      });
      deleted[rule.table] = count;
      if (count > 0) this.#logger.debug({ table: rule.table, deleted: count }, 'rows past their retention deleted');
    }
    return deleted;
  }

  start(): void {
    this.#stopping = false;
    this.#loop.start();
  }

  async stop(): Promise<void> {
    this.#stopping = true;
    await this.#loop.stop();
  }
}
