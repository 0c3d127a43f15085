import { sql, type Kysely, type Transaction } from 'kysely';
import type { Database } from '../../../../platform/database/database.ts';
import { appendToOutbox, createEnvelope } from '../../../../platform/messaging/index.ts';
import type { PaymentMessage } from '../../application/payment-messages.ts';
import type { ClaimedOperation, PaymentOperationQueue, ProviderCallRecord, SettleResult } from '../../application/ports.ts';
import type { OperationKind, Settlement } from '../../domain/payment.ts';
import { toPayment, type PaymentsTables } from './payments-tables.ts';

interface ClaimRow {
  id: number;
  order_id: string;
  kind: OperationKind;
  attempts: number;
  claim_token: string;
  traceparent: string | null;
}

/**
 * The worker's queue in PostgreSQL. Claims take row locks only for the claiming statement
 * (`for update skip locked`, so workers never wait on each other); the claim itself is a lease:
 * a token and a `next_attempt_at` pushed into the future, and renewed while the call runs.
 */
export class PgPaymentOperationQueue implements PaymentOperationQueue {
  readonly #db: Kysely<PaymentsTables>;

  constructor(db: Database) {
    this.#db = db.$extendTables<PaymentsTables>();
  }

  async claimDue(limit: number, leaseMs: number): Promise<ClaimedOperation[]> {
    // An operation waits while an earlier one of its order is pending, claimed or not, so an
    // order's operations run strictly in the order they were requested.
    const claimed = await sql<ClaimRow>`
      with due as (
        select o.id
        from payments.operations o
        where o.status = 'pending' and o.next_attempt_at <= now()
          and not exists (
            select 1 from payments.operations earlier
            where earlier.order_id = o.order_id and earlier.status = 'pending' and earlier.id < o.id)
        order by o.next_attempt_at, o.id
        limit ${limit}
        for update of o skip locked
      )
      update payments.operations o
      set attempts = o.attempts + 1, claim_token = gen_random_uuid(),
          next_attempt_at = now() + make_interval(secs => ${leaseMs / 1000}), updated_at = now()
      from due
      where o.id = due.id
      returning o.id, o.order_id, o.kind, o.attempts, o.claim_token, o.traceparent`.execute(this.#db);
    if (claimed.rows.length === 0) return [];
    const payments = await this.#db.selectFrom('payments.payments').selectAll()
      .where('order_id', 'in', claimed.rows.map((row) => row.order_id)).execute();
    const byOrder = new Map(payments.map((row) => [row.order_id, toPayment(row)]));
    return claimed.rows.map((row) => ({
      id: row.id, orderId: row.order_id, kind: row.kind, attempts: row.attempts, claimToken: row.claim_token,
      payment: byOrder.get(row.order_id),
      ...(row.traceparent === null ? {} : { traceparent: row.traceparent }),
    }));
  }

  async settle(claim: ClaimedOperation, settlement: Settlement, message: PaymentMessage | undefined, call: ProviderCallRecord | undefined): Promise<SettleResult> {
    return this.#db.transaction().execute(async (transaction) => {
      // The call happened whoever holds the claim now, so it is recorded either way.
      if (call !== undefined) await recordCall(transaction, call);
      if (claim.payment !== undefined) {
        // The payment row first, as a webhook locks it: a report applied while the call was in flight
        // wins, and this operation is planned again from what it wrote.
        const current = await transaction.selectFrom('payments.payments').select('status')
          .where('order_id', '=', claim.orderId).forUpdate().executeTakeFirst();
        if (current?.status !== claim.payment.status) {
          const released = await transaction.updateTable('payments.operations')
            .set({ claim_token: null, next_attempt_at: sql<Date>`now()`, updated_at: sql<Date>`now()` })
            .where('id', '=', claim.id).where('claim_token', '=', claim.claimToken).where('status', '=', 'pending')
            .executeTakeFirst();
          return released.numUpdatedRows === 0n ? 'claim-lost' : 'payment-moved';
        }
      }
      const updated = await transaction.updateTable('payments.operations')
        .set({
          status: settlement.operation.status, outcome: settlement.operation.outcome, detail: settlement.operation.detail,
          claim_token: null, finished_at: sql<Date>`now()`, updated_at: sql<Date>`now()`,
        })
        .where('id', '=', claim.id).where('claim_token', '=', claim.claimToken).where('status', '=', 'pending')
        .executeTakeFirst();
      if (updated.numUpdatedRows === 0n) return 'claim-lost';
      const payment = settlement.payment;
      if (settlement.paymentChanged && payment !== undefined) {
        await transaction.updateTable('payments.payments')
          .set({ status: payment.status, provider_payment_id: payment.providerPaymentId, decline_reason: payment.declineReason, updated_at: payment.updatedAt })
          .where('order_id', '=', payment.orderId)
          .execute();
      }
      if (message !== undefined) await appendToOutbox(transaction, [createEnvelope(message)]);
      return 'settled';
    });
  }

  async extendLease(claim: ClaimedOperation, leaseMs: number): Promise<boolean> {
    const updated = await this.#db.updateTable('payments.operations')
      .set({ next_attempt_at: sql<Date>`now() + make_interval(secs => ${leaseMs / 1000})` })
      .where('id', '=', claim.id).where('claim_token', '=', claim.claimToken).where('status', '=', 'pending')
      .executeTakeFirst();
    return updated.numUpdatedRows > 0n;
  }

  async retryLater(claim: ClaimedOperation, delayMs: number, call: ProviderCallRecord): Promise<boolean> {
    return this.#db.transaction().execute(async (transaction) => {
      await recordCall(transaction, call);
      const updated = await transaction.updateTable('payments.operations')
        .set({
          next_attempt_at: sql<Date>`now() + make_interval(secs => ${delayMs / 1000})`, claim_token: null,
          detail: call.detail, updated_at: sql<Date>`now()`,
        })
        .where('id', '=', claim.id).where('claim_token', '=', claim.claimToken).where('status', '=', 'pending')
        .executeTakeFirst();
      return updated.numUpdatedRows > 0n;
    });
  }
}

async function recordCall(transaction: Transaction<PaymentsTables>, call: ProviderCallRecord): Promise<void> {
  await transaction.insertInto('payments.provider_calls').values({
    operation_id: call.operationId, order_id: call.orderId, operation: call.call, idempotency_key: call.idempotencyKey,
    attempt: call.attempt, outcome: call.outcome, detail: call.detail, duration_ms: Math.round(call.durationMs), called_at: call.calledAt,
  }).execute();
}
