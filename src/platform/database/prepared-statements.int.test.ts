import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { sql } from 'kysely';
import type pg from 'pg';
import { createTestDatabase, embeddedServerUrl } from '../testing/test-database.ts';
import { createDatabase, openDedicatedConnection, type Database } from './database.ts';
import { maxPreparedStatements, PreparedStatements, preparedAfterUses } from './prepared-statements.ts';

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
