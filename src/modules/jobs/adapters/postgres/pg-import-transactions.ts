import type { Database } from '../../../../platform/database/database.ts';
import { runInSharedTransaction } from '../../../../platform/database/shared-transaction.ts';
import type { ImportTransactions } from '../../application/ports.ts';

/**
 * An import chunk's unit of work as one transaction of the jobs database, which the catalog's and
 * inventory's writers join when they are in this process on the same database (the single process):
 * the chunk's products, stock levels, events and checkpoint then commit together. Writers elsewhere
 * (over HTTP, or on another database) commit on their own, idempotent by the chunk's key.
 */
export class PgImportTransactions implements ImportTransactions {
  readonly #db: Database;

  constructor(db: Database) {
    this.#db = db;
  }

  run<T>(work: () => Promise<T>): Promise<T> {
    return runInSharedTransaction(this.#db, work);
  }
}
