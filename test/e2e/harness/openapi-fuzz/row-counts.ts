import { sql } from 'kysely';
import type { Database } from '../../../../src/platform/database/database.ts';

/** Row counts of a database, read before and after a request to see what it changed. */

/** Row counts per `schema.table`. */
export type RowCounts = ReadonlyMap<string, number>;

/** Rows in every table of the database but those `ignore` matches, in one statement. */
export async function countRows(db: Database, ignore: (table: string) => boolean = () => false): Promise<RowCounts> {
  const tables = await sql<{ name: string }>`
    select quote_ident(table_schema) || '.' || quote_ident(table_name) as name from information_schema.tables
    where table_type = 'BASE TABLE' and table_schema not in ('pg_catalog', 'information_schema') order by 1`.execute(db);
  const names = tables.rows.map((row) => row.name).filter((name) => !ignore(name));
  if (names.length === 0) return new Map();
  const counts = await sql<{ name: string; count: number }>`${sql.raw(names.map((name) => `select '${name.replaceAll("'", "''")}' as name, count(*)::int as count from ${name}`).join(' union all '))}`.execute(db);
  return new Map(counts.rows.map((row) => [row.name, row.count]));
}

/** The tables whose row count differs between two snapshots, as `table: before → after`. */
export function changedTables(before: RowCounts, after: RowCounts): string[] {
  const names = new Set([...before.keys(), ...after.keys()]);
  return [...names].filter((name) => before.get(name) !== after.get(name)).map((name) => `${name}: ${before.get(name) ?? 0} → ${after.get(name) ?? 0}`);
}
