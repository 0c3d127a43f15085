import { sql, type Kysely, type Transaction } from 'kysely';
import type { Database } from '../../../../platform/database/database.ts';
import { WriteCoalescer } from '../../../../platform/concurrency/write-coalescer.ts';
import { appendToOutbox, createEnvelope, type Envelope } from '../../../../platform/messaging/index.ts';
import { claimDue, leaseHeld, leasesHeldBy, msFromNow, type TokenWorkTable } from '../../../../platform/work-queue/index.ts';
import type { PaymentMessage } from '../../application/payment-messages.ts';
import type { ClaimedOperation, PaymentOperationQueue, ProviderCallRecord, SettleResult } from '../../application/ports.ts';
import type { DeclineReason, OperationKind, Payment, PaymentStatus, Settlement } from '../../domain/payment.ts';
import { toPayment, type PaymentsTables } from './payments-tables.ts';

/** A claim takes an attempt and a fresh token; done and failed operations stay as the record. */
const operations: TokenWorkTable = {
  name: 'payments.operations', alias: 'o', key: ['id'], token: 'claim_token', countsAttemptOnClaim: true, pending: { column: 'status', is: 'pending' },
};

interface ClaimRow {
  id: number;
  order_id: string;
  kind: OperationKind;
  attempts: number;
  claim_token: string;
  traceparent: string | null;
  /** The order's payment, null columns when it has none (joined by the claiming statement). */
  payment_id: string | null;
  amount: number | null;
  currency: string | null;
  token: string | null;
  payment_status: PaymentStatus | null;
  provider_payment_id: string | null;
  decline_reason: DeclineReason | null;
  payment_created_at: Date | null;
  payment_updated_at: Date | null;
}

/** A settlement to write. */
interface PendingSettle {
  claim: ClaimedOperation;
  settlement: Settlement;
  /** Made in the caller's context, so the event carries the caller's trace and request. */
  envelope: Envelope | undefined;
  call: ProviderCallRecord | undefined;
}

/**
 * The worker's queue in PostgreSQL. Claims take row locks only for the claiming statement
 * (`for update skip locked`, so workers never wait on each other); the claim itself is a lease:
 * a token and a `next_attempt_at` pushed into the future, and renewed while the call runs.
 *
 * Settlements are written together: those that arrive while one settling transaction runs wait for
 * it and then go in the next one, in a handful of set-based statements whatever their number, so
 * the worker's provider calls finishing at once cost one commit, not one each. When such a
 * transaction fails, each of its settlements is written again alone, so one that cannot be written
 * fails only its own operation (left claimed, it is taken again when its lease ends).
 */
