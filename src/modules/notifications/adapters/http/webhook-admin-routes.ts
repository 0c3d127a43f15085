import { z } from 'zod';
import type { HttpApp } from '../../../../platform/http/app.ts';
import { decodeCursor, encodeCursor } from '../../../../platform/http/cursor.ts';
import { invalidRequest, notFound, problemSchema } from '../../../../platform/http/problem.ts';
import type { DeleteWebhookEndpoint } from '../../application/delete-webhook-endpoint.ts';
import type { ListDeliveries } from '../../application/list-deliveries.ts';
import type { ListWebhookEndpoints } from '../../application/list-webhook-endpoints.ts';
import type { RegisterWebhookEndpoint } from '../../application/register-webhook-endpoint.ts';
import type { RetryDelivery } from '../../application/retry-delivery.ts';
import type { RollWebhookSecret } from '../../application/roll-webhook-secret.ts';
import { InvalidWebhookEndpointError, WebhookEndpointNotFoundError } from '../../domain/delivery.errors.ts';
import { registerDeliveryAdminRoutes } from './delivery-admin-routes.ts';
import {
  createWebhookEndpointRequest, createdWebhookEndpointDto, idParams, listWebhookEndpointsQuery, rollWebhookSecretRequest, rolledWebhookSecretDto,
  toWebhookDeliveryDto, toWebhookEndpointDto, webhookDeliveryDto, webhookDeliveryPageDto, webhookEndpointPageDto,
} from './webhook-dtos.ts';

export interface WebhookAdminUseCases {
  registerWebhookEndpoint: RegisterWebhookEndpoint;
  listWebhookEndpoints: ListWebhookEndpoints;
  deleteWebhookEndpoint: DeleteWebhookEndpoint;
  rollWebhookSecret: RollWebhookSecret;
  listWebhookDeliveries: ListDeliveries;
  retryWebhookDelivery: RetryDelivery;
}

const problems = { 400: problemSchema, 404: problemSchema, 409: problemSchema };
const tags = ['notifications (admin)'];

/**
 * The admin API of webhooks: endpoints and their deliveries. Open for now; the gateway's route
 * policy will make it admin-only.
 */
export function webhookAdminRoutes(useCases: WebhookAdminUseCases) {
  return (app: HttpApp): void => {
    app.post('/v1/admin/webhooks', {
      schema: { tags, summary: 'Register a webhook endpoint', body: createWebhookEndpointRequest, response: { 201: createdWebhookEndpointDto, ...problems } },
    }, async (request, reply) => {
      const endpoint = await useCases.registerWebhookEndpoint.execute(request.body).catch(mapNotificationsError);
      return reply.status(201).send({ ...toWebhookEndpointDto(endpoint), secret: endpoint.secret });
    });

    app.get('/v1/admin/webhooks', {
      schema: { tags, summary: 'List webhook endpoints (without secrets)', querystring: listWebhookEndpointsQuery, response: { 200: webhookEndpointPageDto, ...problems } },
    }, async (request) => {
      const { cursor, limit } = request.query;
      const page = await useCases.listWebhookEndpoints.execute({ ...(cursor === undefined ? {} : { after: decodeCursor(cursor) }), limit }).catch(mapNotificationsError);
      return { items: page.items.map(toWebhookEndpointDto), nextCursor: page.next === null ? null : encodeCursor(page.next) };
    });

    app.delete('/v1/admin/webhooks/:id', {
      schema: { tags, summary: 'Delete a webhook endpoint and cancel its unsent deliveries', params: idParams, response: { 204: z.null(), ...problems } },
    }, async (request, reply) => {
      await useCases.deleteWebhookEndpoint.execute(request.params.id).catch(mapNotificationsError);
      return reply.status(204).send(null);
    });

    app.post('/v1/admin/webhooks/:id/secret/roll', {
      schema: {
        tags, summary: 'Give an endpoint a new signing secret; the old one keeps signing beside it for the overlap',
        params: idParams, body: rollWebhookSecretRequest, response: { 200: rolledWebhookSecretDto, ...problems },
      },
    }, async (request) => {
      const overlapSeconds = request.body?.overlapSeconds;
      const rolled = await useCases.rollWebhookSecret.execute(request.params.id, overlapSeconds === undefined ? {} : { overlapSeconds }).catch(mapNotificationsError);
      return { id: rolled.id, secret: rolled.secret, previousSecretExpiresAt: rolled.previousSecretExpiresAt?.toISOString() ?? null };
    });

    registerDeliveryAdminRoutes(app, {
      collection: 'webhook-deliveries', noun: 'webhook', tags,
      list: useCases.listWebhookDeliveries, retry: useCases.retryWebhookDelivery,
      dto: webhookDeliveryDto, pageDto: webhookDeliveryPageDto, toDto: toWebhookDeliveryDto,
    });
  };
}

function mapNotificationsError(error: unknown): never {
  if (error instanceof InvalidWebhookEndpointError) {
    throw invalidRequest(error.message, [{ location: 'body', field: error.field, message: error.message.slice(error.field.length + 1) }]);
  }
  if (error instanceof WebhookEndpointNotFoundError) throw notFound(error.message);
  throw error;
}
