import { createHash } from 'node:crypto';
import { OverloadedError } from '../../../../platform/concurrency/overloaded.ts';
import type { HttpApp } from '../../../../platform/http/app.ts';
import { decodeCursor, encodeCursor } from '../../../../platform/http/cursor.ts';
import { requirePrincipal } from '../../../../platform/http/principal.ts';
import { HttpProblem, invalidRequest, notFound, problemSchema } from '../../../../platform/http/problem.ts';
import { addToContext } from '../../../../platform/logging/request-context.ts';
import type { CancelOrder } from '../../application/cancel-order.ts';
import type { GetOrder } from '../../application/get-order.ts';
import { IdempotencyKeyInUseError, IdempotencyKeyReusedError } from '../../application/idempotency.errors.ts';
import type { ListOrders } from '../../application/list-orders.ts';
import { OrderBacklogFullError } from '../../application/order-admission.ts';
import type { PlaceOrder } from '../../application/place-order.ts';
import { InvalidOrderError, OrderNotCancellableError, OrderNotFoundError, UnknownSkuError } from '../../domain/order.errors.ts';
import { idempotencyHeaders, listOrdersQuery, orderDto, orderIdParams, orderPageDto, placeOrderRequest, toOrderDto } from './order-dtos.ts';

export interface OrderUseCases {
  placeOrder: PlaceOrder;
  getOrder: GetOrder;
  listOrders: ListOrders;
  cancelOrder: CancelOrder;
}

const problems = { 400: problemSchema, 401: problemSchema, 404: problemSchema, 409: problemSchema, 422: problemSchema };

/** The orders API: parse, identify the caller, call a use case, map domain errors to problems. */
export function orderRoutes(useCases: OrderUseCases, options: { devIdentityHeaders: boolean }) {
  return (app: HttpApp): void => {
    app.post('/v1/orders', {
      schema: {
        tags: ['orders'], summary: 'Place an order (answers 202; the saga runs in the background)',
        headers: idempotencyHeaders, body: placeOrderRequest, response: { 202: orderDto, ...problems, 503: problemSchema },
      },
    }, async (request, reply) => {
      const caller = requirePrincipal(request, options);
      const { order, replayed } = await useCases.placeOrder.execute({
        customer: { id: caller.id, email: caller.email },
        items: request.body.items,
        paymentToken: request.body.payment.token,
        idempotencyKey: request.headers['idempotency-key'],
        requestHash: createHash('sha256').update(JSON.stringify(request.body)).digest('hex'),
      }).catch(mapOrderError);
      addToContext({ orderId: order.id });
      if (replayed) void reply.header('idempotent-replayed', 'true');
      return reply.status(202).header('location', `/v1/orders/${order.id}`).send(toOrderDto(order));
    });

    app.get('/v1/orders/:id', {
      schema: { tags: ['orders'], summary: 'An order with its status and timeline (owner or admin)', params: orderIdParams, response: { 200: orderDto, ...problems } },
    }, async (request) => {
      const caller = requirePrincipal(request, options);
      addToContext({ orderId: request.params.id });
      const order = await useCases.getOrder.execute(request.params.id, { id: caller.id, isAdmin: caller.roles.includes('admin') }).catch(mapOrderError);
      return toOrderDto(order);
    });

    app.get('/v1/orders', {
      schema: { tags: ['orders'], summary: "The caller's orders, newest first", querystring: listOrdersQuery, response: { 200: orderPageDto, ...problems } },
    }, async (request) => {
      const caller = requirePrincipal(request, options);
      const { cursor, limit } = request.query;
      const page = await useCases.listOrders.execute(caller.id, { limit, ...(cursor === undefined ? {} : { after: decodeCursor(cursor) }) }).catch(mapOrderError);
      return { items: page.items.map(toOrderDto), nextCursor: page.next === null ? null : encodeCursor(page.next) };
    });

    app.post('/v1/orders/:id/cancel', {
      schema: { tags: ['orders'], summary: 'Cancel an order (release and void before capture, refund and restock after)', params: orderIdParams, response: { 202: orderDto, ...problems } },
    }, async (request, reply) => {
      const caller = requirePrincipal(request, options);
      addToContext({ orderId: request.params.id });
      const order = await useCases.cancelOrder.execute(request.params.id, { id: caller.id, isAdmin: caller.roles.includes('admin') }).catch(mapOrderError);
      return reply.status(202).send(toOrderDto(order));
    });
  };
}

function mapOrderError(error: unknown): never {
  if (error instanceof InvalidOrderError) {
    throw invalidRequest(error.message, [{ location: 'body', field: error.field, message: error.message.slice(error.field.length + 1) }]);
  }
  if (error instanceof UnknownSkuError) throw new HttpProblem({ status: 422, slug: 'unknown-sku', title: 'Unknown product', detail: error.message });
  if (error instanceof IdempotencyKeyReusedError) throw new HttpProblem({ status: 422, slug: 'idempotency-key-reused', title: 'Idempotency-Key reused', detail: error.message });
  if (error instanceof IdempotencyKeyInUseError) throw new HttpProblem({ status: 409, slug: 'idempotency-key-in-use', title: 'Request in progress', detail: error.message });
  // The app answers it as every other capacity refusal: 503 `overloaded` with Retry-After.
  if (error instanceof OrderBacklogFullError) throw new OverloadedError('order backlog', error.message, { retryAfterSeconds: error.retryAfterSeconds, cause: error });
  if (error instanceof OrderNotFoundError) throw notFound(error.message);
  if (error instanceof OrderNotCancellableError) throw new HttpProblem({ status: 409, slug: 'order-not-cancellable', title: 'Order cannot be cancelled', detail: error.message });
  throw error;
}
