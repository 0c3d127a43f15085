import assert from 'node:assert/strict';
import { mkdtemp, writeFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { after, before, describe, test } from 'node:test';
import { sql } from 'kysely';
import { createTestDatabase, databaseServers } from '../testing/test-database.ts';
import { createDatabase } from './database.ts';
import { migrate, MigrationChecksumError, type MigrationSet } from './migrations.ts';

let folder: string;
let set: MigrationSet;

before(async () => {
  folder = await mkdtemp(path.join(tmpdir(), 'orderstream-migrations-'));
  await writeFile(path.join(folder, '001_create_widgets.sql'), 'create table widgets (id int primary key, name text not null);');
  await writeFile(path.join(folder, '002_add_colour.sql'), "alter table widgets add column colour text not null default 'blue';\ncreate index widgets_colour on widgets (colour);");
  await writeFile(path.join(folder, 'README.md'), 'not a migration');
  set = { module: 'widgets', schema: 'widgets', directory: pathToFileURL(`${folder}/`) };
});
after(async () => { await rm(folder, { recursive: true, force: true }); });

for (const server of databaseServers()) {
  describe(`migrate on ${server.name} PostgreSQL`, { skip: server.skip }, () => {
    test('when run twice, then each file is applied once, in order, inside the module schema, and recorded', async () => {
      const database = await createTestDatabase(server.url ?? '', []);
      try {
        assert.deepEqual(await migrate(database.db, [set]), ['widgets/001_create_widgets.sql', 'widgets/002_add_colour.sql']);
        assert.deepEqual(await migrate(database.db, [set]), []);
        await sql`insert into widgets.widgets (id, name) values (1, 'a')`.execute(database.db);
        const recorded = await sql<{ name: string }>`select name from platform.migrations where module = 'widgets' order by name`.execute(database.db);
        assert.deepEqual(recorded.rows.map((row) => row.name), ['001_create_widgets.sql', '002_add_colour.sql']);
      } finally {
        await database.drop();
      }
    });

    test('when two processes migrate at once, then every migration is applied exactly once', async () => {
      const database = await createTestDatabase(server.url ?? '', []);
      const second = createDatabase({ url: database.url, poolSize: 2 });
      try {
        const [first, other] = await Promise.all([migrate(database.db, [set]), migrate(second, [set])]);
        assert.equal(first.length + other.length, 2);
      } finally {
        await second.destroy();
        await database.drop();
      }
    });

    test('when an applied migration was edited, then migrating fails instead of silently diverging', async () => {
      const database = await createTestDatabase(server.url ?? '', []);
      const editedFolder = await mkdtemp(path.join(tmpdir(), 'orderstream-migrations-edited-'));
      try {
        await migrate(database.db, [set]);
        await writeFile(path.join(editedFolder, '001_create_widgets.sql'), 'create table widgets (id bigint primary key);');
        await assert.rejects(migrate(database.db, [{ ...set, directory: pathToFileURL(`${editedFolder}/`) }]), MigrationChecksumError);
      } finally {
        await rm(editedFolder, { recursive: true, force: true });
        await database.drop();
      }
    });

    test('when a migration fails, then it leaves no trace and is not recorded', async () => {
      const database = await createTestDatabase(server.url ?? '', []);
      const brokenFolder = await mkdtemp(path.join(tmpdir(), 'orderstream-migrations-broken-'));
      try {
        await writeFile(path.join(brokenFolder, '001_half.sql'), 'create table half (id int);\nselect * from no_such_table;');
        await assert.rejects(migrate(database.db, [{ module: 'broken', schema: 'broken', directory: pathToFileURL(`${brokenFolder}/`) }]));
        const tables = await sql`select 1 from information_schema.tables where table_name = 'half'`.execute(database.db);
        assert.equal(tables.rows.length, 0);
        const recorded = await sql`select 1 from platform.migrations where module = 'broken'`.execute(database.db);
        assert.equal(recorded.rows.length, 0);
      } finally {
        await rm(brokenFolder, { recursive: true, force: true });
        await database.drop();
      }
    });
  });
}
