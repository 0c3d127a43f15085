import { z } from 'zod';
import type { Envelope, MessageConsumer } from '../../../../platform/messaging/index.ts';
import { inventoryMessages } from '../../../inventory/contract.ts';
import { paymentsMessages } from '../../../payments/contract.ts';
import type { AdvanceSaga } from '../../application/advance-saga.ts';
import type { SagaEvent } from '../../domain/order-saga.ts';
import type { Order } from '../../domain/order.ts';
import { PgOrderStore, type DeferredOrderUpdates } from '../postgres/pg-order-store.ts';
import {
  paymentAuthorized, paymentCaptured, paymentCaptureFailed, paymentDeclined, paymentRefunded, paymentVoided,
  reservationFailed, restocked, stockCommitFailed, stockCommitted, stockReleased, stockReserved,
} from './saga-event-schemas.ts';
import { sagaSubscription } from './orders-message-schemas.ts';

/**
 * Translates what inventory and payments report into the order it is about and that order's saga
 * event; undefined for a type the saga does not follow. Throws on a version it does not read or a
 * payload that breaks the publisher's contract, before anything is applied.
 */
export function toSagaEvent(envelope: Envelope): { orderId: string; event: SagaEvent } | undefined {
  switch (envelope.type) {
    case inventoryMessages.reserved.type:
      return { orderId: parse(inventoryMessages.reserved, stockReserved, envelope).orderId, event: { kind: 'step-succeeded', step: 'reserve-stock' } };
    case inventoryMessages.reservationFailed.type: {
      const payload = parse(inventoryMessages.reservationFailed, reservationFailed, envelope);
      return { orderId: payload.orderId, event: { kind: 'step-failed', step: 'reserve-stock', reason: `${payload.reason}: ${payload.skus.join(', ')}` } };
    }
    case inventoryMessages.released.type: {
      const payload = parse(inventoryMessages.released, stockReleased, envelope);
      return { orderId: payload.orderId, event: { kind: 'stock-released', expired: payload.reason === 'expired' } };
    }
    case inventoryMessages.committed.type:
      return { orderId: parse(inventoryMessages.committed, stockCommitted, envelope).orderId, event: { kind: 'step-succeeded', step: 'commit-stock' } };
    case inventoryMessages.commitFailed.type:
      return {
        orderId: parse(inventoryMessages.commitFailed, stockCommitFailed, envelope).orderId,
        event: { kind: 'step-failed', step: 'commit-stock', reason: 'reservation-expired' },
      };
    case inventoryMessages.restocked.type:
      return { orderId: parse(inventoryMessages.restocked, restocked, envelope).orderId, event: { kind: 'stock-restocked' } };
    case paymentsMessages.authorized.type:
      return { orderId: parse(paymentsMessages.authorized, paymentAuthorized, envelope).orderId, event: { kind: 'step-succeeded', step: 'authorize-payment' } };
    case paymentsMessages.declined.type: {
      const payload = parse(paymentsMessages.declined, paymentDeclined, envelope);
      return { orderId: payload.orderId, event: { kind: 'step-failed', step: 'authorize-payment', reason: `payment-declined: ${payload.reason}` } };
    }
    case paymentsMessages.captured.type:
      return { orderId: parse(paymentsMessages.captured, paymentCaptured, envelope).orderId, event: { kind: 'step-succeeded', step: 'capture-payment' } };
    case paymentsMessages.captureFailed.type: {
      const payload = parse(paymentsMessages.captureFailed, paymentCaptureFailed, envelope);
      return { orderId: payload.orderId, event: { kind: 'step-failed', step: 'capture-payment', reason: `capture-failed: ${payload.reason}` } };
    }
    case paymentsMessages.voided.type:
      return { orderId: parse(paymentsMessages.voided, paymentVoided, envelope).orderId, event: { kind: 'payment-voided' } };
    case paymentsMessages.refunded.type: {
      const payload = parse(paymentsMessages.refunded, paymentRefunded, envelope);
      return { orderId: payload.orderId, event: { kind: 'payment-refunded', amount: payload.amount } };
    }
    default:
      return undefined;
  }
}

function parse<Payload>(message: { type: string; version: number }, schema: z.ZodType<Payload>, envelope: Envelope): Payload {
  if (envelope.version !== message.version) {
    throw new Error(`${envelope.type} v${envelope.version} (${envelope.id}) is not understood; the order saga reads v${message.version}`);
  }
  const parsed = schema.safeParse(envelope.payload);
  if (!parsed.success) throw new Error(`${envelope.type} ${envelope.id} has a malformed payload: ${z.prettifyError(parsed.error)}`);
  return parsed.data;
}

const sagaEventTypes = sagaSubscription.reads.map(({ message }) => message.type);

/**
 * The orchestrator's ears: every inventory and payments event about an order moves its saga, in the
 * inbox transaction. What a transition reports waits for that transaction's commit (`afterCommit`
 * gets the same envelope object; a rolled-back attempt's report is dropped with it). An event that
 * breaks its contract throws before the saga sees it, so it is retried, then dead-lettered.
 */
export function sagaConsumer(advanceSaga: AdvanceSaga): MessageConsumer {
  const reports = new WeakMap<Envelope, () => void>();
  // The orders a batch's transaction locked up front, read once for all of its events, and their
  // updates, written together once every event of the batch is applied.
  const heldBy = new WeakMap<object, Map<string, Order>>();
  const deferredBy = new WeakMap<object, DeferredOrderUpdates>();
  return {
    name: sagaSubscription.consumer,
    types: sagaEventTypes,
    async handle(envelope, transaction) {
      const translated = toSagaEvent(envelope);
      if (translated === undefined) return;
      reports.set(envelope, await advanceSaga.execute(new PgOrderStore(transaction, heldBy.get(transaction), deferredBy.get(transaction)), translated.orderId, translated.event));
    },
    async lockForBatch(envelopes, transaction) {
      const orderIds = envelopes.flatMap((envelope) => {
        try {
          return [toSagaEvent(envelope)?.orderId ?? []].flat();
        } catch {
          return []; // malformed: its own handle says so
        }
      });
      heldBy.set(transaction, await new PgOrderStore(transaction).lockMany(orderIds));
      deferredBy.set(transaction, new Map());
    },
    async finishBatch(_envelopes, transaction) {
      await new PgOrderStore(transaction, heldBy.get(transaction), deferredBy.get(transaction)).writeDeferred();
    },
    afterCommit(envelope) {
      const report = reports.get(envelope);
      reports.delete(envelope);
      report?.();
    },
  };
}
