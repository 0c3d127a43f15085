import { sql } from 'kysely';
import type { Database } from '../../src/platform/database/database.ts';

/** A table as the migrated database's catalog describes it. */
export interface CatalogTable {
  schema: string;
  name: string;
  columns: { name: string; type: string; nullable: boolean }[];
  primaryKey: string[];
  unique: string[][];
  foreignKeys: { name: string; columns: string[]; toSchema: string; toTable: string; toColumns: string[] }[];
}

/** Columns of ordinary and partitioned tables (not their partitions, which come and go), in their declared order. */
async function readColumns(db: Database, schemas: readonly string[]) {
  return (await sql<{ schema: string; table: string; column: string; type: string; nullable: boolean }>`
    select n.nspname as schema, c.relname as table, a.attname as column,
           t.typname as type, not a.attnotnull as nullable
      from pg_catalog.pg_attribute a
      join pg_catalog.pg_class c on c.oid = a.attrelid
      join pg_catalog.pg_namespace n on n.oid = c.relnamespace
      join pg_catalog.pg_type t on t.oid = a.atttypid
     where n.nspname = any(${[...schemas]}::text[]) and c.relkind in ('r', 'p') and not c.relispartition and a.attnum > 0 and not a.attisdropped
     order by n.nspname, c.relname, a.attnum`.execute(db)).rows;
}

/** Primary keys, unique constraints and foreign keys, their columns in key order. */
async function readConstraints(db: Database, schemas: readonly string[]) {
  return (await sql<{ schema: string; table: string; name: string; kind: string; columns: string[]; to_schema: string | null; to_table: string | null; to_columns: string[] | null }>`
    select n.nspname as schema, c.relname as table, k.conname as name, k.contype as kind,
           array(select a.attname from unnest(k.conkey) with ordinality as key(attnum, position)
                   join pg_catalog.pg_attribute a on a.attrelid = k.conrelid and a.attnum = key.attnum order by key.position)::text[] as columns,
           fn.nspname as to_schema, fc.relname as to_table,
           case when k.contype = 'f' then array(select a.attname from unnest(k.confkey) with ordinality as key(attnum, position)
                   join pg_catalog.pg_attribute a on a.attrelid = k.confrelid and a.attnum = key.attnum order by key.position)::text[] end as to_columns
      from pg_catalog.pg_constraint k
      join pg_catalog.pg_class c on c.oid = k.conrelid
      join pg_catalog.pg_namespace n on n.oid = c.relnamespace
      left join pg_catalog.pg_class fc on fc.oid = k.confrelid
      left join pg_catalog.pg_namespace fn on fn.oid = fc.relnamespace
     where n.nspname = any(${[...schemas]}::text[]) and k.contype in ('p', 'u', 'f') and not c.relispartition
     order by n.nspname, c.relname, k.conname`.execute(db)).rows;
}

/**
 * The tables of `schemas` in a migrated database, read from pg_catalog: columns with their types,
 * primary keys, unique constraints and foreign keys, sorted by schema and table.
 */
export async function readCatalog(db: Database, schemas: readonly string[]): Promise<CatalogTable[]> {
  const tables = new Map<string, CatalogTable>();
  const tableOf = (schema: string, name: string): CatalogTable => {
    const key = `${schema}.${name}`;
    let table = tables.get(key);
    if (table === undefined) {
      table = { schema, name, columns: [], primaryKey: [], unique: [], foreignKeys: [] };
      tables.set(key, table);
    }
    return table;
  };
  for (const row of await readColumns(db, schemas)) tableOf(row.schema, row.table).columns.push({ name: row.column, type: row.type, nullable: row.nullable });
  for (const row of await readConstraints(db, schemas)) {
    const table = tableOf(row.schema, row.table);
    if (row.kind === 'p') table.primaryKey = row.columns;
    else if (row.kind === 'u') table.unique.push(row.columns);
    else table.foreignKeys.push({ name: row.name, columns: row.columns, toSchema: row.to_schema ?? '', toTable: row.to_table ?? '', toColumns: row.to_columns ?? [] });
  }
  return [...tables.values()];
}
