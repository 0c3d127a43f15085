import assert from 'node:assert/strict';
import { chmod, mkdtemp, readdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { sql } from 'kysely';
import { createTestDatabase, embeddedServerUrl } from '../src/platform/testing/test-database.ts';
import { copyRuns, measureCopyIn, measureCopyOut } from './copy-ceiling.ts';
import { writeImportFile } from './import-file.ts';

test('when the import file is copied in by the server, then every row lands in a scratch table each run, and the scratch schema is gone afterwards', async () => {
  const database = await createTestDatabase(embeddedServerUrl(), []);
  const folder = await mkdtemp(path.join('/var/tmp', 'orderstream-copy-test-'));
  try {
    // The server reads the file as its own user.
    await chmod(folder, 0o755);
    const file = path.join(folder, 'products.csv');
    await writeImportFile(file, 2000, 'COPYTEST');
    await chmod(file, 0o644);

    const copy = await measureCopyIn(database.url, file);

    assert.equal(copy.rows, 2000);
    assert.equal(copy.runSeconds.length, copyRuns);
    assert.ok(copy.rowsPerSecond > 0);
    assert.match(copy.statement, /^copy bench_copy\.products \(sku, name, description, price, currency, stock\) from '.*products\.csv' with \(format csv, header true\)$/);
    assert.equal(copy.withCatalogueIndexes?.rows, 2000, 'the same rows copied into a table with the catalogue\'s indexes');
    assert.equal(copy.withCatalogueIndexes.runSeconds.length, copyRuns);
    assert.match(copy.withCatalogueIndexes.statement, /^copy bench_copy\.indexed_products \(sku, name, description, price, currency, stock\) from /);
    assert.equal(copy.intoImportTables?.rows, 2000, 'the same rows copied into tables shaped as the import\'s three');
    assert.equal(copy.intoImportTables.runSeconds.length, copyRuns);
    assert.match(copy.intoImportTables.statement, /^copy bench_copy\.catalog_products \(id, sku, .*; copy bench_copy\.inventory_stock_items .*; copy bench_copy\.catalog_reported_stock /);
    const leftFiles = (await readdir(folder)).sort();
    assert.deepEqual(leftFiles, ['products.csv'], 'the tables\' files are removed');
    const left = await sql<{ count: number }>`select count(*)::int as count from information_schema.schemata where schema_name like 'bench_copy_%'`.execute(database.db);
    assert.equal(left.rows[0]?.count, 0);
  } finally {
    await rm(folder, { recursive: true, force: true });
    await database.drop();
  }
});

test('when every order is copied out to nowhere, then each run counts every row of orders.orders', async () => {
  const database = await createTestDatabase(embeddedServerUrl(), []);
  try {
    await sql`create schema orders`.execute(database.db);
    await sql`create table orders.orders (id text primary key, lines jsonb not null)`.execute(database.db);
    await sql`insert into orders.orders select 'ord_' || g, '[{"sku": "A"}]' from generate_series(1, 1500) g`.execute(database.db);

    const copy = await measureCopyOut(database.url);

    assert.equal(copy.rows, 1500);
    assert.equal(copy.runSeconds.length, copyRuns);
  } finally {
    await database.drop();
  }
});
