import { closedBeforeReserved, withStatus, type GiveUpDecision, type Reservation } from '../domain/reservation.ts';
import type { InventoryStore } from './ports.ts';

/**
 * Carries out a `GiveUpDecision` in the caller's transaction: the reservation ends `released` for
 * good, so whichever of the order's release, restock or commit arrives later finds it closed.
 * Answers whether units were given back.
 */
export async function giveUpReservation(
  store: InventoryStore, orderId: string, reservation: Reservation | undefined, decision: GiveUpDecision, now: Date,
): Promise<boolean> {
  if (reservation === undefined) {
    // The record's insert waits on a reserve of the same order running at the same moment (it read no
    // reservation before that one committed). What that reserve made must be decided on instead: the
    // transaction fails and the delivery is tried again, when the reservation is there to be read.
    if (decision === 'record' && await store.addReservation(closedBeforeReserved(orderId, now)) !== undefined) {
      throw new ReservationAppearedError(orderId);
    }
    return false;
  }
  if (decision === 'release') await store.release(reservation.lines);
  if (decision === 'release' || decision === 'close') await store.saveReservations([withStatus(reservation, 'released')]);
  return decision === 'release';
}

/** A reservation was made by a concurrent command while this one decided on none; trying again decides on it. */
export class ReservationAppearedError extends Error {
  constructor(orderId: string) {
    super(`a reservation of order ${orderId} was made while this command found none; it is tried again`);
    this.name = 'ReservationAppearedError';
  }
}
