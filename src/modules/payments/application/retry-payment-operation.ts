import { PaymentOperationNotFoundError, PaymentOperationNotRetryableError } from '../domain/payment.errors.ts';
import { whyNotRetryable } from '../domain/payment.ts';
import type { PaymentOperationRecords, PaymentOperationView } from './ports.ts';

/**
 * Puts a failed payment operation back in the queue, due now with fresh attempts, and wakes the
 * worker, which plans it again from the payment as it then stands. Refused when the operation is
 * not failed, or when the payment's state or the order's later requests say it no longer applies.
 */
export class RetryPaymentOperation {
  readonly #operations: PaymentOperationRecords;
  readonly #wakeWorker: () => void;

  constructor(deps: { operations: PaymentOperationRecords; wakeWorker: () => void }) {
    this.#operations = deps.operations;
    this.#wakeWorker = deps.wakeWorker;
  }

  async execute(id: string): Promise<PaymentOperationView> {
    const operationId = /^[1-9][0-9]*$/.test(id) && Number.isSafeInteger(Number(id)) ? Number(id) : undefined;
    const candidate = operationId === undefined ? undefined : await this.#operations.findForRetry(operationId);
    if (operationId === undefined || candidate === undefined) throw new PaymentOperationNotFoundError(id);
    const { operation, payment, orderGaveUp } = candidate;
    if (operation.status !== 'failed') throw new PaymentOperationNotRetryableError(id, `it is ${operation.status}; only failed operations can be retried`);
    const refusal = whyNotRetryable(operation.kind, payment, orderGaveUp);
    if (refusal !== undefined) throw new PaymentOperationNotRetryableError(id, refusal);
    const requeued = await this.#operations.requeueFailed(operationId, {
      action: 'payments.operation-retried', targetId: id,
      before: { status: operation.status, kind: operation.kind, orderId: operation.orderId, attempts: operation.attempts }, after: { status: 'pending', attempts: 0 },
    });
    // Another admin retried it, or the order asked for a void or refund, between the read and the write.
    if (requeued === undefined) throw new PaymentOperationNotRetryableError(id, 'it changed while being retried (retried already, or its order gave up on the payment)');
    this.#wakeWorker();
    return requeued;
  }
}
