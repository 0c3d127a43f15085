import type { HttpApp } from '../../../../platform/http/app.ts';
import { decodeCursor, encodeCursor } from '../../../../platform/http/cursor.ts';
import { conflict, notFound, problemSchema } from '../../../../platform/http/problem.ts';
import type { ListDeliveries } from '../../application/list-deliveries.ts';
import type { RetryDelivery } from '../../application/retry-delivery.ts';
import { DeliveryNotDeadError, DeliveryNotFoundError } from '../../domain/delivery.errors.ts';
import { emailDeliveryDto, emailDeliveryPageDto, toEmailDeliveryDto } from './email-delivery-dtos.ts';
import { idParams, listDeliveriesQuery } from './webhook-dtos.ts';

export interface EmailDeliveryAdminUseCases {
  listEmailDeliveries: ListDeliveries;
  retryEmailDelivery: RetryDelivery;
}

const problems = { 400: problemSchema, 404: problemSchema, 409: problemSchema };
const tags = ['notifications (admin)'];

/**
 * The admin API of customer emails: list them (the dead ones above all) and give a dead one a fresh
 * set of attempts, as for webhook deliveries. The gateway's route policy makes it admin-only.
 */
export function emailDeliveryAdminRoutes(useCases: EmailDeliveryAdminUseCases) {
  return (app: HttpApp): void => {
    app.get('/v1/admin/email-deliveries', {
      schema: { tags, summary: 'List email deliveries, e.g. the dead ones', querystring: listDeliveriesQuery, response: { 200: emailDeliveryPageDto, ...problems } },
    }, async (request) => {
      const { status, cursor, limit } = request.query;
      const page = await useCases.listEmailDeliveries.execute({
        ...(status === undefined ? {} : { status }),
        ...(cursor === undefined ? {} : { after: decodeCursor(cursor) }),
        limit,
      });
      return { items: page.items.map(toEmailDeliveryDto), nextCursor: page.next === null ? null : encodeCursor(page.next) };
    });

    app.post('/v1/admin/email-deliveries/:id/retry', {
      schema: { tags, summary: 'Retry a dead email delivery with fresh attempts', params: idParams, response: { 202: emailDeliveryDto, ...problems } },
    }, async (request, reply) => {
      const view = await useCases.retryEmailDelivery.execute(request.params.id).catch(mapDeliveryError);
      return reply.status(202).send(toEmailDeliveryDto(view));
    });
  };
}

function mapDeliveryError(error: unknown): never {
  if (error instanceof DeliveryNotFoundError) throw notFound(error.message);
  if (error instanceof DeliveryNotDeadError) throw conflict(error.message);
  throw error;
}
