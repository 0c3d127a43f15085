/**
 * What the inventory module promises other modules: the commands it obeys and the events it
 * emits. Commands and the saga's events are keyed by order id, so one order's stock messages stay
 * in order; `inventory.stock-changed` is keyed by SKU.
 */

export interface OrderLineQuantityV1 {
  sku: string;
  quantity: number;
}

/** Command `inventory.reserve-stock`: reserve every line, all or nothing. */
export interface ReserveStockV1 {
  orderId: string;
  lines: OrderLineQuantityV1[];
}

/** Command `inventory.release-stock`: give an unconfirmed reservation back (cancel, timeout). */
export interface ReleaseStockV1 {
  orderId: string;
  reason: string;
}

/** Command `inventory.commit-stock`: the order is paid; reserved units leave the shelf (on_hand decreases). */
export interface CommitStockV1 {
  orderId: string;
}

/**
 * Command `inventory.restock`: a committed order was cancelled; its units return to the shelf. Arriving
 * before the order's commit, it gives the reservation up like a release, so that commit is refused.
 */
export interface RestockV1 {
  orderId: string;
  reason: string;
}

/** Event `inventory.reserved`: every line is reserved until `expiresAt`. */
export interface StockReservedV1 {
  orderId: string;
  expiresAt: string;
}

/** Event `inventory.reservation-failed`: nothing was reserved. */
export interface ReservationFailedV1 {
  orderId: string;
  reason: 'insufficient-stock' | 'unknown-sku';
  skus: string[];
}

/** Event `inventory.released`: the reservation is gone (or never existed), stock is available again. */
export interface StockReleasedV1 {
  orderId: string;
  reason: 'requested' | 'expired';
}

/** Event `inventory.committed`: the units left the shelf. */
export interface StockCommittedV1 {
  orderId: string;
}

/**
 * Event `inventory.commit-failed`: nothing was committed, for good (a repeat of the commit is refused
 * too): the reservation had expired and its stock was sold meanwhile, or the order was given up (its
 * release or restock arrived first). `reason` stays `reservation-expired` in version 1.
 */
export interface StockCommitFailedV1 {
  orderId: string;
  reason: 'reservation-expired';
}

/** Event `inventory.restocked`: a refunded order's units are back on the shelf. */
export interface RestockedV1 {
  orderId: string;
}

/**
 * Event `inventory.stock-changed`: a SKU's available units (on hand, less what orders reserved) may
 * have changed: its stock was set, or an order reserved, released, took again or put back units.
 * Keyed by SKU. `stockVersion` grows with every change of the SKU's stock; an announcement may arrive
 * twice or after a later one, so a reader keeps the one with the highest version. Several changes
 * made in one transaction may be announced once, with the last state.
 */
export interface StockChangedV1 {
  sku: string;
  available: number;
  stockVersion: number;
}

/**
 * Event `inventory.stock-levels-changed`: a batch of stock levels (a chunk of a bulk import) changed
 * these SKUs' stock, announced once for the batch instead of one `inventory.stock-changed` each, with
 * the same facts per SKU (a reader keeps, per SKU, the highest `stockVersion` it has seen). Keyed by
 * the batch's key. A level the batch left as it was is not in it.
 */
export interface StockLevelsChangedV1 {
  levels: StockChangedV1[];
}

export const inventoryMessages = {
  reserveStock: { type: 'inventory.reserve-stock', version: 1 },
  releaseStock: { type: 'inventory.release-stock', version: 1 },
  commitStock: { type: 'inventory.commit-stock', version: 1 },
  restock: { type: 'inventory.restock', version: 1 },
  reserved: { type: 'inventory.reserved', version: 1 },
  reservationFailed: { type: 'inventory.reservation-failed', version: 1 },
  released: { type: 'inventory.released', version: 1 },
  committed: { type: 'inventory.committed', version: 1 },
  commitFailed: { type: 'inventory.commit-failed', version: 1 },
  restocked: { type: 'inventory.restocked', version: 1 },
  stockChanged: { type: 'inventory.stock-changed', version: 1 },
  stockLevelsChanged: { type: 'inventory.stock-levels-changed', version: 1 },
} as const;

/** What became of a stock level an importer set: set, or refused because orders hold more units than that. */
export type SetStockLevelResultV1 =
  | { outcome: 'set'; sku: string; onHand: number; reserved: number }
  | { outcome: 'refused'; sku: string; reason: 'below-reserved'; reserved: number };

/** Most stock levels one batch sets. */
export const maxStockLevelBatchSize = 5000;

/**
 * Stock levels a bulk writer sets at once (at most `maxStockLevelBatchSize`, one per SKU). `key`
 * names the batch for good: a batch repeated with a key already applied changes nothing and answers
 * the outcomes of its first application.
 */
export interface StockLevelBatchV1 {
  key: string;
  levels: { sku: string; onHand: number }[];
}

/**
 * What became of one level of a batch, in the batch's order: set; refused because orders hold more
 * units than that (nothing changed); or rejected for a malformed SKU or count.
 */
export type StockLevelOutcomeV1 = { outcome: 'set' } | { outcome: 'refused'; reserved: number } | { outcome: 'rejected'; reason: string };

/** Inventory's published client; in-process in one process, HTTP between services. */
export interface InventoryClient {
  /**
   * Sets a SKU's on-hand stock, creating the stock item when new; repeating it changes nothing.
   * Refuses (changing nothing) when it would drop below what orders have reserved. Rejects with an
   * error named `InvalidStockError` for a malformed SKU or a count out of range.
   */
  setStockLevel(sku: string, onHand: number): Promise<SetStockLevelResultV1>;
  /**
   * Sets a batch of stock levels in one transaction, announcing the SKUs it changes in one
   * `inventory.stock-levels-changed`; answers one outcome per
   * level, in order. Idempotent by the batch's key.
   */
  setStockLevels(batch: StockLevelBatchV1): Promise<StockLevelOutcomeV1[]>;
}
