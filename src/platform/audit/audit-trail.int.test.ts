import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { sql } from 'kysely';
import { createDatabase, type Database } from '../database/database.ts';
import { migrate } from '../database/migrations.ts';
import { runWithContext } from '../logging/request-context.ts';
import { createTestDatabase, embeddedServerUrl } from '../testing/test-database.ts';
import { runAsActor } from './audit-context.ts';
import { listAuditEntries, recordAdminAct } from './audit-trail.ts';
import { auditMigrations } from './index.ts';

let database: Awaited<ReturnType<typeof createTestDatabase>>;
before(async () => { database = await createTestDatabase(embeddedServerUrl(), [auditMigrations]); });
after(async () => { await database.drop(); });

describe('recording administrative acts', () => {
  test('when the act\'s transaction rolls back after recording it, then no entry remains; when it commits, its entry does', async () => {
    await assert.rejects(database.db.transaction().execute(async (transaction) => {
      await recordAdminAct(transaction, 'catalog', { action: 'catalog.price-changed', targetId: 'prod_rolled_back', before: { price: 1 }, after: { price: 2 } });
      throw new Error('the act failed after recording');
    }), /the act failed/);
    await database.db.transaction().execute(async (transaction) => {
      await recordAdminAct(transaction, 'catalog', { action: 'catalog.price-changed', targetId: 'prod_committed', before: { price: 1 }, after: { price: 2 } });
    });
    const found = await listAuditEntries(database.db, { module: 'catalog', limit: 10 });
    assert.deepEqual(found.map((entry) => entry.targetId), ['prod_committed']);
  });

  test('when an act is recorded for a request, then the entry names its actor, address and request id; outside any request, the command line', async () => {
    await runWithContext({ requestId: 'req-actor' }, () => runAsActor({ id: 'usr_1', email: 'ops@example.com', clientAddress: '198.51.100.4', requestId: 'req-actor' }, async () => {
      await recordAdminAct(database.db, 'inventory', { action: 'inventory.stock-set', targetId: 'SKU-ACTOR', after: { onHand: 1 } });
    }));
    await recordAdminAct(database.db, 'inventory', { action: 'inventory.stock-set', targetId: 'SKU-CLI' });
    const [cli, request] = await listAuditEntries(database.db, { module: 'inventory', limit: 10 });
    assert.deepEqual([request?.actorId, request?.actorEmail, request?.clientAddress, request?.requestId, request?.after], ['usr_1', 'ops@example.com', '198.51.100.4', 'req-actor', { onHand: 1 }]);
    assert.deepEqual([cli?.actorId, cli?.actorEmail, cli?.clientAddress, cli?.requestId, cli?.before, cli?.after], ['cli', null, null, null, null, null]);
  });
});

describe('the audit trail is append-only', () => {
  const role = `audit_app_${randomBytes(4).toString('hex')}`;
  let server: Database;
  let owned: Database;
  let ownedName: string;

  before(async () => {
    server = createDatabase({ url: embeddedServerUrl(), poolSize: 1 });
    ownedName = `test_${role}`;
    const password = randomBytes(12).toString('hex');
    await sql.raw(`create role ${role} login password '${password}'`).execute(server);
    await sql.raw(`create database ${ownedName} owner ${role}`).execute(server);
    const url = new URL(embeddedServerUrl());
    url.username = role;
    url.password = password;
    url.pathname = `/${ownedName}`;
    owned = createDatabase({ url: url.toString(), poolSize: 2 });
    // Migrated by the role the application connects as, which so owns the table.
    await migrate(owned, [auditMigrations]);
    await recordAdminAct(owned, 'identity', { action: 'identity.admin-granted', targetId: 'usr_kept' });
  });
  after(async () => {
    await owned.destroy();
    await sql.raw(`drop database if exists ${ownedName} with (force)`).execute(server);
    await sql.raw(`drop role if exists ${role}`).execute(server);
    await server.destroy();
  });

  test('when the application\'s role (not a superuser, owner of the table) asks, then it holds no UPDATE, DELETE or TRUNCATE privilege and each statement is refused', async () => {
    const privileges = await sql<{ update: boolean; delete: boolean; truncate: boolean; insert: boolean }>`
      select has_table_privilege('audit.entries', 'UPDATE') as update, has_table_privilege('audit.entries', 'DELETE') as delete,
        has_table_privilege('audit.entries', 'TRUNCATE') as truncate, has_table_privilege('audit.entries', 'INSERT') as insert`.execute(owned);
    assert.deepEqual(privileges.rows[0], { update: false, delete: false, truncate: false, insert: true });
    for (const statement of [sql`update audit.entries set actor_id = 'x'`, sql`delete from audit.entries`, sql`truncate audit.entries`]) {
      await assert.rejects(statement.execute(owned), (error: { code?: string }) => error.code === '42501');
    }
    assert.equal((await listAuditEntries(owned, { module: 'identity', limit: 10 })).length, 1);
  });

  test('when a superuser updates, deletes or truncates, then the trigger refuses it all the same', async () => {
    await recordAdminAct(database.db, 'jobs', { action: 'jobs.import-started', targetId: 'job_kept' });
    for (const statement of [sql`update audit.entries set actor_id = 'x'`, sql`delete from audit.entries where module = 'jobs'`, sql`truncate audit.entries`]) {
      await assert.rejects(statement.execute(database.db), (error: { code?: string; message?: string }) => error.code === '42501' && (error.message ?? '').includes('append-only'));
    }
    assert.equal((await listAuditEntries(database.db, { module: 'jobs', limit: 10 })).length, 1);
  });
});
