import { sql, type Transaction } from 'kysely';
import type { BatchStore } from '../../../../platform/messaging/index.ts';
import type { ReportedStockStore } from '../../application/ports.ts';
import { supersedes, type ReportedStock } from '../../domain/availability.ts';

/**
 * Inventory's stock reports in PostgreSQL, inside the transaction it is given (the inbox transaction
 * of the consumer that received them). One statement keeps every report over an older one of its
 * SKU, and leaves a newer one alone, whatever order reports arrive in.
 */
export class PgReportedStockStore implements ReportedStockStore {
  readonly #transaction: Transaction<object>;

  constructor(transaction: Transaction<object>) {
    this.#transaction = transaction;
  }

  /** At most one report per SKU (one statement may not change a row twice). */
  async record(reports: readonly ReportedStock[]): Promise<void> {
    if (reports.length === 0) return;
    // Rows are written, so locked, in SKU order: two statements over the same SKUs never wait on each other in a cycle.
    const sorted = [...reports].sort((a, b) => (a.sku < b.sku ? -1 : a.sku > b.sku ? 1 : 0));
    await sql`
      insert into catalog.reported_stock as known (sku, available, stock_version)
      select * from unnest(
        ${sorted.map((report) => report.sku)}::text[], ${sorted.map((report) => report.available)}::bigint[],
        ${sorted.map((report) => report.stockVersion)}::bigint[]) as report (sku, available, stock_version)
      on conflict (sku) do update set available = excluded.available, stock_version = excluded.stock_version, reported_at = now()
        where known.stock_version < excluded.stock_version`.execute(this.#transaction);
  }
}

/** The stock reports of one batch of messages: kept in memory by its handles, the latest of each SKU written in one statement at the end. */
export class BatchReportedStockStore implements ReportedStockStore, BatchStore {
  readonly #store: PgReportedStockStore;
  readonly #latest = new Map<string, ReportedStock>();

  constructor(transaction: Transaction<object>) {
    this.#store = new PgReportedStockStore(transaction);
  }

  record(reports: readonly ReportedStock[]): Promise<void> {
    for (const report of reports) {
      if (supersedes(report, this.#latest.get(report.sku))) this.#latest.set(report.sku, report);
    }
    return Promise.resolve();
  }

  async write(): Promise<void> {
    const reports = [...this.#latest.values()];
    this.#latest.clear();
    await this.#store.record(reports);
  }
}
