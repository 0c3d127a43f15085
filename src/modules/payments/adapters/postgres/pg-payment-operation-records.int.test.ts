import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { sql } from 'kysely';
import type { Database } from '../../../../platform/database/database.ts';
import { messagingMigrations } from '../../../../platform/messaging/index.ts';
import { createTestDatabase, embeddedServerUrl } from '../../../../platform/testing/test-database.ts';
import { paymentsMigrations } from '../../index.ts';
import { anOrderId } from '../../testing/payment-builders.ts';
import { PgPaymentOperationRecords } from './pg-payment-operation-records.ts';

let db: Database;
let drop: () => Promise<void>;
let records: PgPaymentOperationRecords;

before(async () => {
  ({ db, drop } = await createTestDatabase(embeddedServerUrl(), [messagingMigrations, paymentsMigrations]));
  records = new PgPaymentOperationRecords(db);
});
after(async () => { await drop(); });

async function anOperation(orderId: string, kind: string, status = 'failed'): Promise<number> {
  const inserted = await sql<{ id: number }>`
    insert into payments.operations (order_id, kind, status, attempts, outcome, detail, next_attempt_at)
    values (${orderId}, ${kind}, ${status}, 5, ${status}, 'timeout', now() + interval '1 hour') returning id`.execute(db);
  return Number(inserted.rows[0]?.id);
}

const statusOf = async (id: number) => (await sql<{ status: string }>`select status from payments.operations where id = ${id}`.execute(db)).rows[0]?.status;

describe('PgPaymentOperationRecords.requeueFailed', () => {
  test('when a failed capture\'s order has asked for a void since it was read, then it stays failed; a failed void is re-queued due now with no attempts', async () => {
    const orderId = anOrderId();
    const capture = await anOperation(orderId, 'capture');
    assert.equal((await records.findForRetry(capture))?.orderGaveUp, false);
    const voidId = await anOperation(orderId, 'void');

    assert.equal(await records.requeueFailed(capture), undefined);
    assert.equal(await statusOf(capture), 'failed');

    const requeued = await records.requeueFailed(voidId);
    assert.deepEqual([requeued?.status, requeued?.attempts, requeued?.outcome], ['pending', 0, null]);
    const due = await sql<{ due: boolean }>`select next_attempt_at <= now() as due from payments.operations where id = ${voidId}`.execute(db);
    assert.equal(due.rows[0]?.due, true);
    assert.equal(await records.requeueFailed(voidId), undefined);
  });

  test('when a failed capture\'s order asked for nothing else, then it is re-queued', async () => {
    const capture = await anOperation(anOrderId(), 'capture');
    assert.equal((await records.requeueFailed(capture))?.status, 'pending');
  });
});
