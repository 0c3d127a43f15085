import type { ReleaseStockV1 } from '../contract.ts';
import { releaseDecision } from '../domain/reservation.ts';
import { giveUpReservation } from './give-up-reservation.ts';
import { releasedEvent } from './inventory-events.ts';
import type { InventoryStore } from './ports.ts';

export type ReleaseOutcome = 'released' | 'nothing-held';

/**
 * Obeys `inventory.release-stock`: the order is given up, so its reservation is closed for good (see
 * `GiveUpDecision`) and an active one's units become available again. Whatever the order's
 * reservation state, `inventory.released` is emitted so the saga can move on; a committed reservation
 * is left alone (restock returns its units).
 */
export class ReleaseStock {
  readonly #now: () => Date;

  constructor(deps: { now?: () => Date } = {}) {
    this.#now = deps.now ?? (() => new Date());
  }

  async execute(store: InventoryStore, command: ReleaseStockV1): Promise<ReleaseOutcome> {
    const reservation = await store.findReservationForUpdate(command.orderId);
    const released = await giveUpReservation(store, command.orderId, reservation, releaseDecision(reservation), this.#now());
    // An expired reservation was given back by the sweeper; say so rather than pretend this request did it.
    await store.emit([releasedEvent(command.orderId, reservation?.status === 'expired' ? 'expired' : 'requested')]);
    return released ? 'released' : 'nothing-held';
  }
}
