import type { Envelope, MessageConsumer } from '../../../../platform/messaging/index.ts';
import {
  inventoryMessages, type ReservationFailedV1, type StockReleasedV1,
} from '../../../inventory/index.ts';
import { paymentsMessages, type PaymentCaptureFailedV1, type PaymentDeclinedV1, type PaymentRefundedV1 } from '../../../payments/index.ts';
import type { AdvanceSaga } from '../../application/advance-saga.ts';
import type { SagaEvent } from '../../domain/order-saga.ts';
import { PgOrderStore } from '../postgres/pg-order-store.ts';

/** Translates what inventory and payments report into the order's saga events. */
export function toSagaEvent(envelope: Envelope): SagaEvent | undefined {
  switch (envelope.type) {
    case inventoryMessages.reserved.type:
      return { kind: 'step-succeeded', step: 'reserve-stock' };
    case inventoryMessages.reservationFailed.type: {
      const payload = envelope.payload as ReservationFailedV1;
      return { kind: 'step-failed', step: 'reserve-stock', reason: `${payload.reason}: ${payload.skus.join(', ')}` };
    }
    case inventoryMessages.released.type:
      return { kind: 'stock-released', expired: (envelope.payload as StockReleasedV1).reason === 'expired' };
    case inventoryMessages.committed.type:
      return { kind: 'step-succeeded', step: 'commit-stock' };
    case inventoryMessages.commitFailed.type:
      return { kind: 'step-failed', step: 'commit-stock', reason: 'reservation-expired' };
    case inventoryMessages.restocked.type:
      return { kind: 'stock-restocked' };
    case paymentsMessages.authorized.type:
      return { kind: 'step-succeeded', step: 'authorize-payment' };
    case paymentsMessages.declined.type:
      return { kind: 'step-failed', step: 'authorize-payment', reason: `payment-declined: ${(envelope.payload as PaymentDeclinedV1).reason}` };
    case paymentsMessages.captured.type:
      return { kind: 'step-succeeded', step: 'capture-payment' };
    case paymentsMessages.captureFailed.type:
      return { kind: 'step-failed', step: 'capture-payment', reason: `capture-failed: ${(envelope.payload as PaymentCaptureFailedV1).reason}` };
    case paymentsMessages.voided.type:
      return { kind: 'payment-voided' };
    case paymentsMessages.refunded.type:
      return { kind: 'payment-refunded', amount: (envelope.payload as PaymentRefundedV1).amount };
    default:
      return undefined;
  }
}

const sagaEventTypes = [
  inventoryMessages.reserved, inventoryMessages.reservationFailed, inventoryMessages.released, inventoryMessages.committed,
  inventoryMessages.commitFailed, inventoryMessages.restocked, paymentsMessages.authorized, paymentsMessages.declined,
  paymentsMessages.captured, paymentsMessages.captureFailed, paymentsMessages.voided, paymentsMessages.refunded,
].map((message) => message.type);

/**
 * The orchestrator's ears: every inventory and payments event about an order moves its saga, in the
 * inbox transaction. What a transition reports waits for that transaction's commit (`afterCommit`
 * gets the same envelope object; a rolled-back attempt's report is dropped with it).
 */
export function sagaConsumer(advanceSaga: AdvanceSaga): MessageConsumer {
  const reports = new WeakMap<Envelope, () => void>();
  return {
    name: 'orders.saga',
    types: sagaEventTypes,
    async handle(envelope, transaction) {
      const event = toSagaEvent(envelope);
      const orderId = (envelope.payload as { orderId?: unknown }).orderId;
      if (event === undefined || typeof orderId !== 'string') return;
      reports.set(envelope, await advanceSaga.execute(new PgOrderStore(transaction), orderId, event));
    },
    afterCommit(envelope) {
      const report = reports.get(envelope);
      reports.delete(envelope);
      report?.();
    },
  };
}
