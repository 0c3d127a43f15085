import { sql, type Kysely, type RawBuilder, type Transaction } from 'kysely';
import type { Database } from '../../../../platform/database/database.ts';
import { appendToOutbox, createEnvelope } from '../../../../platform/messaging/index.ts';
import type { InventoryEvent } from '../../application/inventory-events.ts';
import type { InventoryStore, InventoryTransactions } from '../../application/ports.ts';
import { inventoryMessages } from '../../contract.ts';
import type { Reservation, ReservationFailureReason, ReservationLine, ReservationStatus, StockShortfall } from '../../domain/reservation.ts';
import type { InventoryTables, ReservationsTable } from './inventory-tables.ts';
import { changedStockColumns, stockChangedEnvelopes, type ChangedStockRow } from './stock-announcements.ts';

export type ReservationRow = Pick<ReservationsTable, 'order_id' | 'status' | 'expires_at' | 'failure_reason' | 'failed_skus'> & { lines: ReservationLine[] };

/**
 * Stock and reservations in PostgreSQL, inside the transaction it is given (a consumer's inbox
 * transaction, or one `PgInventoryTransactions` opens).
 *
 * Every stock change is two statements: `select … order by sku for update` locks the stock rows in
 * SKU order, the order every writer uses, so two writers never wait on each other in a cycle; then
 * one statement applies all lines, conditionally when stock could run short. The condition is
 * evaluated by PostgreSQL on rows this transaction already holds, never read-check-written here.
 * A change of available units returns the rows it changed, which `emit` announces
 * (`inventory.stock-changed`) in the same outbox insert as the use case's events.
 */
export class PgInventoryStore implements InventoryStore {
  readonly #transaction: Kysely<InventoryTables>;
  /** Stock rows changed since the last `emit`, announced by it. */
  readonly #changedStock: ChangedStockRow[] = [];

  constructor(transaction: Transaction<object>) {
    this.#transaction = transaction.$extendTables<InventoryTables>();
  }

