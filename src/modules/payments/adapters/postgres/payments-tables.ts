import type { ColumnType, Generated, Selectable } from 'kysely';
import type { DeclineReason, OperationKind, Payment, PaymentStatus } from '../../domain/payment.ts';

/** `payments.payments` as stored. */
export interface PaymentsTable {
  order_id: string;
  id: string;
  amount: number;
  currency: string;
  token: string;
  status: PaymentStatus;
  provider_payment_id: string | null;
  decline_reason: DeclineReason | null;
  created_at: Date;
  updated_at: Date;
}

/** `payments.operations` as stored. */
export interface OperationsTable {
  id: Generated<number>;
  order_id: string;
  kind: OperationKind;
  status: ColumnType<'pending' | 'done' | 'failed', 'pending' | 'done' | 'failed' | undefined>;
  attempts: Generated<number>;
  next_attempt_at: Generated<Date>;
  claim_token: string | null;
  outcome: string | null;
  detail: string | null;
  created_at: Generated<Date>;
  updated_at: Generated<Date>;
  finished_at: Date | null;
  /** W3C traceparent of the command that queued it; null without tracing. */
  traceparent: ColumnType<string | null, string | null | undefined, string | null>;
}

/** `payments.provider_calls` as stored. */
export interface ProviderCallsTable {
  id: Generated<number>;
  operation_id: number;
  order_id: string;
  /** The provider call made: authorize, capture, void or refund. */
  operation: string;
  idempotency_key: string;
  attempt: number;
  outcome: string;
  detail: string | null;
  duration_ms: number;
  called_at: Date;
}

/** `payments.webhook_events` as stored. */
export interface WebhookEventsTable {
  provider: string;
  event_id: string;
  type: string;
  payload: ColumnType<unknown, string, string>;
  received_at: Generated<Date>;
}

// A type alias, not an interface: kysely needs the index signature an alias has.
// eslint-disable-next-line @typescript-eslint/consistent-type-definitions
export type PaymentsTables = {
  'payments.payments': PaymentsTable;
  'payments.operations': OperationsTable;
  'payments.provider_calls': ProviderCallsTable;
  'payments.webhook_events': WebhookEventsTable;
};

export function toPaymentRow(payment: Payment): PaymentsTable {
  return {
    order_id: payment.orderId, id: payment.id, amount: payment.amount.amount, currency: payment.amount.currency,
    token: payment.token, status: payment.status, provider_payment_id: payment.providerPaymentId,
    decline_reason: payment.declineReason, created_at: payment.createdAt, updated_at: payment.updatedAt,
  };
}

export function toPayment(row: Selectable<PaymentsTable>): Payment {
  return {
    id: row.id, orderId: row.order_id, amount: { amount: row.amount, currency: row.currency }, token: row.token,
    status: row.status, providerPaymentId: row.provider_payment_id, declineReason: row.decline_reason,
    createdAt: row.created_at, updatedAt: row.updated_at,
  };
}
