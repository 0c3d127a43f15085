import type { RestockV1 } from '../contract.ts';
import { restockDecision, withStatus } from '../domain/reservation.ts';
import { giveUpReservation } from './give-up-reservation.ts';
import { restockedEvent } from './inventory-events.ts';
import type { InventoryStore } from './ports.ts';

export type RestockOutcome = 'restocked' | 'already-restocked' | 'released' | 'nothing-committed';

/**
 * Obeys `inventory.restock`: a cancelled order's committed units go back on the shelf, once. A
 * restock that overtook the order's commit gives the reservation up instead (see `GiveUpDecision`),
 * so the late commit is refused. `inventory.restocked` is emitted whatever the state so the saga can
 * move on.
 */
export class RestockOrder {
  readonly #now: () => Date;

  constructor(deps: { now?: () => Date } = {}) {
    this.#now = deps.now ?? (() => new Date());
  }

  async execute(store: InventoryStore, command: RestockV1): Promise<RestockOutcome> {
    const reservation = await store.findReservationForUpdate(command.orderId);
    const decision = restockDecision(reservation);
    let outcome: RestockOutcome = 'already-restocked';
    if (decision === 'restock' && reservation !== undefined) {
      await store.putBack(reservation.lines);
      await store.saveReservations([withStatus(reservation, 'restocked')]);
      outcome = 'restocked';
    } else if (decision !== 'restock' && decision !== 'already-restocked') {
      // The restock overtook the order's commit (or found it refused): the order is given up.
      outcome = await giveUpReservation(store, command.orderId, reservation, decision, this.#now()) ? 'released' : 'nothing-committed';
    }
    await store.emit([restockedEvent(command.orderId)]);
    return outcome;
  }
}
