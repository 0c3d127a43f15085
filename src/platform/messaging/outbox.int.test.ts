import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { sql } from 'kysely';
import type { Database } from '../database/database.ts';
import { createTestDatabase, embeddedServerUrl } from '../testing/test-database.ts';
import { createEnvelope, messagingMigrations } from './index.ts';
import { appendToOutbox } from './outbox.ts';
import type { OutboxRow } from './outbox-relay.ts';

type OutboxRecord = Omit<OutboxRow, 'position'> & { sent_at: Date | null };

describe('appendToOutbox', () => {
  let database: Awaited<ReturnType<typeof createTestDatabase>>;
  let db: Database;

  before(async () => {
    database = await createTestDatabase(embeddedServerUrl(), [messagingMigrations]);
    db = database.db;
    await sql`create table public.scratch_orders (id text primary key)`.execute(db);
  });

  after(async () => {
    await database.drop();
  });

  test('when the transaction commits, then the message is in the outbox, unsent, with every envelope field', async () => {
    const envelope = {
      ...createEnvelope({ type: 'orders.order-placed', version: 1, key: 'order-1', payload: { total: 1250, items: ['sku-1'] }, occurredAt: new Date('2024-05-01T10:00:00.000Z') }),
      traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
      requestId: 'request-1',
    };

    await db.transaction().execute(async (transaction) => {
      await sql`insert into public.scratch_orders (id) values ('order-1')`.execute(transaction);
      await appendToOutbox(transaction, [envelope]);
    });

    const rows = await sql<OutboxRecord>`
      select id, topic, type, version, key, occurred_at, traceparent, request_id, payload, sent_at
      from messaging.outbox where id = ${envelope.id}`.execute(db);
    assert.equal(rows.rows.length, 1);
    const row = rows.rows[0]!;
    assert.equal(row.topic, 'orderstream.orders.v1');
    assert.equal(row.type, 'orders.order-placed');
    assert.equal(row.version, 1);
    assert.equal(row.key, 'order-1');
    assert.equal(row.occurred_at.toISOString(), '2024-05-01T10:00:00.000Z');
    assert.equal(row.traceparent, envelope.traceparent);
    assert.equal(row.request_id, 'request-1');
    assert.deepEqual(row.payload, { total: 1250, items: ['sku-1'] });
    assert.equal(row.sent_at, null);
  });

  test('when the transaction throws, then neither the business row nor the outbox row exists', async () => {
    const envelope = createEnvelope({ type: 'orders.order-placed', version: 1, key: 'order-2', payload: { total: 1 } });

    await assert.rejects(
      db.transaction().execute(async (transaction) => {
        await sql`insert into public.scratch_orders (id) values ('order-2')`.execute(transaction);
        await appendToOutbox(transaction, [envelope]);
        throw new Error('business rule failed after the append');
      }),
      /business rule failed after the append/,
    );

    const business = await sql<{ count: number }>`select count(*)::int as count from public.scratch_orders where id = 'order-2'`.execute(db);
    const outbox = await sql<{ count: number }>`select count(*)::int as count from messaging.outbox where id = ${envelope.id}`.execute(db);
    assert.equal(business.rows[0]?.count, 0);
    assert.equal(outbox.rows[0]?.count, 0);
  });

  test('when several messages are appended at once, then they keep their order in the outbox', async () => {
    const envelopes = ['a', 'b', 'c'].map((key) => createEnvelope({ type: 'orders.order-placed', version: 1, key, payload: { key } }));

    await db.transaction().execute(async (transaction) => {
      await appendToOutbox(transaction, envelopes);
    });

    const rows = await sql<{ id: string }>`
      select id from messaging.outbox where id = any(${envelopes.map((envelope) => envelope.id)}::uuid[]) order by position`.execute(db);
    assert.deepEqual(rows.rows.map((row) => row.id), envelopes.map((envelope) => envelope.id));
  });
});
