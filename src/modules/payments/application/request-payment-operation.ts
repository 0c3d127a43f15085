import { requireOrderId } from '../domain/payment.ts';
import type { PaymentRepository } from './ports.ts';

/**
 * Queues a capture, void or refund of an order's payment for the worker. An order has at most one
 * of each, so a repeated command (redelivered, or sent again) has no second effect.
 */
export class RequestPaymentOperation {
  readonly #payments: PaymentRepository;

  constructor(deps: { payments: PaymentRepository }) {
    this.#payments = deps.payments;
  }

  async execute(orderId: string, kind: 'capture' | 'void' | 'refund'): Promise<'queued' | 'duplicate'> {
    await this.#payments.lockOrder(requireOrderId(orderId));
    return (await this.#payments.addOperation(orderId, kind)) ? 'queued' : 'duplicate';
  }
}