export class PgPaymentOperationQueue implements PaymentOperationQueue {
  readonly #db: Kysely<PaymentsTables>;
  /** One settlement per order in a transaction: a second one (a stale claim's) waits for the next. */
  readonly #settlements = new WriteCoalescer<PendingSettle, SettleResult>({
    keyOf: (pending) => pending.claim.orderId,
    together: (batch) => this.#settleTogether(batch),
    alone: (pending) => this.#settleOne(pending),
  });

  constructor(db: Database) {
    this.#db = db.$extendTables<PaymentsTables>();
  }

  async claimDue(limit: number, leaseMs: number): Promise<ClaimedOperation[]> {
    // An operation waits while an earlier one of its order is pending, claimed or not, so an
    // order's operations run strictly in the order they were requested.
    // One statement claims them and reads their orders' payments (as they stand when it runs).
    const claimed = await claimDue<ClaimRow>(operations, {
      limit, leaseUntil: msFromNow(leaseMs), tiebreak: ['id'],
      where: sql`not exists (
        select 1 from payments.operations earlier
        where earlier.order_id = o.order_id and earlier.status = 'pending' and earlier.id < o.id)`,
      set: sql`updated_at = now()`,
      carry: ['order_id'],
      join: sql`left join payments.payments as p on p.order_id = due.order_id`,
      returning: sql`o.id, o.order_id, o.kind, o.attempts, o.claim_token, o.traceparent,
        p.id as payment_id, p.amount, p.currency, p.token, p.status as payment_status, p.provider_payment_id, p.decline_reason,
        p.created_at as payment_created_at, p.updated_at as payment_updated_at`,
    }).execute(this.#db);
    return claimed.rows.map((row) => ({
      id: row.id, orderId: row.order_id, kind: row.kind, attempts: row.attempts, claimToken: row.claim_token,
      payment: paymentOf(row),
      ...(row.traceparent === null ? {} : { traceparent: row.traceparent }),
    }));
  }

  settle(claim: ClaimedOperation, settlement: Settlement, message: PaymentMessage | undefined, call: ProviderCallRecord | undefined): Promise<SettleResult> {
    return this.#settlements.write({ claim, settlement, envelope: message === undefined ? undefined : createEnvelope(message), call });
  }

  /** How many settling transactions committed, writing how many settlements (for tests and diagnosis). */
  settleCounts(): { transactions: number; settlements: number } {
    const { writes, items } = this.#settlements.counts();
    return { transactions: writes, settlements: items };
  }

  /**
   * Several settlements (of distinct orders) in one transaction, each with the outcome it would
   * have alone: the calls recorded, the payments locked in order-id order (as any batch takes
   * them), operations whose payment moved released, the others settled if their claim holds, the
   * changed payments written and the events appended.
   */
  async #settleTogether(batch: readonly PendingSettle[]): Promise<SettleResult[]> {
    return this.#db.transaction().execute(async (transaction) => {
      const calls = batch.flatMap((pending) => (pending.call === undefined ? [] : [pending.call]));
      if (calls.length > 0) await transaction.insertInto('payments.provider_calls').values(calls.map(callRow)).execute();
      const withPayment = batch.filter((pending) => pending.claim.payment !== undefined).map((pending) => pending.claim.orderId).sort();
      const current = withPayment.length === 0 ? [] : (await sql<{ order_id: string; status: string }>`
        select order_id, status from payments.payments where order_id = any(${withPayment}::text[]) order by order_id for update`.execute(transaction)).rows;
      const statusOf = new Map(current.map((row) => [row.order_id, row.status]));
      const moved = batch.filter((pending) => pending.claim.payment !== undefined && statusOf.get(pending.claim.orderId) !== pending.claim.payment.status);
      const settling = batch.filter((pending) => !moved.includes(pending));

      const released = moved.length === 0 ? new Set<number>() : idsOf(await sql<{ id: number }>`
        update payments.operations o
        set claim_token = null, next_attempt_at = now(), updated_at = now()
        from unnest(${moved.map((pending) => pending.claim.id)}::bigint[], ${moved.map((pending) => pending.claim.claimToken)}::uuid[]) as c (id, claim_token)
        where ${leasesHeldBy(operations, 'c')}
        returning o.id`.execute(transaction));
      const settled = settling.length === 0 ? new Set<number>() : idsOf(await sql<{ id: number }>`
        update payments.operations o
        set status = c.status, outcome = c.outcome, detail = c.detail, claim_token = null, finished_at = now(), updated_at = now()
        from unnest(
          ${settling.map((pending) => pending.claim.id)}::bigint[], ${settling.map((pending) => pending.claim.claimToken)}::uuid[],
          ${settling.map((pending) => pending.settlement.operation.status)}::text[], ${settling.map((pending) => pending.settlement.operation.outcome)}::text[],
          ${settling.map((pending) => pending.settlement.operation.detail)}::text[]
        ) as c (id, claim_token, status, outcome, detail)
        where ${leasesHeldBy(operations, 'c')}
        returning o.id`.execute(transaction));
      const done = settling.filter((pending) => settled.has(pending.claim.id));
      const changed = done.flatMap((pending) => (pending.settlement.paymentChanged && pending.settlement.payment !== undefined ? [pending.settlement.payment] : []));
      if (changed.length > 0) {
        await sql`
          update payments.payments p
          set status = c.status, provider_payment_id = c.provider_payment_id, decline_reason = c.decline_reason, updated_at = c.updated_at
          from unnest(
            ${changed.map((payment) => payment.orderId)}::text[], ${changed.map((payment) => payment.status)}::text[],
            ${changed.map((payment) => payment.providerPaymentId)}::text[], ${changed.map((payment) => payment.declineReason)}::text[],
            ${changed.map((payment) => payment.updatedAt)}::timestamptz[]
          ) as c (order_id, status, provider_payment_id, decline_reason, updated_at)
          where p.order_id = c.order_id`.execute(transaction);
      }
      await appendToOutbox(transaction, done.flatMap((pending) => (pending.envelope === undefined ? [] : [pending.envelope])));
      return batch.map((pending): SettleResult => {
        if (moved.includes(pending)) return released.has(pending.claim.id) ? 'payment-moved' : 'claim-lost';
        return settled.has(pending.claim.id) ? 'settled' : 'claim-lost';
      });
    });
  }

  async #settleOne({ claim, settlement, envelope, call }: PendingSettle): Promise<SettleResult> {
    return this.#db.transaction().execute(async (transaction) => {
      // The call happened whoever holds the claim now, so it is recorded either way.
      if (call !== undefined) await recordCall(transaction, call);
      if (claim.payment !== undefined) {
        // The payment row first, as a webhook locks it: a report applied while the call was in flight
        // wins, and this operation is planned again from what it wrote.
        const current = await transaction.selectFrom('payments.payments').select('status')
          .where('order_id', '=', claim.orderId).forUpdate().executeTakeFirst();
        if (current?.status !== claim.payment.status) {
          const released = await transaction.updateTable('payments.operations as o')
            .set({ claim_token: null, next_attempt_at: sql<Date>`now()`, updated_at: sql<Date>`now()` })
            .where(leaseHeld(operations, [claim.id], claim.claimToken))
            .executeTakeFirst();
          return released.numUpdatedRows === 0n ? 'claim-lost' : 'payment-moved';
        }
      }
      const updated = await transaction.updateTable('payments.operations as o')
        .set({
          status: settlement.operation.status, outcome: settlement.operation.outcome, detail: settlement.operation.detail,
          claim_token: null, finished_at: sql<Date>`now()`, updated_at: sql<Date>`now()`,
        })
        .where(leaseHeld(operations, [claim.id], claim.claimToken))
        .executeTakeFirst();
      if (updated.numUpdatedRows === 0n) return 'claim-lost';
      const payment = settlement.payment;
      if (settlement.paymentChanged && payment !== undefined) {
        await transaction.updateTable('payments.payments')
          .set({ status: payment.status, provider_payment_id: payment.providerPaymentId, decline_reason: payment.declineReason, updated_at: payment.updatedAt })
          .where('order_id', '=', payment.orderId)
          .execute();
      }
      if (envelope !== undefined) await appendToOutbox(transaction, [envelope]);
      return 'settled';
    });
  }

  async extendLease(claim: ClaimedOperation, leaseMs: number): Promise<boolean> {
    const updated = await this.#db.updateTable('payments.operations as o')
      .set({ next_attempt_at: msFromNow(leaseMs) })
      .where(leaseHeld(operations, [claim.id], claim.claimToken))
      .executeTakeFirst();
    return updated.numUpdatedRows > 0n;
  }

  async retryLater(claim: ClaimedOperation, delayMs: number, call: ProviderCallRecord): Promise<boolean> {
    return this.#db.transaction().execute(async (transaction) => {
      await recordCall(transaction, call);
      const updated = await transaction.updateTable('payments.operations as o')
        .set({ next_attempt_at: msFromNow(delayMs), claim_token: null, detail: call.detail, updated_at: sql<Date>`now()` })
        .where(leaseHeld(operations, [claim.id], claim.claimToken))
        .executeTakeFirst();
      return updated.numUpdatedRows > 0n;
    });
  }
}

async function recordCall(transaction: Transaction<PaymentsTables>, call: ProviderCallRecord): Promise<void> {
  await transaction.insertInto('payments.provider_calls').values(callRow(call)).execute();
}

function callRow(call: ProviderCallRecord) {
  return {
    operation_id: call.operationId, order_id: call.orderId, operation: call.call, idempotency_key: call.idempotencyKey,
    attempt: call.attempt, outcome: call.outcome, detail: call.detail, duration_ms: Math.round(call.durationMs), called_at: call.calledAt,
  };
}

function paymentOf(row: ClaimRow): Payment | undefined {
  if (row.payment_id === null || row.amount === null || row.currency === null || row.token === null || row.payment_status === null
    || row.payment_created_at === null || row.payment_updated_at === null) return undefined;
  return toPayment({
    order_id: row.order_id, id: row.payment_id, amount: row.amount, currency: row.currency, token: row.token, status: row.payment_status,
    provider_payment_id: row.provider_payment_id, decline_reason: row.decline_reason, created_at: row.payment_created_at, updated_at: row.payment_updated_at,
  });
}

function idsOf(result: { rows: readonly { id: number }[] }): Set<number> {
  return new Set(result.rows.map((row) => row.id));
}
