import type { Transaction } from 'kysely';
import type { Envelope } from './envelope.ts';
import type { MessageConsumer } from './inbox.ts';

/** What a batch of messages is applied to in memory, then written once, after every `handle`. */
export interface BatchStore {
  write(): Promise<void>;
}

/**
 * The batch half of a consumer whose effects are applied in memory: `lockForBatch` opens the
 * batch's store (locking and reading what the batch can touch), `finishBatch` writes it, and
 * `of(transaction)` is the store `handle` uses for a message of that batch — undefined for a
 * message handled alone, which goes through the consumer's usual repository.
 */
export function batchStores<Store extends BatchStore>(
  open: (envelopes: readonly Envelope[], transaction: Transaction<object>) => Promise<Store>,
): Required<Pick<MessageConsumer, 'lockForBatch' | 'finishBatch'>> & { of(transaction: Transaction<object>): Store | undefined } {
  const stores = new WeakMap<Transaction<object>, Store>();
  return {
    async lockForBatch(envelopes, transaction) {
      stores.set(transaction, await open(envelopes, transaction));
    },
    async finishBatch(_envelopes, transaction) {
      await stores.get(transaction)?.write();
    },
    of: (transaction) => stores.get(transaction),
  };
}
