import type { ReleaseStockV1 } from '../contract.ts';
import { releaseDecision, releasedBeforeReserved, withStatus } from '../domain/reservation.ts';
import { releasedEvent } from './inventory-events.ts';
import type { InventoryStore } from './ports.ts';

export type ReleaseOutcome = 'released' | 'nothing-held';

/**
 * Obeys `inventory.release-stock`: an active reservation's units become available again. Whatever
 * the order's reservation state, `inventory.released` is emitted so the saga can move on; when
 * nothing was held, no stock changes, and the order is recorded as released (see
 * `releasedBeforeReserved`).
 */
export class ReleaseStock {
  readonly #now: () => Date;

  constructor(deps: { now?: () => Date } = {}) {
    this.#now = deps.now ?? (() => new Date());
  }

  async execute(store: InventoryStore, command: ReleaseStockV1): Promise<ReleaseOutcome> {
    const reservation = await store.findReservationForUpdate(command.orderId);
    // Released before it was ever reserved: remember it, so a reserve arriving late takes nothing.
    if (reservation === undefined) await store.addReservation(releasedBeforeReserved(command.orderId, this.#now()));
    if (reservation !== undefined && releaseDecision(reservation) === 'release') {
      await store.release(reservation.lines);
      await store.saveReservations([withStatus(reservation, 'released')]);
      await store.emit([releasedEvent(command.orderId, 'requested')]);
      return 'released';
    }
    // An expired reservation was given back by the sweeper; say so rather than pretend this request did it.
    await store.emit([releasedEvent(command.orderId, reservation?.status === 'expired' ? 'expired' : 'requested')]);
    return 'nothing-held';
  }
}
