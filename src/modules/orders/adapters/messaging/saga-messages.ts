import { createEnvelope, type Envelope } from '../../../../platform/messaging/index.ts';
import { inventoryMessages, type CommitStockV1, type ReleaseStockV1, type ReserveStockV1, type RestockV1 } from '../../../inventory/contract.ts';
import { paymentsMessages, type AuthorizePaymentV1, type CapturePaymentV1, type RefundPaymentV1, type VoidPaymentV1 } from '../../../payments/contract.ts';
import { ordersEvents, type OrderCancelledV1, type OrderConfirmedV1, type OrderLineV1, type OrderPlacedV1 } from '../../contract.ts';
import type { SagaAction } from '../../domain/order-saga.ts';
import type { Order } from '../../domain/order.ts';

/** The messages that carry out saga actions: commands to inventory and payments, events about the order. */
export function messagesFor(order: Order, actions: readonly SagaAction[]): Envelope[] {
  return actions.map((action) => {
    switch (action.kind) {
      case 'start-step':
        return startStep(order, action.step);
      case 'compensate':
        return compensate(order, action.compensation, action.reason);
      case 'announce-confirmed': {
        const payload: OrderConfirmedV1 = { orderId: order.id, customer: order.customer, lines: lines(order), total: order.total, confirmedAt: order.updatedAt.toISOString() };
        return createEnvelope({ ...ordersEvents.confirmed, key: order.id, payload });
      }
      case 'announce-cancelled': {
        const payload: OrderCancelledV1 = {
          orderId: order.id, customer: order.customer, reason: order.cancellationReason ?? 'cancelled',
          total: order.total, refunded: order.refunded, cancelledAt: order.updatedAt.toISOString(),
        };
        return createEnvelope({ ...ordersEvents.cancelled, key: order.id, payload });
      }
    }
  });
}

/** `orders.placed`, written with the new order. */
export function orderPlacedMessage(order: Order): Envelope {
  const payload: OrderPlacedV1 = { orderId: order.id, customer: order.customer, lines: lines(order), total: order.total, placedAt: order.createdAt.toISOString() };
  return createEnvelope({ ...ordersEvents.placed, key: order.id, payload });
}

function startStep(order: Order, step: Extract<SagaAction, { kind: 'start-step' }>['step']): Envelope {
  const key = order.id;
  switch (step) {
    case 'reserve-stock': {
      const payload: ReserveStockV1 = { orderId: order.id, lines: order.lines.map((line) => ({ sku: line.sku, quantity: line.quantity })) };
      return createEnvelope({ ...inventoryMessages.reserveStock, key, payload });
    }
    case 'authorize-payment': {
      const payload: AuthorizePaymentV1 = { orderId: order.id, amount: order.total, token: order.paymentToken };
      return createEnvelope({ ...paymentsMessages.authorizePayment, key, payload });
    }
    case 'capture-payment': {
      const payload: CapturePaymentV1 = { orderId: order.id };
      return createEnvelope({ ...paymentsMessages.capturePayment, key, payload });
    }
    case 'commit-stock': {
      const payload: CommitStockV1 = { orderId: order.id };
      return createEnvelope({ ...inventoryMessages.commitStock, key, payload });
    }
  }
}

function compensate(order: Order, compensation: Extract<SagaAction, { kind: 'compensate' }>['compensation'], reason: string): Envelope {
  const key = order.id;
  switch (compensation) {
    case 'release-stock': {
      const payload: ReleaseStockV1 = { orderId: order.id, reason };
      return createEnvelope({ ...inventoryMessages.releaseStock, key, payload });
    }
    case 'void-payment': {
      const payload: VoidPaymentV1 = { orderId: order.id, reason };
      return createEnvelope({ ...paymentsMessages.voidPayment, key, payload });
    }
    case 'refund-payment': {
      const payload: RefundPaymentV1 = { orderId: order.id, reason };
      return createEnvelope({ ...paymentsMessages.refundPayment, key, payload });
    }
    case 'restock': {
      const payload: RestockV1 = { orderId: order.id, reason };
      return createEnvelope({ ...inventoryMessages.restock, key, payload });
    }
  }
}

function lines(order: Order): OrderLineV1[] {
  return order.lines.map((line) => ({ sku: line.sku, name: line.name, quantity: line.quantity, unitPrice: line.unitPrice, lineTotal: line.lineTotal }));
}
