import { sql } from 'kysely';
import type { Database } from './database.ts';

/** How big one table is: PostgreSQL's row estimate and its bytes with indexes and TOAST. */
export interface TableSize {
  /** Schema-qualified, e.g. `messaging.inbox`. */
  table: string;
  estimatedRows: number;
  bytes: number;
}

/**
 * The size of every ordinary table outside PostgreSQL's own schemas, read from the catalog without
 * touching the tables (a count would scan them), in one short transaction whose statement may run
 * at most `timeoutMs`. A table never analyzed yet counts 0 rows.
 */
export async function readTableSizes(db: Database, options: { timeoutMs: number }): Promise<TableSize[]> {
  return db.transaction().execute(async (transaction) => {
    await sql`select set_config('statement_timeout', ${String(Math.max(1, Math.round(options.timeoutMs)))}, true)`.execute(transaction);
    const result = await sql<{ table: string; estimated_rows: number; bytes: string }>`
      select n.nspname || '.' || c.relname as table, greatest(c.reltuples, 0)::float8 as estimated_rows, pg_total_relation_size(c.oid) as bytes
      from pg_class c join pg_namespace n on n.oid = c.relnamespace
      where c.relkind in ('r', 'p') and n.nspname not in ('pg_catalog', 'information_schema') and left(n.nspname, 3) <> 'pg_'
      order by 1`.execute(transaction);
    return result.rows.map((row) => ({ table: row.table, estimatedRows: row.estimated_rows, bytes: Number(row.bytes) }));
  });
}
