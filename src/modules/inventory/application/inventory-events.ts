import type {
  ReservationFailedV1, RestockedV1, StockCommitFailedV1, StockCommittedV1, StockReleasedV1, StockReservedV1,
} from '../contract.ts';
import type { Reservation, ReservationFailure } from '../domain/reservation.ts';

/**
 * An integration event a use case emits, named by its key in `inventoryMessages`; the store writes it
 * to the outbox in the use case's transaction, keyed by order id.
 */
export type InventoryEvent =
  | { name: 'reserved'; payload: StockReservedV1 }
  | { name: 'reservationFailed'; payload: ReservationFailedV1 }
  | { name: 'released'; payload: StockReleasedV1 }
  | { name: 'committed'; payload: StockCommittedV1 }
  | { name: 'commitFailed'; payload: StockCommitFailedV1 }
  | { name: 'restocked'; payload: RestockedV1 };

export function reservedEvent(reservation: Reservation): InventoryEvent {
  return { name: 'reserved', payload: { orderId: reservation.orderId, expiresAt: reservation.expiresAt.toISOString() } };
}

export function reservationFailedEvent(orderId: string, failure: ReservationFailure): InventoryEvent {
  return { name: 'reservationFailed', payload: { orderId, reason: failure.reason, skus: [...failure.skus] } };
}

export function releasedEvent(orderId: string, reason: StockReleasedV1['reason']): InventoryEvent {
  return { name: 'released', payload: { orderId, reason } };
}

export function committedEvent(orderId: string): InventoryEvent {
  return { name: 'committed', payload: { orderId } };
}

export function commitFailedEvent(orderId: string): InventoryEvent {
  return { name: 'commitFailed', payload: { orderId, reason: 'reservation-expired' } };
}

export function restockedEvent(orderId: string): InventoryEvent {
  return { name: 'restocked', payload: { orderId } };
}

/**
 * The answer to a reserve command for an order that already has a reservation: whether the order got
 * its stock (`reserved`, also once committed or restocked), never did (`reservation-failed`), or had it
 * and gave it back (`released`, with why).
 */
export function reservationOutcomeEvent(reservation: Reservation): InventoryEvent {
  switch (reservation.status) {
    case 'active':
    case 'committed':
    case 'restocked':
      return reservedEvent(reservation);
    case 'failed':
      return reservationFailedEvent(reservation.orderId, reservation.failure ?? { reason: 'insufficient-stock', skus: [] });
    case 'released':
      return releasedEvent(reservation.orderId, 'requested');
    case 'expired':
      return releasedEvent(reservation.orderId, 'expired');
  }
}
