import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { withApiConventions } from './openapi-conventions.ts';

const problem = { schema: { $ref: '#/components/schemas/Problem' } };

/** A document as the route schemas make it: no ids, errors as application/json, examples on the body's schema. */
function routeDocument() {
  return {
    paths: {
      '/v1/orders/{id}/cancel': {
        post: {
          requestBody: { content: { 'application/json': { schema: { $ref: '#/components/schemas/CancelRequest' } } } },
          responses: { 200: { content: { 'application/json': { schema: { type: 'object' } } } }, 404: { content: { 'application/json': problem } } },
        },
      },
      '/healthz': { get: { operationId: 'probeHealth', responses: { 200: { content: { 'application/json': { schema: { type: 'object' } } } } } } },
    },
    components: { schemas: { CancelRequest: { type: 'object', examples: [{ reason: 'changed my mind' }, { reason: 'late' }] } } },
  };
}

describe('the API conventions written into the document', () => {
  test('when an operation has no id, then it gets one from its method and path, and a route\'s own id is kept', () => {
    const document = withApiConventions(routeDocument());
    assert.equal((document.paths['/v1/orders/{id}/cancel'].post as { operationId?: string }).operationId, 'postV1OrdersIdCancel');
    assert.equal(document.paths['/healthz'].get.operationId, 'probeHealth');
  });

  test('when a 4xx is documented as application/json, then it becomes application/problem+json, and a 2xx stays JSON', () => {
    const { responses } = withApiConventions(routeDocument()).paths['/v1/orders/{id}/cancel'].post;
    assert.deepEqual(Object.keys(responses[404].content), ['application/problem+json']);
    assert.deepEqual(Object.keys(responses[200].content), ['application/json']);
  });

  test('when an operation declares no 4xx, then a 4XX problem+json refusal is documented for it', () => {
    const { responses } = withApiConventions(routeDocument()).paths['/healthz'].get as { responses: Record<string, { content?: object }> };
    assert.deepEqual(Object.keys(responses['4XX']?.content ?? {}), ['application/problem+json']);
  });

  test('when a request body\'s schema has examples, then its media type shows the first', () => {
    const media = withApiConventions(routeDocument()).paths['/v1/orders/{id}/cancel'].post.requestBody.content['application/json'] as { example?: unknown };
    assert.deepEqual(media.example, { reason: 'changed my mind' });
  });

  test('when route policies are given, then a public operation needs no token and any other the bearer token with its role', () => {
    const policies = [
      { method: 'POST', url: '/v1/orders/:id/cancel', access: 'customer', upstream: 'orders' },
      { method: 'GET', url: '/healthz', access: 'public', upstream: 'gateway' },
    ] as const;
    const document = withApiConventions(routeDocument(), policies) as ReturnType<typeof routeDocument> & { components: { securitySchemes?: Record<string, { scheme?: string }> } };
    assert.deepEqual((document.paths['/v1/orders/{id}/cancel'].post as { security?: unknown }).security, [{ bearerAuth: ['customer'] }]);
    assert.deepEqual((document.paths['/healthz'].get as { security?: unknown }).security, []);
    assert.equal(document.components.securitySchemes?.bearerAuth?.scheme, 'bearer');
  });

  test('when no policy covers an operation, then its security is left undeclared', () => {
    const document = withApiConventions(routeDocument(), []);
    assert.equal((document.paths['/healthz'].get as { security?: unknown }).security, undefined);
    assert.equal((document.components as { securitySchemes?: unknown }).securitySchemes, undefined);
  });
});
