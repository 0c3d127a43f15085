import { AsyncLocalStorage } from 'node:async_hooks';
import type { Transaction } from 'kysely';
import type { Database } from './database.ts';

interface Shared {
  readonly db: Database;
  readonly transaction: Transaction<object>;
}

const shared = new AsyncLocalStorage<Shared>();

/**
 * Runs `work` in one transaction of `db` that the writers it calls join (`inSharedTransaction` on
 * the same `db`), so their writes commit together or not at all: an import chunk's products, stock
 * levels and checkpoint, where their modules share one database (the single process). A writer on
 * another database, or one reached over HTTP, keeps its own transaction.
 */
export function runInSharedTransaction<T>(db: Database, work: () => Promise<T>): Promise<T> {
  return db.transaction().execute((transaction) => shared.run({ db, transaction }, work));
}

/**
 * Runs `work` in the shared transaction of `db` the caller runs in (`runInSharedTransaction`), or in
 * a transaction of its own when there is none on that same handle. `db` is the handle the writer
 * was given (not one derived from it), so writers on another database never join.
 */
export function inSharedTransaction<T>(db: Database, work: (transaction: Transaction<object>) => Promise<T>): Promise<T> {
  const current = shared.getStore();
  if (current?.db === db) return work(current.transaction);
  return db.transaction().execute(work);
}
