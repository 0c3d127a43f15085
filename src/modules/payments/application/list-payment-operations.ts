import type { Page, PageCursor, PaymentOperationRecords, PaymentOperationView } from './ports.ts';

/** Lists payment operations of one status, oldest first; the `failed` ones are what an admin acts on. */
export class ListPaymentOperations {
  readonly #operations: PaymentOperationRecords;

  constructor(deps: { operations: PaymentOperationRecords }) {
    this.#operations = deps.operations;
  }

  execute(input: { status: 'pending' | 'failed'; after?: PageCursor; limit: number }): Promise<Page<PaymentOperationView>> {
    return this.#operations.list({
      status: input.status,
      ...(input.after === undefined ? {} : { after: input.after }),
      limit: input.limit,
    });
  }
}
