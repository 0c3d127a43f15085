import { totalsBySku, withStatus } from '../domain/reservation.ts';
import { releasedEvent } from './inventory-events.ts';
import type { InventoryStore } from './ports.ts';

/**
 * Gives back the units of active reservations past their expiry, up to `limit` per call, emitting
 * `inventory.released {reason: 'expired'}` for each. Returns how many it expired.
 */
export class ExpireReservations {
  readonly #now: () => Date;

  constructor(deps: { now?: () => Date } = {}) {
    this.#now = deps.now ?? (() => new Date());
  }

  async execute(store: InventoryStore, limit: number): Promise<number> {
    const expired = await store.findExpiredForUpdate(this.#now(), limit);
    if (expired.length === 0) return 0;
    await store.release(totalsBySku(expired.flatMap((reservation) => reservation.lines)));
    await store.saveReservations(expired.map((reservation) => withStatus(reservation, 'expired')));
    await store.emit(expired.map((reservation) => releasedEvent(reservation.orderId, 'expired')));
    return expired.length;
  }
}
