import type { Page, PageCursor, PaymentOperationRecords, PaymentOperationView } from './ports.ts';

/**
 * Lists payment operations oldest first: of one status (the `failed` ones are what an admin acts on,
 * and are listed when nothing else is asked), or every one of an order, optionally of one status.
 */
export class ListPaymentOperations {
  readonly #operations: PaymentOperationRecords;

  constructor(deps: { operations: PaymentOperationRecords }) {
    this.#operations = deps.operations;
  }

  execute(input: { status?: 'pending' | 'failed'; orderId?: string; after?: PageCursor; limit: number }): Promise<Page<PaymentOperationView>> {
    const page = { ...(input.after === undefined ? {} : { after: input.after }), limit: input.limit };
    if (input.orderId !== undefined) return this.#operations.list({ ...page, orderId: input.orderId, ...(input.status === undefined ? {} : { status: input.status }) });
    return this.#operations.list({ ...page, status: input.status ?? 'failed' });
  }
}