  async addReservation(reservation: Reservation): Promise<Reservation | undefined> {
    const { skus, quantities } = columnsOf(reservation.lines);
    const added = await sql<{ added: number }>`
      with claimed as (
        insert into inventory.reservations (order_id, status, expires_at)
        values (${reservation.orderId}, ${reservation.status}, ${reservation.expiresAt})
        on conflict (order_id) do nothing
        returning order_id
      ), lines as (
        insert into inventory.reservation_lines (order_id, sku, quantity)
        select claimed.order_id, line.sku, line.quantity
        from claimed cross join unnest(${skus}::text[], ${quantities}::bigint[]) as line (sku, quantity)
      )
      select count(*)::int as added from claimed`.execute(this.#transaction);
    if (added.rows[0]?.added === 1) return undefined;
    // The order already had one (perhaps committed by a concurrent command this insert waited for).
    const existing = await this.findReservationForUpdate(reservation.orderId);
    if (existing === undefined) throw new Error(`the reservation of order ${reservation.orderId} conflicted and then vanished`);
    return existing;
  }

  async findReservationForUpdate(orderId: string): Promise<Reservation | undefined> {
    const found = await sql<ReservationRow>`
      ${selectReservations} where reservation.order_id = ${orderId}
      for update of reservation`.execute(this.#transaction);
    const row = found.rows[0];
    return row === undefined ? undefined : toReservation(row);
  }

  async findExpiredForUpdate(now: Date, limit: number): Promise<Reservation[]> {
    const found = await sql<ReservationRow>`
      ${selectReservations} where reservation.status = 'active' and reservation.expires_at <= ${now}
      order by reservation.expires_at, reservation.order_id
      limit ${limit}
      for update of reservation skip locked`.execute(this.#transaction);
    return found.rows.map(toReservation);
  }

  async saveReservations(reservations: readonly Reservation[]): Promise<void> {
    if (reservations.length === 0) return;
    const orderIds = reservations.map((reservation) => reservation.orderId);
    const statuses = reservations.map((reservation) => reservation.status);
    const reasons = reservations.map((reservation) => reservation.failure?.reason ?? null);
    const failedSkus = reservations.map((reservation) => (reservation.failure === undefined ? null : JSON.stringify(reservation.failure.skus)));
    await sql`
      update inventory.reservations as reservation
      set status = saved.status, failure_reason = saved.failure_reason, failed_skus = saved.failed_skus::jsonb, updated_at = now()
      from unnest(${orderIds}::text[], ${statuses}::text[], ${reasons}::text[], ${failedSkus}::text[])
        as saved (order_id, status, failure_reason, failed_skus)
      where reservation.order_id = saved.order_id`.execute(this.#transaction);
  }

  async reserve(lines: readonly ReservationLine[]): Promise<StockShortfall | undefined> {
    return this.#changeIfAvailable(lines, sql`reserved = item.reserved + wanted.quantity`);
  }

  async takeAvailable(lines: readonly ReservationLine[]): Promise<StockShortfall | undefined> {
    return this.#changeIfAvailable(lines, sql`on_hand = item.on_hand - wanted.quantity`);
  }

  async release(lines: readonly ReservationLine[]): Promise<void> {
    await this.#change(lines, sql`reserved = item.reserved - wanted.quantity`, 'announce');
  }

  async removeReserved(lines: readonly ReservationLine[]): Promise<void> {
    // Reserved units leave the shelf: what is available stays as it was, so nothing is announced.
    await this.#change(lines, sql`on_hand = item.on_hand - wanted.quantity, reserved = item.reserved - wanted.quantity`, 'quiet');
  }

  async putBack(lines: readonly ReservationLine[]): Promise<void> {
    await this.#change(lines, sql`on_hand = item.on_hand + wanted.quantity`, 'announce');
  }

  async emit(events: readonly InventoryEvent[]): Promise<void> {
    const announcements = stockChangedEnvelopes(this.#changedStock.splice(0));
    await appendToOutbox(this.#transaction, [...events.map((event) => createEnvelope({
      ...inventoryMessages[event.name], key: event.payload.orderId, payload: event.payload,
    })), ...announcements]);
  }

  /** Applies `assignment` to every line, all or nothing, unless a SKU is unknown or short of available units. */
  async #changeIfAvailable(lines: readonly ReservationLine[], assignment: RawBuilder<unknown>): Promise<StockShortfall | undefined> {
    await this.#lockStock(lines);
    const { skus, quantities } = columnsOf(lines);
    // Its WHERE makes the UPDATE all or nothing in this one statement: the answer holds either the
    // short lines (unknown or insufficient) or the rows it changed, never both.
    const answer = await sql<{ sku: string; unknown: boolean | null; available: number | null; version: number | null }>`
      with wanted as (
        select * from unnest(${skus}::text[], ${quantities}::bigint[]) as wanted (sku, quantity)
      ), short as (
        select wanted.sku, item.sku is null as unknown
        from wanted left join inventory.stock_items as item on item.sku = wanted.sku
        where item.sku is null or item.on_hand - item.reserved < wanted.quantity
      ), changed as (
        update inventory.stock_items as item set ${assignment}, version = item.version + 1, updated_at = now()
        from wanted
        where item.sku = wanted.sku and not exists (select from short)
        returning ${changedStockColumns}
      )
      select sku, unknown, null::bigint as available, null::bigint as version from short
      union all
      select sku, null, available, version from changed`.execute(this.#transaction);
    const short = answer.rows.filter((row) => row.unknown !== null);
    if (short.length === 0) {
      for (const row of answer.rows) {
        if (row.available !== null && row.version !== null) this.#changedStock.push({ sku: row.sku, available: row.available, version: row.version });
      }
      return undefined;
    }
    return {
      unknown: short.filter((row) => row.unknown === true).map((row) => row.sku),
      insufficient: short.filter((row) => row.unknown === false).map((row) => row.sku),
    };
  }

  /**
   * Applies `assignment` to every line unconditionally: moves that cannot run short (the checks still
   * guard them). `announce` when the move changes what is available.
   */
  async #change(lines: readonly ReservationLine[], assignment: RawBuilder<unknown>, announce: 'announce' | 'quiet'): Promise<void> {
    if (lines.length === 0) return;
    await this.#lockStock(lines);
    const { skus, quantities } = columnsOf(lines);
    const changed = await sql<ChangedStockRow>`
      update inventory.stock_items as item set ${assignment}, version = item.version + 1, updated_at = now()
      from unnest(${skus}::text[], ${quantities}::bigint[]) as wanted (sku, quantity)
      where item.sku = wanted.sku
      returning ${changedStockColumns}`.execute(this.#transaction);
    if (announce === 'announce') this.#changedStock.push(...changed.rows);
  }

  /** Locks the lines' stock rows in SKU order: the same order in every transaction, so no lock cycle can form. */
  async #lockStock(lines: readonly ReservationLine[]): Promise<void> {
    await sql`
      select sku from inventory.stock_items
      where sku = any(${lines.map((line) => line.sku)}::text[])
      order by sku
      for update`.execute(this.#transaction);
  }
}

/** Opens a transaction and hands work a store inside it. */
export class PgInventoryTransactions implements InventoryTransactions {
  readonly #db: Database;

  constructor(db: Database) {
    this.#db = db;
  }

  run<T>(work: (store: InventoryStore) => Promise<T>): Promise<T> {
    return this.#db.transaction().execute((transaction) => work(new PgInventoryStore(transaction)));
  }
}

// Lines are sorted in code-unit order ("C" collation), as the domain sorts them.
export const selectReservations = sql`
  select reservation.order_id, reservation.status, reservation.expires_at, reservation.failure_reason, reservation.failed_skus,
    coalesce((
      select json_agg(json_build_object('sku', line.sku, 'quantity', line.quantity) order by line.sku collate "C")
      from inventory.reservation_lines as line where line.order_id = reservation.order_id
    ), '[]'::json) as lines
  from inventory.reservations as reservation`;

export function columnsOf(lines: readonly ReservationLine[]): { skus: string[]; quantities: number[] } {
  return { skus: lines.map((line) => line.sku), quantities: lines.map((line) => line.quantity) };
}

export function toReservation(row: ReservationRow): Reservation {
  const base = { orderId: row.order_id, status: row.status as ReservationStatus, lines: row.lines, expiresAt: row.expires_at };
  if (row.failure_reason === null) return base;
  return { ...base, failure: { reason: row.failure_reason as ReservationFailureReason, skus: row.failed_skus ?? [] } };
}
