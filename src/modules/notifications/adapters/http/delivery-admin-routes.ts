import type { z } from 'zod';
import type { HttpApp } from '../../../../platform/http/app.ts';
import { decodeCursor, encodeCursor } from '../../../../platform/http/cursor.ts';
import { conflict, notFound, problemSchema } from '../../../../platform/http/problem.ts';
import type { DeliveryView } from '../../application/ports.ts';
import type { ListDeliveries } from '../../application/list-deliveries.ts';
import type { RetryDelivery } from '../../application/retry-delivery.ts';
import { DeliveryNotDeadError, DeliveryNotFoundError } from '../../domain/delivery.errors.ts';
import { idParams, listDeliveriesQuery } from './webhook-dtos.ts';

const problems = { 400: problemSchema, 404: problemSchema, 409: problemSchema };

/**
 * The two admin routes every delivery channel has, at `/v1/admin/{collection}`: list its deliveries
 * (the dead ones above all) and give a dead one a fresh set of attempts.
 */
export function registerDeliveryAdminRoutes(app: HttpApp, channel: {
  collection: 'webhook-deliveries' | 'email-deliveries';
  /** Singular, for the summaries (`webhook`, `email`). */
  noun: string;
  tags: string[];
  list: ListDeliveries;
  retry: RetryDelivery;
  /** The delivery's DTO schema and how a stored delivery becomes it; the page schema lists them. */
  dto: z.ZodType;
  pageDto: z.ZodType;
  toDto: (view: DeliveryView) => unknown;
}): void {
  const { collection, noun, tags, list, retry, dto, pageDto, toDto } = channel;
  app.get(`/v1/admin/${collection}`, {
    schema: { tags, summary: `List ${noun} deliveries, e.g. the dead ones or those of one order`, querystring: listDeliveriesQuery, response: { 200: pageDto, ...problems } },
  }, async (request) => {
    const { status, orderId, cursor, limit } = request.query;
    const page = await list.execute({
      ...(status === undefined ? {} : { status }),
      ...(orderId === undefined ? {} : { orderId }),
      ...(cursor === undefined ? {} : { after: decodeCursor(cursor) }),
      limit,
    });
    return { items: page.items.map(toDto), nextCursor: page.next === null ? null : encodeCursor(page.next) };
  });

  app.post(`/v1/admin/${collection}/:id/retry`, {
    schema: { tags, summary: `Retry a dead ${noun} delivery with fresh attempts`, params: idParams, response: { 202: dto, ...problems } },
  }, async (request, reply) => {
    const view = await retry.execute(request.params.id).catch(mapDeliveryError);
    return reply.status(202).send(toDto(view));
  });
}

function mapDeliveryError(error: unknown): never {
  if (error instanceof DeliveryNotFoundError) throw notFound(error.message);
  if (error instanceof DeliveryNotDeadError) throw conflict(error.message);
  throw error;
}
