import { sql, type Kysely, type Transaction } from 'kysely';
import { appendToOutbox, createEnvelope } from '../../../../platform/messaging/index.ts';
import type { InventoryEvent } from '../../application/inventory-events.ts';
import type { InventoryStore } from '../../application/ports.ts';
import { inventoryMessages } from '../../contract.ts';
import type { Reservation, ReservationLine, StockShortfall } from '../../domain/reservation.ts';
import type { InventoryTables } from './inventory-tables.ts';
import { selectReservations, toReservation, type ReservationRow } from './pg-inventory-store.ts';
import { changedStockColumns, stockChangedEnvelopes, type ChangedStockRow } from './stock-announcements.ts';

interface HeldStock {
  onHand: number;
  reserved: number;
  changed: boolean;
}

/**
 * The inventory of one batch of commands, held in memory for its transaction: `lock` takes and
 * reads, in one go, every row the batch's commands can touch (their orders' reservations in order-id
 * order, then the stock of their lines and of those reservations in SKU order, as every writer locks
 * them); the commands then reserve, commit and release against those rows here, in order, as the
 * statements of `PgInventoryStore` would; `write` stores what changed in three statements, whatever
 * the batch's size, before the transaction commits, and announces (`inventory.stock-changed`, once
 * per SKU with its last state) the SKUs whose available units differ from when they were locked.
 *
 * Every change is checked as the table's constraints check each statement (no negative stock, no more
 * reserved than on hand) and anything outside what was locked throws: the batch then fails and its
 * commands are applied one by one through `PgInventoryStore`, which has the last word.
 */
export class BatchInventoryStore implements InventoryStore {
  readonly #transaction: Kysely<InventoryTables>;
  readonly #stock: Map<string, HeldStock>;
  /** Available units of each stock row when it was locked: the batch announces only those that differ at the end. */
  readonly #availableWhenLocked: ReadonlyMap<string, number>;
  /** SKUs the lock looked for: one among them with no row is unknown; one outside them was not locked. */
  readonly #lockedSkus: ReadonlySet<string>;
  readonly #lockedOrders: ReadonlySet<string>;
  readonly #reservations: Map<string, Reservation>;
  readonly #added = new Map<string, Reservation>();
  readonly #saved = new Map<string, Reservation>();

  private constructor(transaction: Kysely<InventoryTables>, stock: Map<string, HeldStock>, lockedSkus: ReadonlySet<string>, lockedOrders: ReadonlySet<string>, reservations: Map<string, Reservation>) {
    this.#transaction = transaction;
    this.#stock = stock;
    this.#availableWhenLocked = new Map([...stock].map(([sku, item]) => [sku, item.onHand - item.reserved]));
    this.#lockedSkus = lockedSkus;
    this.#lockedOrders = lockedOrders;
    this.#reservations = reservations;
  }

  /** Locks and reads the reservations of `orderIds` and the stock of `skus` and of those reservations' lines. */
  static async lock(transaction: Transaction<object>, orderIds: readonly string[], skus: readonly string[]): Promise<BatchInventoryStore> {
    const db = transaction.$extendTables<InventoryTables>();
    const orders = [...new Set(orderIds)];
    const found = await sql<ReservationRow>`
      ${selectReservations} where reservation.order_id = any(${orders}::text[])
      order by reservation.order_id for update of reservation`.execute(db);
    const reservations = new Map(found.rows.map((row) => [row.order_id, toReservation(row)]));
    const lockedSkus = new Set([...skus, ...[...reservations.values()].flatMap((reservation) => reservation.lines.map((line) => line.sku))]);
    const rows = await sql<{ sku: string; on_hand: number; reserved: number }>`
      select sku, on_hand, reserved from inventory.stock_items where sku = any(${[...lockedSkus]}::text[])
      order by sku for update`.execute(db);
    const stock = new Map(rows.rows.map((row) => [row.sku, { onHand: row.on_hand, reserved: row.reserved, changed: false }]));
    return new BatchInventoryStore(db, stock, lockedSkus, new Set(orders), reservations);
  }

