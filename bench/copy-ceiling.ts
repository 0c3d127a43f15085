import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { measureImportTablesCopy } from './import-tables-copy.ts';
import { median } from './statistics.ts';

/** What one COPY ceiling measured: the rows each COPY moved, and how long each of its runs took. */
export interface CopyMeasurement {
  /** The import's ceiling only: the same COPY into a table with the catalogue's indexes, measured the same way. */
  withCatalogueIndexes?: Omit<CopyMeasurement, 'withCatalogueIndexes' | 'intoImportTables'>;
  /** The import's ceiling only: the same rows copied into tables shaped as the three an import writes (see `measureImportTablesCopy`). */
  intoImportTables?: Omit<CopyMeasurement, 'withCatalogueIndexes' | 'intoImportTables'>;
  rows: number;
  /** Each run's time in seconds, in the order they ran. */
  runSeconds: number[];
  /** The median run's rows per second. */
  rowsPerSecond: number;
  /** The statement as it ran, the scratch schema's name left out. */
  statement: string;
}

/** How many times each COPY runs; the median is the ceiling, so one run disturbed by other work does not set it. */
export const copyRuns = 3;

/**
 * PostgreSQL's own COPY of a catalogue import file into a scratch table of its columns (products
 * and their stock in one row, the SKU its primary key and only index), read by the server from
 * `file` (which the server's user must be able to read), each run into an emptied table and
 * committed: the ceiling. Then the same COPY into a table that also carries the products table's
 * other indexes (an id primary key, time-ordered as the catalogue's are, and (created_at, id) for
 * the product list), `withCatalogueIndexes`: how much of the gap to the ceiling the catalogue's
 * indexes make by themselves. Then the same rows into tables shaped as the three an import writes, `intoImportTables`:
 * the floor under the import's own writes. Works in a scratch schema of its own (`bench_copy_<random>`), dropped at the end.
 */
export async function measureCopyIn(databaseUrl: string, file: string): Promise<CopyMeasurement> {
  return withClient(databaseUrl, async (client) => {
    const schema = `bench_copy_${randomBytes(4).toString('hex')}`;
    await client.query(`create schema ${schema}`);
    try {
      const bare = await copyInto(client, schema, file);
      const withCatalogueIndexes = await copyIntoIndexed(client, schema, file);
      const tables = await measureImportTablesCopy(client, schema, file, copyRuns);
      const intoImportTables = measurement(tables.runSeconds.map((seconds) => ({ rows: tables.rows, seconds })), tables.statement);
      return { ...bare, withCatalogueIndexes, intoImportTables };
    } finally {
      await client.query(`drop schema if exists ${schema} cascade`).catch(() => undefined);
    }
  });
}

async function copyInto(client: pg.Client, schema: string, file: string): Promise<CopyMeasurement> {
  await client.query(`create table ${schema}.products (sku text primary key, name text not null, description text not null, price bigint not null, currency text not null, stock int not null)`);
  return copyRunsInto(client, schema, 'products', file);
}

async function copyIntoIndexed(client: pg.Client, schema: string, file: string): Promise<CopyMeasurement> {
  await client.query(`create sequence ${schema}.product_ids`);
  // The catalogue's ids sort as they were made (UUID version 7); a zero-padded sequence does the same on any server version.
  await client.query(`create table ${schema}.indexed_products (
    id text primary key default 'prod_' || lpad(nextval('${schema}.product_ids')::text, 20, '0'), sku text not null unique, name text not null,
    description text not null, price bigint not null, currency text not null, stock int not null, created_at timestamptz not null default now())`);
  await client.query(`create index on ${schema}.indexed_products (created_at, id)`);
  return copyRunsInto(client, schema, 'indexed_products', file);
}

/** Copies the file's columns into `table` `copyRuns` times, each into the emptied table. */
async function copyRunsInto(client: pg.Client, schema: string, table: string, file: string): Promise<CopyMeasurement> {
  const statement = `copy ${schema}.${table} (sku, name, description, price, currency, stock) from ${pg.escapeLiteral(file)} with (format csv, header true)`;
  const runs: { rows: number; seconds: number }[] = [];
  for (let run = 0; run < copyRuns; run += 1) {
    await client.query(`truncate ${schema}.${table}`);
    runs.push(await timed(client, statement));
  }
  return measurement(runs, statement.replace(`${schema}.`, 'bench_copy.'));
}

/**
 * PostgreSQL's own COPY of every order (`select * from orders.orders`, as CSV with a header) to
 * `/dev/null` on the server: the orders read and formatted, written nowhere.
 */
export async function measureCopyOut(databaseUrl: string): Promise<CopyMeasurement> {
  return withClient(databaseUrl, async (client) => {
    const statement = `copy (select * from orders.orders) to '/dev/null' with (format csv, header true)`;
    const runs: { rows: number; seconds: number }[] = [];
    for (let run = 0; run < copyRuns; run += 1) runs.push(await timed(client, statement));
    return measurement(runs, statement);
  });
}

async function timed(client: pg.Client, statement: string): Promise<{ rows: number; seconds: number }> {
  const startedAt = performance.now();
  const answered = await client.query(statement);
  return { rows: answered.rowCount ?? 0, seconds: (performance.now() - startedAt) / 1000 };
}

function measurement(runs: readonly { rows: number; seconds: number }[], statement: string): CopyMeasurement {
  const seconds = median(runs.map((run) => run.seconds));
  const rows = runs[0]?.rows ?? 0;
  return { rows, runSeconds: runs.map((run) => run.seconds), rowsPerSecond: seconds > 0 ? rows / seconds : 0, statement };
}

async function withClient<T>(databaseUrl: string, work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: databaseUrl, application_name: 'orderstream-bench-copy' });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}
