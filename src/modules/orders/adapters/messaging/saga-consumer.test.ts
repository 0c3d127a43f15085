import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { createEnvelope } from '../../../../platform/messaging/index.ts';
import { inventoryMessages } from '../../../inventory/contract.ts';
import { paymentsMessages } from '../../../payments/contract.ts';
import { toSagaEvent } from './saga-consumer.ts';

describe('toSagaEvent', () => {
  test('when a payload keeps the contract, then the event names the order and carries what the saga needs', () => {
    const refunded = createEnvelope({ ...paymentsMessages.refunded, key: 'ord_1', payload: { orderId: 'ord_1', amount: { amount: 1250, currency: 'EUR' } } });
    const failed = createEnvelope({
      ...inventoryMessages.reservationFailed, key: 'ord_2', payload: { orderId: 'ord_2', reason: 'insufficient-stock', skus: ['SKU-1', 'SKU-2'] },
    });
    const released = createEnvelope({ ...inventoryMessages.released, key: 'ord_3', payload: { orderId: 'ord_3', reason: 'expired', extra: 'ignored' } });

    assert.deepEqual(toSagaEvent(refunded), { orderId: 'ord_1', event: { kind: 'payment-refunded', amount: { amount: 1250, currency: 'EUR' } } });
    assert.deepEqual(toSagaEvent(failed), {
      orderId: 'ord_2', event: { kind: 'step-failed', step: 'reserve-stock', reason: 'insufficient-stock: SKU-1, SKU-2' },
    });
    assert.deepEqual(toSagaEvent(released), { orderId: 'ord_3', event: { kind: 'stock-released', expired: true } });
  });

  test('when a payload breaks the contract, then it throws naming the message and the field instead of guessing', () => {
    const noOrder = createEnvelope({ ...inventoryMessages.reserved, key: 'ord_1', payload: { expiresAt: '2026-01-01T00:00:00Z' } });
    const unknownReason = createEnvelope({ ...paymentsMessages.declined, key: 'ord_1', payload: { orderId: 'ord_1', reason: 'moon-phase' } });
    const textAmount = createEnvelope({ ...paymentsMessages.refunded, key: 'ord_1', payload: { orderId: 'ord_1', amount: { amount: '12.50', currency: 'EUR' } } });

    assert.throws(() => toSagaEvent(noOrder), /inventory\.reserved .* malformed payload[\s\S]*orderId/);
    assert.throws(() => toSagaEvent(unknownReason), /payments\.declined .* malformed payload[\s\S]*reason/);
    assert.throws(() => toSagaEvent(textAmount), /payments\.refunded .* malformed payload[\s\S]*amount/);
  });

  test('when the version is not the one the saga reads, then it throws', () => {
    const envelope = createEnvelope({ type: paymentsMessages.captured.type, version: 2, key: 'ord_1', payload: { orderId: 'ord_1' } });

    assert.throws(() => toSagaEvent(envelope), /payments\.captured v2 .* not understood; the order saga reads v1/);
  });

  test('when the type is not one the saga follows, then there is no event', () => {
    assert.equal(toSagaEvent(createEnvelope({ type: 'inventory.stock-level-set', version: 1, key: 'SKU-1', payload: {} })), undefined);
  });
});
