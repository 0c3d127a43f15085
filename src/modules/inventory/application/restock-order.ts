import type { RestockV1 } from '../contract.ts';
import { restockDecision, withStatus } from '../domain/reservation.ts';
import { restockedEvent } from './inventory-events.ts';
import type { InventoryStore } from './ports.ts';

export type RestockOutcome = 'restocked' | 'already-restocked' | 'nothing-committed';

/**
 * Obeys `inventory.restock`: a refunded order's committed units go back on the shelf, once.
 * `inventory.restocked` is emitted whatever the state so the saga can move on; an order with nothing
 * committed changes nothing.
 */
export class RestockOrder {
  async execute(store: InventoryStore, command: RestockV1): Promise<RestockOutcome> {
    const reservation = await store.findReservationForUpdate(command.orderId);
    const decision = restockDecision(reservation);
    if (reservation !== undefined && decision === 'restock') {
      await store.putBack(reservation.lines);
      await store.saveReservations([withStatus(reservation, 'restocked')]);
    }
    await store.emit([restockedEvent(command.orderId)]);
    return decision === 'restock' ? 'restocked' : decision;
  }
}
