import { supersedes, type ReportedStock } from '../domain/availability.ts';
import type { ReportedStockStore } from './ports.ts';

/**
 * Keeps what inventory reports of SKUs' available stock (`inventory.stock-changed`), so product reads
 * show availability without asking inventory. Reports of one SKU may come twice or out of order: of
 * those given together only the latest is kept, and the store keeps it only over an older one.
 */
export class RecordReportedStock {
  async execute(store: ReportedStockStore, reports: readonly ReportedStock[]): Promise<void> {
    const latest = new Map<string, ReportedStock>();
    for (const report of reports) {
      if (supersedes(report, latest.get(report.sku))) latest.set(report.sku, report);
    }
    if (latest.size > 0) await store.record([...latest.values()]);
  }
}
