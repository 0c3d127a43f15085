import type { FastifyInstance } from 'fastify';
import fastifySwagger from '@fastify/swagger';
import fastifySwaggerUi from '@fastify/swagger-ui';
import { jsonSchemaTransform, jsonSchemaTransformObject } from 'fastify-type-provider-zod';
import { withApiConventions } from './openapi-conventions.ts';

/** The OpenAPI document built from the app's route schemas, and the /docs page that shows it. */
export function registerDocumentation(app: FastifyInstance, title: string | undefined): void {
  void app.register(fastifySwagger, {
    openapi: {
      openapi: '3.1.0',
      info: { title: title ?? 'OrderStream API', version: '1.0.0', description: 'Errors are RFC 9457 problem+json.' },
    },
    transform: jsonSchemaTransform,
    transformObject: (input) => withApiConventions(jsonSchemaTransformObject(input)),
  });
  // The page loads only its own scripts and styles (hashed by the plugin); it is served over plain
  // HTTP in development, so requests are not upgraded to HTTPS.
  void app.register(fastifySwaggerUi, {
    routePrefix: '/docs', staticCSP: true, transformStaticCSP: (header) => header.replace(/\s*upgrade-insecure-requests;?/, ''),
  });
}
