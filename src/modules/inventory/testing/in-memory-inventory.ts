import type { InventoryEvent } from '../application/inventory-events.ts';
import type { InventoryStore, InventoryTransactions, StockRepository } from '../application/ports.ts';
import type { Reservation, ReservationLine, StockShortfall } from '../domain/reservation.ts';
import { canSetOnHand, type StockLevel } from '../domain/stock-level.ts';

/**
 * Stock, reservations and emitted events in memory, for use-case tests. `run` gives all-or-nothing
 * semantics like a transaction: when the work throws, every change it made is undone. It is not
 * safe for concurrent work; concurrency is proven against PostgreSQL, and so are the stock
 * announcements (`inventory.stock-changed`) the PostgreSQL stores add to `emit`, which this one leaves out.
 */
export class InMemoryInventory implements StockRepository, InventoryStore, InventoryTransactions {
  stock = new Map<string, StockLevel>();
  reservations = new Map<string, Reservation>();
  published: InventoryEvent[] = [];

  /** Puts stock on the shelf directly, for arranging a test. */
  withStock(sku: string, onHand: number, reserved = 0): this {
    this.stock.set(sku, { sku, onHand, reserved });
    return this;
  }

  async run<T>(work: (store: InventoryStore) => Promise<T>): Promise<T> {
    const saved = { stock: new Map(this.stock), reservations: new Map(this.reservations), published: [...this.published] };
    try {
      return await work(this);
    } catch (error) {
      this.stock = saved.stock;
      this.reservations = saved.reservations;
      this.published = saved.published;
      throw error;
    }
  }

  find(sku: string): Promise<StockLevel | undefined> {
    return Promise.resolve(this.stock.get(sku));
  }

  setOnHand(sku: string, onHand: number): Promise<{ saved: StockLevel } | { refused: StockLevel }> {
    const current = this.stock.get(sku);
    if (current !== undefined && !canSetOnHand(current, onHand)) return Promise.resolve({ refused: current });
    const saved = { sku, onHand, reserved: current?.reserved ?? 0 };
    this.stock.set(sku, saved);
    return Promise.resolve({ saved });
  }

  addReservation(reservation: Reservation): Promise<Reservation | undefined> {
    const existing = this.reservations.get(reservation.orderId);
    if (existing === undefined) this.reservations.set(reservation.orderId, reservation);
    return Promise.resolve(existing);
  }

  findReservationForUpdate(orderId: string): Promise<Reservation | undefined> {
    return Promise.resolve(this.reservations.get(orderId));
  }

  findExpiredForUpdate(now: Date, limit: number): Promise<Reservation[]> {
    return Promise.resolve([...this.reservations.values()]
      .filter((reservation) => reservation.status === 'active' && reservation.expiresAt <= now)
      .sort((a, b) => a.expiresAt.getTime() - b.expiresAt.getTime())
      .slice(0, limit));
  }

  saveReservations(reservations: readonly Reservation[]): Promise<void> {
    for (const reservation of reservations) this.reservations.set(reservation.orderId, reservation);
    return Promise.resolve();
  }

  reserve(lines: readonly ReservationLine[]): Promise<StockShortfall | undefined> {
    return Promise.resolve(this.#changeIfAvailable(lines, (level, quantity) => ({ ...level, reserved: level.reserved + quantity })));
  }

  takeAvailable(lines: readonly ReservationLine[]): Promise<StockShortfall | undefined> {
    return Promise.resolve(this.#changeIfAvailable(lines, (level, quantity) => ({ ...level, onHand: level.onHand - quantity })));
  }

  release(lines: readonly ReservationLine[]): Promise<void> {
    this.#change(lines, (level, quantity) => ({ ...level, reserved: level.reserved - quantity }));
    return Promise.resolve();
  }

  removeReserved(lines: readonly ReservationLine[]): Promise<void> {
    this.#change(lines, (level, quantity) => ({ ...level, onHand: level.onHand - quantity, reserved: level.reserved - quantity }));
    return Promise.resolve();
  }

  putBack(lines: readonly ReservationLine[]): Promise<void> {
    this.#change(lines, (level, quantity) => ({ ...level, onHand: level.onHand + quantity }));
    return Promise.resolve();
  }

  emit(events: readonly InventoryEvent[]): Promise<void> {
    this.published.push(...events);
    return Promise.resolve();
  }

  #changeIfAvailable(lines: readonly ReservationLine[], apply: (level: StockLevel, quantity: number) => StockLevel): StockShortfall | undefined {
    const unknown = lines.filter((line) => !this.stock.has(line.sku)).map((line) => line.sku);
    const insufficient = lines.filter((line) => {
      const level = this.stock.get(line.sku);
      return level !== undefined && level.onHand - level.reserved < line.quantity;
    }).map((line) => line.sku);
    if (unknown.length > 0 || insufficient.length > 0) return { unknown, insufficient };
    this.#change(lines, apply);
    return undefined;
  }

  #change(lines: readonly ReservationLine[], apply: (level: StockLevel, quantity: number) => StockLevel): void {
    for (const line of lines) {
      const level = this.stock.get(line.sku);
      if (level === undefined) continue;
      const changed = apply(level, line.quantity);
      // The database's check constraints, which turn a buggy change into an error rather than bad data.
      if (changed.onHand < 0 || changed.reserved < 0 || changed.reserved > changed.onHand) {
        throw new Error(`stock of ${line.sku} would break its invariants: ${JSON.stringify(changed)}`);
      }
      this.stock.set(line.sku, changed);
    }
  }
}
