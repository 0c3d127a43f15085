import type { ReserveStockV1 } from '../contract.ts';
import { asFailed, failureOf, newReservation, reservationLines } from '../domain/reservation.ts';
import { reservationFailedEvent, reservationOutcomeEvent, reservedEvent } from './inventory-events.ts';
import type { InventoryStore } from './ports.ts';

export type ReserveOutcome = 'reserved' | 'failed' | 'already-decided';

/**
 * Obeys `inventory.reserve-stock`: reserves every line until the reservation expires, or nothing
 * (`inventory.reservation-failed`). An order that already has a reservation is not reserved twice:
 * its outcome is announced again.
 */
export class ReserveStock {
  readonly #ttlSeconds: number;
  readonly #now: () => Date;

  constructor(deps: { reservationTtlSeconds: number; now?: () => Date }) {
    if (!Number.isSafeInteger(deps.reservationTtlSeconds) || deps.reservationTtlSeconds <= 0) {
      throw new RangeError(`reservationTtlSeconds must be a positive whole number, not ${deps.reservationTtlSeconds}`);
    }
    this.#ttlSeconds = deps.reservationTtlSeconds;
    this.#now = deps.now ?? (() => new Date());
  }

  async execute(store: InventoryStore, command: ReserveStockV1): Promise<ReserveOutcome> {
    const reservation = newReservation(command.orderId, reservationLines(command.lines), this.#now(), this.#ttlSeconds);
    const existing = await store.addReservation(reservation);
    if (existing !== undefined) {
      await store.emit([reservationOutcomeEvent(existing)]);
      return 'already-decided';
    }
    const shortfall = await store.reserve(reservation.lines);
    if (shortfall === undefined) {
      await store.emit([reservedEvent(reservation)]);
      return 'reserved';
    }
    const failure = failureOf(shortfall);
    await store.saveReservations([asFailed(reservation, failure)]);
    await store.emit([reservationFailedEvent(reservation.orderId, failure)]);
    return 'failed';
  }
}
