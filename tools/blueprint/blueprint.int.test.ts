import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { sql } from 'kysely';
import { createTestDatabase, embeddedServerUrl } from '../../src/platform/testing/test-database.ts';
import { blueprintFolder, drawnSchemas, generateBlueprint, writeBlueprint } from './blueprint.ts';
import { readCatalog } from './catalog.ts';
import { renderDataModel } from './data-model.ts';

const regenerate = 'Regenerate it with `node bin/orderstream.js blueprint` (it writes docs/blueprint/) and commit the result.';

let written: string;

before(async () => {
  written = await mkdtemp(path.join(tmpdir(), 'orderstream-blueprint-'));
  await writeBlueprint(written, await generateBlueprint(embeddedServerUrl()));
});
after(async () => {
  await rm(written, { recursive: true, force: true });
});

describe('docs/blueprint/', () => {
  test('when the blueprint is generated afresh, then the committed files are the same, byte for byte, and there are no others', async () => {
    const fresh = (await readdir(written)).sort();
    const committed = (await readdir(blueprintFolder).catch(() => [])).sort();
    assert.deepEqual(committed, fresh, `docs/blueprint/ should hold exactly the files a fresh run writes. ${regenerate}`);
    for (const file of fresh) {
      const expected = await readFile(path.join(written, file), 'utf8');
      const actual = await readFile(path.join(blueprintFolder, file), 'utf8');
      assert.ok(actual === expected, `docs/blueprint/${file} differs from a fresh run of the code it is drawn from. ${regenerate}`);
    }
  });

  test('when the blueprint is generated twice, then both runs write the same files', async () => {
    const again = await generateBlueprint(embeddedServerUrl());
    for (const [file, text] of again) assert.equal(await readFile(path.join(written, file), 'utf8'), text, `${file} changed between two runs`);
  });
});

describe('the data model read from a migrated database', () => {
  test('when a table is planted in a module schema, then the catalog reads it and its erDiagram shows it', async () => {
    const database = await createTestDatabase(embeddedServerUrl(), []);
    try {
      await sql`create schema orders`.execute(database.db);
      await sql`create table orders.orders (id text primary key)`.execute(database.db);
      await sql`create table orders.planted (id bigint primary key, order_id text references orders.orders (id), note text not null unique)`.execute(database.db);
      const tables = await readCatalog(database.db, drawnSchemas().map((drawn) => drawn.schema));
      const page = renderDataModel([{ schema: 'orders', owner: 'orders' }], tables);
      assert.match(page, /^ {2}planted \{\n {4}int8 id PK\n {4}text order_id FK "nullable"\n {4}text note UK\n {2}\}$/m);
      assert.match(page, /^ {2}orders \|o--o\{ planted : "order_id"$/m);
    } finally {
      await database.drop();
    }
  });
});
