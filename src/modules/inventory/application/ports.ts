import type { Reservation, ReservationLine, StockShortfall } from '../domain/reservation.ts';
import type { StockLevel } from '../domain/stock-level.ts';
import type { InventoryEvent } from './inventory-events.ts';

/** Stock levels as admins and imports set and read them; each call is its own transaction. */
/**
 * An administrative act on stock, as the audit trail keeps it (src/platform/audit): the store adds
 * the level before and after, read and written in the transaction of the change itself.
 */
export interface StockAdminAct {
  action: 'inventory.stock-set';
  targetId: string;
}

export interface StockRepository {
  find(sku: string): Promise<StockLevel | undefined>;
  /**
   * Sets the on-hand count, creating the stock item when new, and announces it
   * (`inventory.stock-changed`) in the same transaction. Atomically refuses when the count is below
   * what is reserved, answering the current level instead and changing nothing. With `act`, a change
   * made is recorded in the audit trail in that transaction too; a refusal records nothing.
   */
  setOnHand(sku: string, onHand: number, act?: StockAdminAct): Promise<{ saved: StockLevel } | { refused: StockLevel }>;
}

/** What a batch of stock levels did to one level: set (also when it already was that), or refused below what is reserved. */
export type StockBatchResult = { outcome: 'set' } | { outcome: 'refused'; reserved: number };

/**
 * Sets stock levels in batches (bulk imports). Apart from StockRepository so that its in-memory
 * stand-ins need not implement it.
 */
export interface StockBatchRepository {
  /**
   * Sets every level (distinct, well-formed SKUs) in one transaction (the caller's shared one, where it
   * runs in one on this database), announcing each SKU it changes, and records `key` with the
   * outcomes `settle` makes of the results (by SKU). A key recorded before answers its recorded
   * outcomes and writes nothing.
   */
  setBatch<Outcome>(key: string, levels: readonly { sku: string; onHand: number }[], settle: (results: ReadonlyMap<string, StockBatchResult>) => Outcome[]): Promise<Outcome[]>;
}

/**
 * Stock and reservations inside one transaction, with the events it emits: everything commits
 * together or not at all. Every stock change locks its stock items in SKU order first (the one order
 * every writer uses, so writers never deadlock) and then applies all its lines in one conditional
 * statement, so concurrent writers can never oversell.
 */
export interface InventoryStore {
  /**
   * Records a new reservation (with its lines) unless the order already has one; answers that
   * existing one (locked until the transaction ends) instead, writing nothing.
   */
  addReservation(reservation: Reservation): Promise<Reservation | undefined>;
  /** The order's reservation, locked until the transaction ends. */
  findReservationForUpdate(orderId: string): Promise<Reservation | undefined>;
  /** Active reservations that expired at `now`, oldest first, locked; ones another transaction holds are skipped. */
  findExpiredForUpdate(now: Date, limit: number): Promise<Reservation[]>;
  /** Stores the status (and failure) of reservations already recorded. */
  saveReservations(reservations: readonly Reservation[]): Promise<void>;

  /** reserved += quantity for every line, if every SKU exists with that many units available; else changes nothing. */
  reserve(lines: readonly ReservationLine[]): Promise<StockShortfall | undefined>;
  /** on_hand −= quantity for every line, taken from available units, if every line can be; else changes nothing. */
  takeAvailable(lines: readonly ReservationLine[]): Promise<StockShortfall | undefined>;
  /** reserved −= quantity: reserved units become available again. */
  release(lines: readonly ReservationLine[]): Promise<void>;
  /** on_hand −= quantity and reserved −= quantity: reserved units leave the shelf. */
  removeReserved(lines: readonly ReservationLine[]): Promise<void>;
  /** on_hand += quantity: units come back to the shelf. */
  putBack(lines: readonly ReservationLine[]): Promise<void>;

  /**
   * Queues events in this transaction's outbox, keyed by their order id, and with them
   * `inventory.stock-changed` for the SKUs whose available units changed since the last `emit`
   * (announced by the store, so no use case can forget one; every use case that changes stock ends
   * by emitting its answer to the saga).
   */
  emit(events: readonly InventoryEvent[]): Promise<void>;
}

/** Opens a transaction for work that has none yet (the expiry sweeper); consumers get theirs from the inbox. */
export interface InventoryTransactions {
  run<T>(work: (store: InventoryStore) => Promise<T>): Promise<T>;
}

/** Stock levels of every SKU for an admin, in SKU order (port). */
export interface StockLevelList {
  /** `limit` stock levels after the SKU `afterSku`, optionally only those with fewer than `below` units available; `next` is the last SKU when more follow. */
  list(query: { below?: number; afterSku?: string; limit: number }): Promise<{ items: StockLevel[]; next: string | null }>;
}
