import { z } from 'zod';
import type { Logger } from '../../../../platform/logging/logger.ts';
import { batchStores, type Envelope, type MessageConsumer } from '../../../../platform/messaging/index.ts';
import { traced } from '../../../../platform/observability/tracing.ts';
import { RequestAuthorization } from '../../application/request-authorization.ts';
import { RequestPaymentOperation } from '../../application/request-payment-operation.ts';
import { paymentsMessages } from '../../contract.ts';
import { BatchPaymentRepository } from '../postgres/batch-payment-repository.ts';
import { PgPaymentRepository } from '../postgres/pg-payment-repository.ts';
import { authorizePaymentPayload, orderPayload, paymentCommandsSubscription } from './payments-message-schemas.ts';


const operationKinds = {
  [paymentsMessages.capturePayment.type]: 'capture',
  [paymentsMessages.voidPayment.type]: 'void',
  [paymentsMessages.refundPayment.type]: 'refund',
} as const;

/**
 * Receives the commands of payments and only records them: the payment, and an operation for the
 * worker, in the message's inbox transaction. Provider calls never run here, so a slow provider
 * stalls no one's messages; `afterCommit` wakes the worker instead.
 */
export function paymentCommandsConsumer(deps: { logger: Logger; wakeWorker: () => void }): MessageConsumer {
  // A batch's orders, locked once, its payments and operations inserted together at the end.
  const batches = batchStores((envelopes, transaction) => BatchPaymentRepository.lock(transaction, envelopes.flatMap((envelope) => {
    const parsed = orderPayload.safeParse(envelope.payload);
    return parsed.success ? [parsed.data.orderId] : []; // malformed: its own handle says so
  })));
  return {
    name: paymentCommandsSubscription.consumer,
    types: paymentCommandsSubscription.reads.map(({ message }) => message.type),
    async handle(envelope, transaction) {
      if (envelope.version !== 1) throw new Error(`${envelope.type} v${envelope.version} is not understood; payments reads v1`);
      const payments = batches.of(transaction) ?? new PgPaymentRepository(transaction);
      const result = envelope.type === paymentsMessages.authorizePayment.type
        ? await traced('payments.request-authorization', () => new RequestAuthorization({ payments }).execute(parse(authorizePaymentPayload, envelope)))
        : await traced('payments.request-payment-operation', () => new RequestPaymentOperation({ payments }).execute(parse(orderPayload, envelope).orderId, kindOf(envelope.type)));
      if (result !== 'queued') deps.logger.info({ type: envelope.type, orderId: envelope.key, result }, 'payment command changed nothing');
    },
    lockForBatch: batches.lockForBatch,
    finishBatch: batches.finishBatch,
    afterCommit() {
      deps.wakeWorker();
    },
  };
}

function parse<Payload>(schema: z.ZodType<Payload>, envelope: Envelope): Payload {
  const parsed = schema.safeParse(envelope.payload);
  if (!parsed.success) throw new Error(`${envelope.type} ${envelope.id} has a malformed payload: ${z.prettifyError(parsed.error)}`);
  return parsed.data;
}

function kindOf(type: string): 'capture' | 'void' | 'refund' {
  const kind = (operationKinds as Record<string, 'capture' | 'void' | 'refund' | undefined>)[type];
  if (kind === undefined) throw new Error(`payments does not handle ${type}`);
  return kind;
}
