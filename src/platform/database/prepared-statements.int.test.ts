import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { sql } from 'kysely';
import type pg from 'pg';
import { createTestDatabase, embeddedServerUrl } from '../testing/test-database.ts';
import { createDatabase, openDedicatedConnection, type Database } from './database.ts';
import { OverloadedError } from '../concurrency/overloaded.ts';
import { maxPreparedStatements, PreparedStatements, preparedAfterUses, StatementChangedError } from './prepared-statements.ts';

let database: { url: string; db: Database; drop: () => Promise<void> };

before(async () => { database = await createTestDatabase(embeddedServerUrl(), []); });
after(async () => { await database.drop(); });

/** The statements the connection running this has prepared, by their text. */
async function preparedOn(db: Database): Promise<string[]> {
  const rows = await sql<{ statement: string }>`select statement from pg_prepared_statements order by statement`.execute(db);
  return rows.rows.map((row) => row.statement);
}

describe('PreparedStatements', () => {
  test('when a text has run fewer times than the threshold, then it gets no name; on the threshold it gets one, the same every time', () => {
    const statements = new PreparedStatements();
    for (let use = 1; use < preparedAfterUses; use += 1) assert.equal(statements.nameOf('select $1'), undefined);
    const name = statements.nameOf('select $1');
    assert.match(name ?? '', /^os_[\w-]+$/);
    assert.equal(statements.nameOf('select $1'), name);
    assert.equal(new PreparedStatements().nameOf('select $2'), undefined);
    assert.notEqual(statements.nameOf('select $1 + 1') ?? 'unnamed', name);
  });

  test('when the cap of names is reached, then further texts run unprepared and the named ones keep their names', () => {
    const statements = new PreparedStatements();
    const named: string[] = [];
    for (let index = 0; index <= maxPreparedStatements; index += 1) {
      let name: string | undefined;
      for (let use = 0; use < preparedAfterUses; use += 1) name = statements.nameOf(`select ${index} + $1`);
      if (name !== undefined) named.push(name);
    }
    assert.equal(named.length, maxPreparedStatements);
    assert.equal(statements.size, maxPreparedStatements);
    assert.equal(statements.nameOf('select 0 + $1'), named[0]);
  });

  test('when a named text is forgotten, then it runs unnamed from then on, however often it runs', () => {
    const statements = new PreparedStatements();
    let name: string | undefined;
    for (let use = 0; use < preparedAfterUses; use += 1) name = statements.nameOf('select * from t where id = $1');
    assert.notEqual(name, undefined);
    statements.forget('select * from t where id = $1');
    for (let use = 0; use < preparedAfterUses * 2; use += 1) assert.equal(statements.nameOf('select * from t where id = $1'), undefined);
    assert.equal(statements.size, 0);
  });
});

describe('a pool keeping statements prepared', () => {
  test('when a statement with parameters runs on a pooled connection, then from the threshold on it is prepared there once and answers as before', async () => {
    const db = createDatabase({ url: database.url, poolSize: 1 });
    try {
      const uses = Array.from({ length: preparedAfterUses + 3 }, (_value, index) => index + 1);
      const answers: number[] = [];
      for (const use of uses) answers.push((await sql<{ doubled: number }>`select ${use}::int * 2 as doubled`.execute(db)).rows[0]?.doubled ?? -1);
      assert.deepEqual(answers, uses.map((use) => use * 2));
      assert.deepEqual(await preparedOn(db), ['select $1::int * 2 as doubled']);
    } finally {
      await db.destroy();
    }
  });

  test('when a prepared statement fails on its values, then the connection still runs it with others, and inside a transaction the failure rolls back as before', async () => {
    const db = createDatabase({ url: database.url, poolSize: 1 });
    try {
      await sql`create table if not exists kept (value int primary key)`.execute(db);
      const insert = (value: number, database: Database = db) => sql`insert into kept (value) values (${value})`.execute(database);
      for (let value = 1; value <= preparedAfterUses; value += 1) await insert(value);
      await assert.rejects(insert(1), /duplicate key/);
      await assert.rejects(db.transaction().execute(async (transaction) => { await insert(10, transaction); await insert(2, transaction); }), /duplicate key/);
      await insert(11);
      const values = await sql<{ value: number }>`select value from kept order by value`.execute(db);
      assert.deepEqual(values.rows.map((row) => row.value), [...Array.from({ length: preparedAfterUses }, (_value, index) => index + 1), 11]);
    } finally {
      await sql`drop table if exists kept`.execute(db);
      await db.destroy();
    }
  });

  test('when a migration adds a column while a pool holds a select * over its table, then outside a transaction it answers with the column at once, and inside one it fails once as work to try again', async () => {
    const db = createDatabase({ url: database.url, poolSize: 1 });
    const migrator = createDatabase({ url: database.url, poolSize: 1 });
    try {
      await sql`create table widened (id int primary key, name text)`.execute(db);
      await sql`insert into widened values (1, 'one')`.execute(db);
      const alone = () => sql<Record<string, unknown>>`select * from widened where id = ${1}`.execute(db);
      const inTransaction = () => db.transaction().execute(async (transaction) => sql<Record<string, unknown>>`select * from widened where id >= ${1}`.execute(transaction));
      const columns = () => sql<{ name: string }>`select name from widened where id = ${1}`.execute(db);
      for (let use = 0; use < preparedAfterUses + 2; use += 1) {
        await alone();
        await inTransaction();
        await columns();
      }
      assert.equal((await preparedOn(db)).length, 3);
      await sql`alter table widened add column extra int not null default 7`.execute(migrator);

      assert.deepEqual((await alone()).rows, [{ id: 1, name: 'one', extra: 7 }]);
      const refused = await inTransaction().then(() => undefined, (error: unknown) => error);
      assert.ok(refused instanceof StatementChangedError, `expected a StatementChangedError, got ${String(refused)}`);
      assert.ok(refused instanceof OverloadedError, 'answered as work to try again (503 with Retry-After, a message delivered again)');
      assert.deepEqual((await inTransaction()).rows, [{ id: 1, name: 'one', extra: 7 }]);
      assert.deepEqual((await columns()).rows, [{ name: 'one' }], 'a statement naming its columns is not affected');
    } finally {
      await sql`drop table if exists widened`.execute(migrator);
      await migrator.destroy();
      await db.destroy();
    }
  });

  test('when a pool is made with prepared statements off, then nothing is prepared', async () => {
    const db = createDatabase({ url: database.url, poolSize: 1, preparedStatements: false });
    try {
      for (let use = 0; use < preparedAfterUses + 2; use += 1) await sql`select ${use}::int as n`.execute(db);
      assert.deepEqual(await preparedOn(db), []);
    } finally {
      await db.destroy();
    }
  });

  test('when a dedicated connection runs a text often, then it is prepared there too', async () => {
    const db = createDatabase({ url: database.url, poolSize: 1 });
    const client: pg.Client = await openDedicatedConnection(db, 'prepared-statements-test');
    try {
      for (let use = 0; use < preparedAfterUses + 1; use += 1) await client.query('select $1::int as n', [use]);
      const rows = await client.query<{ statement: string }>('select statement from pg_prepared_statements');
      assert.deepEqual(rows.rows.map((row) => row.statement), ['select $1::int as n']);
    } finally {
      await client.end();
      await db.destroy();
    }
  });
});
