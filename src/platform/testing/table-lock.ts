import { sql } from 'kysely';
import type { Database } from '../database/database.ts';

/** A lock held on a table by a transaction of its own, as another client stalling writers would. */
export interface HeldTableLock {
  /** Statements waiting for this table's lock right now (those the lock stalls). */
  waiting(): Promise<number>;
  /** Ends the holding transaction; safe to call more than once. */
  release(): Promise<void>;
}

/** Takes an exclusive lock on `table` through `db` and keeps it until `release()`; resolves once the lock is held. */
export async function holdTableLock(db: Database, table: string): Promise<HeldTableLock> {
  const locked = Promise.withResolvers<undefined>();
  const unlock = Promise.withResolvers<undefined>();
  const holding = db.transaction().execute(async (transaction) => {
    await sql`lock table ${sql.table(table)} in exclusive mode`.execute(transaction);
    locked.resolve(undefined);
    await unlock.promise;
  });
  await Promise.race([locked.promise, holding]);
  return {
    async waiting() {
      const rows = await sql<{ count: number }>`
        select count(*)::int as count from pg_locks where not granted and relation = ${table}::regclass`.execute(db);
      return rows.rows[0]?.count ?? 0;
    },
    async release() {
      unlock.resolve(undefined);
      await holding;
    },
  };
}
