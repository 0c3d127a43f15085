import type { HttpApp, RouteRegistration } from '../../../../platform/http/app.ts';
import { decodeCursor, encodeCursor } from '../../../../platform/http/cursor.ts';
import { conflict, invalidRequest, notFound, problemSchema } from '../../../../platform/http/problem.ts';
import type { ListPaymentOperations } from '../../application/list-payment-operations.ts';
import type { PageCursor } from '../../application/ports.ts';
import type { RetryPaymentOperation } from '../../application/retry-payment-operation.ts';
import { PaymentOperationNotFoundError, PaymentOperationNotRetryableError } from '../../domain/payment.errors.ts';
import {
  listPaymentOperationsQuery, operationIdParams, paymentOperationDto, paymentOperationPageDto, toPaymentOperationDto,
} from './payment-operation-dtos.ts';

export interface PaymentOperationAdminUseCases {
  listPaymentOperations: ListPaymentOperations;
  retryPaymentOperation: RetryPaymentOperation;
}

const problems = { 400: problemSchema, 404: problemSchema, 409: problemSchema };
const tags = ['payments (admin)'];

/** The admin API of payment operations: list the failed (or pending) ones, and retry a failed one. Admin-only by the gateway's route policy. */
export function paymentOperationAdminRoutes(useCases: PaymentOperationAdminUseCases): RouteRegistration {
  return (app: HttpApp): void => {
    app.get('/v1/admin/payment-operations', {
      schema: { tags, summary: 'List payment operations: failed ones by default, or those of one order', querystring: listPaymentOperationsQuery, response: { 200: paymentOperationPageDto, ...problems } },
    }, async (request) => {
      const { status, orderId, cursor, limit } = request.query;
      const page = await useCases.listPaymentOperations.execute({
        ...(status === undefined ? {} : { status }), ...(orderId === undefined ? {} : { orderId }),
        ...(cursor === undefined ? {} : { after: decodeOperationCursor(cursor) }), limit,
      });
      return {
        items: page.items.map(toPaymentOperationDto),
        nextCursor: page.next === null ? null : encodeCursor({ createdAt: page.next.createdAt, id: String(page.next.id) }),
      };
    });

    app.post('/v1/admin/payment-operations/:id/retry', {
      schema: {
        tags, summary: 'Run a failed payment operation again, planned from the payment as it stands now',
        params: operationIdParams, response: { 202: paymentOperationDto, ...problems },
      },
    }, async (request, reply) => {
      const view = await useCases.retryPaymentOperation.execute(request.params.id).catch(mapPaymentsError);
      return reply.status(202).send(toPaymentOperationDto(view));
    });
  };
}

function decodeOperationCursor(text: string): PageCursor {
  const position = decodeCursor(text);
  const id = Number(position.id);
  if (!/^[1-9][0-9]*$/.test(position.id) || !Number.isSafeInteger(id)) {
    throw invalidRequest('The cursor is not valid; use the nextCursor of a previous page', [{ location: 'querystring', field: 'cursor', message: 'is not valid' }]);
  }
  return { createdAt: position.createdAt, id };
}

function mapPaymentsError(error: unknown): never {
  if (error instanceof PaymentOperationNotFoundError) throw notFound(error.message);
  if (error instanceof PaymentOperationNotRetryableError) throw conflict(error.message);
  throw error;
}
