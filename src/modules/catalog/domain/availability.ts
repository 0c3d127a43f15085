/**
 * What inventory last reported of a SKU's stock: the units that can be ordered now, and the version
 * of the stock row they were read at (it grows with every change of that stock).
 */
export interface ReportedStock {
  readonly sku: string;
  readonly available: number;
  readonly stockVersion: number;
}

export const availabilityStatuses = ['in-stock', 'low', 'out-of-stock'] as const;

/** Whether a storefront shows a product as orderable, running out, or not orderable. */
export type AvailabilityStatus = (typeof availabilityStatuses)[number];

/** A product's availability as the catalogue shows it; `available` is 0 when inventory never reported the SKU. */
export interface Availability {
  readonly status: AvailabilityStatus;
  readonly available: number;
}

/**
 * Out of stock when nothing can be ordered (or inventory never reported the SKU), low when fewer
 * than `lowStockThreshold` units can, else in stock. A threshold of 0 never shows low.
 */
export function availabilityOf(stock: ReportedStock | undefined, lowStockThreshold: number): Availability {
  const available = stock === undefined ? 0 : Math.max(0, stock.available);
  if (available === 0) return { status: 'out-of-stock', available };
  return { status: available < lowStockThreshold ? 'low' : 'in-stock', available };
}

/**
 * Whether `report` replaces what is known: inventory's reports may arrive twice or out of order,
 * so only a later stock version of the SKU counts.
 */
export function supersedes(report: ReportedStock, known: ReportedStock | undefined): boolean {
  return known === undefined || report.stockVersion > known.stockVersion;
}
