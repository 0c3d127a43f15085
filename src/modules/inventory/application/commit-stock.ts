import type { CommitStockV1 } from '../contract.ts';
import { commitDecision, withStatus } from '../domain/reservation.ts';
import { commitFailedEvent, committedEvent } from './inventory-events.ts';
import type { InventoryStore } from './ports.ts';

export type CommitOutcome = 'committed' | 'taken-again' | 'already-committed' | 'failed';

/**
 * Obeys `inventory.commit-stock`: the reserved units leave the shelf (`inventory.committed`). A
 * reservation that expired or was released meanwhile takes its units again if they are still
 * available, else `inventory.commit-failed`. Committing twice changes stock once.
 */
export class CommitStock {
  async execute(store: InventoryStore, command: CommitStockV1): Promise<CommitOutcome> {
    const reservation = await store.findReservationForUpdate(command.orderId);
    const decision = commitDecision(reservation);
    if (reservation === undefined || decision === 'cannot-commit') {
      await store.emit([commitFailedEvent(command.orderId)]);
      return 'failed';
    }
    if (decision === 'already-committed') {
      await store.emit([committedEvent(command.orderId)]);
      return 'already-committed';
    }
    if (decision === 'commit-reserved') {
      await store.removeReserved(reservation.lines);
    } else if (await store.takeAvailable(reservation.lines) !== undefined) {
      await store.emit([commitFailedEvent(command.orderId)]);
      return 'failed';
    }
    await store.saveReservations([withStatus(reservation, 'committed')]);
    await store.emit([committedEvent(command.orderId)]);
    return decision === 'commit-reserved' ? 'committed' : 'taken-again';
  }
}