  addReservation(reservation: Reservation): Promise<Reservation | undefined> {
    this.#mustHold(reservation.orderId);
    const existing = this.#reservations.get(reservation.orderId);
    if (existing !== undefined) return Promise.resolve(existing);
    this.#reservations.set(reservation.orderId, reservation);
    this.#added.set(reservation.orderId, reservation);
    return Promise.resolve(undefined);
  }

  findReservationForUpdate(orderId: string): Promise<Reservation | undefined> {
    this.#mustHold(orderId);
    return Promise.resolve(this.#reservations.get(orderId));
  }

  findExpiredForUpdate(): Promise<Reservation[]> {
    return Promise.reject(new Error('expired reservations are found by the sweeper, outside any batch'));
  }

  saveReservations(reservations: readonly Reservation[]): Promise<void> {
    for (const reservation of reservations) {
      this.#mustHold(reservation.orderId);
      this.#reservations.set(reservation.orderId, reservation);
      if (this.#added.has(reservation.orderId)) this.#added.set(reservation.orderId, reservation);
      else this.#saved.set(reservation.orderId, reservation);
    }
    return Promise.resolve();
  }

  reserve(lines: readonly ReservationLine[]): Promise<StockShortfall | undefined> {
    return Promise.resolve(this.#changeIfAvailable(lines, (item, quantity) => { item.reserved += quantity; }));
  }

  takeAvailable(lines: readonly ReservationLine[]): Promise<StockShortfall | undefined> {
    return Promise.resolve(this.#changeIfAvailable(lines, (item, quantity) => { item.onHand -= quantity; }));
  }

  release(lines: readonly ReservationLine[]): Promise<void> {
    return this.#change(lines, (item, quantity) => { item.reserved -= quantity; });
  }

  removeReserved(lines: readonly ReservationLine[]): Promise<void> {
    return this.#change(lines, (item, quantity) => { item.onHand -= quantity; item.reserved -= quantity; });
  }

  putBack(lines: readonly ReservationLine[]): Promise<void> {
    return this.#change(lines, (item, quantity) => { item.onHand += quantity; });
  }

  async emit(events: readonly InventoryEvent[]): Promise<void> {
    await appendToOutbox(this.#transaction, events.map((event) => createEnvelope({
      ...inventoryMessages[event.name], key: event.payload.orderId, payload: event.payload,
    })));
  }

  /** Stores the batch's new reservations (one statement, with their lines), the changed ones, and the changed stock. */
  async write(): Promise<void> {
    const added = [...this.#added.values()];
    this.#added.clear();
    if (added.length > 0) {
      const lines = added.flatMap((reservation) => reservation.lines.map((line) => ({ orderId: reservation.orderId, ...line })));
      const inserted = await sql<{ inserted: number }>`
        with claimed as (
          insert into inventory.reservations (order_id, status, expires_at, failure_reason, failed_skus)
          select * from unnest(
            ${added.map((reservation) => reservation.orderId)}::text[], ${added.map((reservation) => reservation.status)}::text[],
            ${added.map((reservation) => reservation.expiresAt)}::timestamptz[], ${added.map((reservation) => reservation.failure?.reason ?? null)}::text[],
            ${added.map((reservation) => (reservation.failure === undefined ? null : JSON.stringify(reservation.failure.skus)))}::jsonb[])
          on conflict (order_id) do nothing
          returning order_id
        ), lines as (
          insert into inventory.reservation_lines (order_id, sku, quantity)
          select line.order_id, line.sku, line.quantity
          from unnest(${lines.map((line) => line.orderId)}::text[], ${lines.map((line) => line.sku)}::text[], ${lines.map((line) => line.quantity)}::bigint[])
            as line (order_id, sku, quantity)
          where line.order_id in (select order_id from claimed)
        )
        select count(*)::int as inserted from claimed`.execute(this.#transaction);
      // Another command recorded one of these orders' reservations meanwhile: decided one by one instead.
      if (inserted.rows[0]?.inserted !== added.length) throw new Error('a reservation of the batch was recorded by another command meanwhile');
    }
    const saved = [...this.#saved.values()];
    this.#saved.clear();
    if (saved.length > 0) {
      await sql`
        update inventory.reservations as reservation
        set status = saved.status, failure_reason = saved.failure_reason, failed_skus = saved.failed_skus::jsonb, updated_at = now()
        from unnest(
          ${saved.map((reservation) => reservation.orderId)}::text[], ${saved.map((reservation) => reservation.status)}::text[],
          ${saved.map((reservation) => reservation.failure?.reason ?? null)}::text[],
          ${saved.map((reservation) => (reservation.failure === undefined ? null : JSON.stringify(reservation.failure.skus)))}::text[])
          as saved (order_id, status, failure_reason, failed_skus)
        where reservation.order_id = saved.order_id`.execute(this.#transaction);
    }
    const changed = [...this.#stock].filter(([, item]) => item.changed);
    if (changed.length > 0) {
      const written = await sql<ChangedStockRow>`
        update inventory.stock_items as item set on_hand = held.on_hand, reserved = held.reserved, version = item.version + 1, updated_at = now()
        from unnest(${changed.map(([sku]) => sku)}::text[], ${changed.map(([, item]) => item.onHand)}::bigint[], ${changed.map(([, item]) => item.reserved)}::bigint[])
          as held (sku, on_hand, reserved)
        where item.sku = held.sku
        returning ${changedStockColumns}`.execute(this.#transaction);
      for (const [, item] of changed) item.changed = false;
      // Inside the batch's outbox insert (withBatchedOutbox): no statement of its own.
      await appendToOutbox(this.#transaction, stockChangedEnvelopes(written.rows.filter((row) => row.available !== this.#availableWhenLocked.get(row.sku))));
    }
  }

  /** As `PgInventoryStore`: all lines or none, unless a SKU is unknown or short of available units. */
  #changeIfAvailable(lines: readonly ReservationLine[], apply: (item: HeldStock, quantity: number) => void): StockShortfall | undefined {
    const unknown: string[] = [];
    const insufficient: string[] = [];
    for (const line of lines) {
      const item = this.#held(line.sku);
      if (item === undefined) unknown.push(line.sku);
      else if (item.onHand - item.reserved < line.quantity) insufficient.push(line.sku);
    }
    if (unknown.length > 0 || insufficient.length > 0) return { unknown, insufficient };
    this.#applyAll(lines, apply);
    return undefined;
  }

  /** As `PgInventoryStore`: every line whose SKU has stock (an unknown SKU changes nothing). */
  // eslint-disable-next-line @typescript-eslint/require-await -- async so that a refused change rejects
  async #change(lines: readonly ReservationLine[], apply: (item: HeldStock, quantity: number) => void): Promise<void> {
    this.#applyAll(lines.filter((line) => this.#held(line.sku) !== undefined), apply);
  }

  /** Applies every line, or (as a statement the table's checks refuse) none. */
  #applyAll(lines: readonly ReservationLine[], apply: (item: HeldStock, quantity: number) => void): void {
    const after = new Map<string, HeldStock>();
    for (const line of lines) {
      const item = this.#held(line.sku);
      if (item === undefined) continue;
      const next = after.get(line.sku) ?? { ...item };
      apply(next, line.quantity);
      after.set(line.sku, next);
    }
    for (const [sku, next] of after) {
      if (next.onHand < 0 || next.reserved < 0 || next.reserved > next.onHand) throw new Error(`stock of ${sku} would break its checks (on hand ${String(next.onHand)}, reserved ${String(next.reserved)})`);
    }
    for (const [sku, next] of after) this.#stock.set(sku, { onHand: next.onHand, reserved: next.reserved, changed: true });
  }

  #held(sku: string): HeldStock | undefined {
    if (!this.#lockedSkus.has(sku)) throw new Error(`the stock of ${sku} was not locked for this batch`);
    return this.#stock.get(sku);
  }

  #mustHold(orderId: string): void {
    if (!this.#lockedOrders.has(orderId)) throw new Error(`the reservation of order ${orderId} was not locked for this batch`);
  }
}
