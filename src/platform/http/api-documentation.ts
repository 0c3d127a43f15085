import type { FastifyInstance } from 'fastify';
import fastifySwagger from '@fastify/swagger';
import fastifySwaggerUi from '@fastify/swagger-ui';
import { jsonSchemaTransform, jsonSchemaTransformObject } from 'fastify-type-provider-zod';
import type { RoutePolicy } from './edge.ts';
import { withApiConventions } from './openapi-conventions.ts';

/**
 * The OpenAPI document built from the app's route schemas, and the /docs page that shows it. The
 * route policies say which operations need a bearer token and with which role.
 */
export function registerDocumentation(app: FastifyInstance, title: string | undefined, policies: readonly RoutePolicy[]): void {
  void app.register(fastifySwagger, {
    openapi: {
      openapi: '3.1.0',
      info: { title: title ?? 'OrderStream API', version: '1.0.0', description: 'Errors are RFC 9457 problem+json.' },
    },
    transform: jsonSchemaTransform,
    transformObject: (input) => withApiConventions(jsonSchemaTransformObject(input), policies),
  });
  // The page loads only its own scripts and styles (hashed by the plugin); it is served over plain
  // HTTP in development, so requests are not upgraded to HTTPS.
  void app.register(fastifySwaggerUi, {
    routePrefix: '/docs', staticCSP: true, transformStaticCSP: (header) => header.replace(/\s*upgrade-insecure-requests;?/, ''),
  });
}
