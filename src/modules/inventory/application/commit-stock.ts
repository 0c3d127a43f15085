import type { CommitStockV1 } from '../contract.ts';
import { commitDecision, releaseDecision, withStatus } from '../domain/reservation.ts';
import { giveUpReservation } from './give-up-reservation.ts';
import { commitFailedEvent, committedEvent } from './inventory-events.ts';
import type { InventoryStore } from './ports.ts';

export type CommitOutcome = 'committed' | 'taken-again' | 'already-committed' | 'failed';

/**
 * Obeys `inventory.commit-stock`: the reserved units leave the shelf (`inventory.committed`). A
 * reservation that expired meanwhile takes its units again if they are still available. A commit is
 * refused (`inventory.commit-failed`) when the order was given up (a release or restock overtook
 * it), never reserved, or its expired units were sold; a refusal is final, so a redelivered commit
 * is refused too and the saga, which compensates without restocking, is never left with units out.
 * Committing twice changes stock once.
 */
export class CommitStock {
  readonly #now: () => Date;

  constructor(deps: { now?: () => Date } = {}) {
    this.#now = deps.now ?? (() => new Date());
  }

  async execute(store: InventoryStore, command: CommitStockV1): Promise<CommitOutcome> {
    const reservation = await store.findReservationForUpdate(command.orderId);
    const decision = commitDecision(reservation);
    if (decision === 'already-committed') {
      await store.emit([committedEvent(command.orderId)]);
      return 'already-committed';
    }
    if (reservation !== undefined && decision === 'commit-reserved') {
      await store.removeReserved(reservation.lines);
    } else if (reservation === undefined || decision !== 'take-again' || await store.takeAvailable(reservation.lines) !== undefined) {
      // Refused for good, as a release would close it: the saga compensates a refusal without a restock.
      await giveUpReservation(store, command.orderId, reservation, releaseDecision(reservation), this.#now());
      await store.emit([commitFailedEvent(command.orderId)]);
      return 'failed';
    }
    await store.saveReservations([withStatus(reservation, 'committed')]);
    await store.emit([committedEvent(command.orderId)]);
    return decision === 'commit-reserved' ? 'committed' : 'taken-again';
  }
}
