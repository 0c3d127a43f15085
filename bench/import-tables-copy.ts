import { once } from 'node:events';
import { createReadStream, createWriteStream, type WriteStream } from 'node:fs';
import { chmod, rm } from 'node:fs/promises';
import path from 'node:path';
import { parse } from 'csv-parse';
import pg from 'pg';

/** The rows of an import file as each table the import writes holds them, one COPY file per table. */
interface TableFiles {
  products: string;
  stockItems: string;
  reportedStock: string;
}

/** What COPY of an import's rows into the tables an import writes measured: every run's time, each the three tables' sum. */
export interface ImportTablesCopy {
  rows: number;
  runSeconds: number[];
  statement: string;
}

/**
 * PostgreSQL's COPY of an import file's rows into tables shaped as the three the import writes for
 * each row, with their columns, keys, indexes and checks as the migrations make them: the catalog's
 * `products` (an id primary key in creation order, the SKU unique, `(created_at, id)`), inventory's
 * `stock_items` (the SKU its key, its format and amounts checked) and the catalog's
 * `reported_stock` (the projection of each SKU's stock). Each run empties the three, then copies
 * into each from a file of its columns written beside `file` (which the server's user must be
 * able to read), each COPY committed; a run's time is the three COPYs' sum. No import can write
 * its rows faster than PostgreSQL copies the same rows into the same tables: the floor under the
 * import's own writes, whatever it does about parsing, checking and events.
 */
export async function measureImportTablesCopy(client: pg.Client, schema: string, file: string, runs: number): Promise<ImportTablesCopy> {
  const files = await writeTableFiles(file);
  try {
    await client.query(`create table ${schema}.catalog_products (
      id text primary key, sku text not null unique, name text not null, description text not null default '',
      price_amount bigint not null check (price_amount >= 0), price_currency char(3) not null,
      created_at timestamptz not null, updated_at timestamptz not null, version integer not null check (version >= 1))`);
    await client.query(`create index on ${schema}.catalog_products (created_at, id)`);
    await client.query(`create table ${schema}.inventory_stock_items (
      sku text primary key, on_hand bigint not null, reserved bigint not null default 0, updated_at timestamptz not null default now(),
      version bigint not null default 1 check (version >= 1),
      check (sku ~ '^[A-Z0-9][A-Z0-9._-]{0,63}$'), check (on_hand >= 0), check (reserved >= 0), check (reserved <= on_hand))`);
    await client.query(`create table ${schema}.catalog_reported_stock (
      sku text primary key, available bigint not null check (available >= 0), stock_version bigint not null check (stock_version >= 1),
      reported_at timestamptz not null default now())`);
    const statements = [
      `copy ${schema}.catalog_products (id, sku, name, description, price_amount, price_currency, created_at, updated_at, version) from ${pg.escapeLiteral(files.products)} with (format csv)`,
      `copy ${schema}.inventory_stock_items (sku, on_hand, reserved, updated_at, version) from ${pg.escapeLiteral(files.stockItems)} with (format csv)`,
      `copy ${schema}.catalog_reported_stock (sku, available, stock_version, reported_at) from ${pg.escapeLiteral(files.reportedStock)} with (format csv)`,
    ];
    const runSeconds: number[] = [];
    let rows = 0;
    for (let run = 0; run < runs; run += 1) {
      await client.query(`truncate ${schema}.catalog_products, ${schema}.inventory_stock_items, ${schema}.catalog_reported_stock`);
      const startedAt = performance.now();
      rows = 0;
      for (const statement of statements) rows = Math.max(rows, (await client.query(statement)).rowCount ?? 0);
      runSeconds.push((performance.now() - startedAt) / 1000);
    }
    return { rows, runSeconds, statement: statements.map((statement) => statement.replaceAll(`${schema}.`, 'bench_copy.').replace(/ from '[^']*'/, ' from …')).join('; ') };
  } finally {
    await Promise.all(Object.values(files).map((written: string) => rm(written, { force: true })));
  }
}

/** Writes each table's rows of the import file beside it, as CSV the server can read. */
async function writeTableFiles(file: string): Promise<TableFiles> {
  const folder = path.dirname(file);
  const files: TableFiles = {
    products: path.join(folder, 'copy-products.csv'), stockItems: path.join(folder, 'copy-stock-items.csv'), reportedStock: path.join(folder, 'copy-reported-stock.csv'),
  };
  const products = createWriteStream(files.products);
  const stock = createWriteStream(files.stockItems);
  const reported = createWriteStream(files.reportedStock);
  const at = new Date().toISOString();
  let index = 0;
  for await (const record of createReadStream(file).pipe(parse({ from_line: 2 }))) {
    const [sku, name, description, price, currency, onHand] = record as string[];
    index += 1;
    // Ids in creation order, as the catalog's are (decision 0032).
    await write(products, [`prod_${String(index).padStart(12, '0')}`, sku, name, description, price, currency, at, at, '1']);
    await write(stock, [sku, onHand, '0', at, '1']);
    await write(reported, [sku, onHand, '1', at]);
  }
  await Promise.all([products, stock, reported].map(async (out) => { out.end(); await once(out, 'finish'); }));
  await Promise.all(Object.values(files).map((written: string) => chmod(written, 0o644)));
  return files;
}

async function write(out: WriteStream, values: readonly (string | undefined)[]): Promise<void> {
  const line = `${values.map((value) => `"${(value ?? '').replaceAll('"', '""')}"`).join(',')}\n`;
  if (!out.write(line)) await once(out, 'drain');
}
