/**
 * Conventions the whole API follows, written into the OpenAPI document once instead of on every
 * route (redocly.yaml checks them). Only the document changes: what a route does and answers is
 * untouched.
 */

import { findPolicy, type Access, type RoutePolicy } from './edge.ts';

type MediaTypes = Record<string, { schema?: { $ref?: string }; example?: unknown; examples?: unknown } | undefined>;
interface Operation {
  operationId?: string;
  security?: Record<string, string[]>[];
  requestBody?: { content?: MediaTypes };
  responses?: Record<string, { description?: string; content?: MediaTypes } | undefined>;
}
interface Document {
  paths?: Record<string, Record<string, Operation | undefined> | undefined>;
  components?: { schemas?: Record<string, { examples?: unknown } | undefined>; securitySchemes?: Record<string, unknown> };
}

const methods = new Set(['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace']);
const problemReference = '#/components/schemas/Problem';

/** `post /v1/orders/{id}/cancel` → `postV1OrdersIdCancel`: stable as long as the route is. */
function operationIdOf(method: string, path: string): string {
  const words = path.split(/[^A-Za-z0-9]+/).filter((word) => word !== '');
  return method.toLowerCase() + words.map((word) => word.charAt(0).toUpperCase() + word.slice(1)).join('');
}

/**
 * Every error leaves as RFC 9457 problem+json (error-problems.ts), so a 4xx or 5xx is documented
 * with that media type rather than the application/json the route schema defaults to.
 */
function asProblemJson(responses: NonNullable<Operation['responses']>): void {
  for (const [status, response] of Object.entries(responses)) {
    const json = response?.content?.['application/json'];
    if (!/^[45]/.test(status) || response?.content === undefined || json === undefined) continue;
    delete response.content['application/json'];
    response.content['application/problem+json'] = json;
  }
  // Any route can be refused before it runs (an undecodable URL, oversized headers), always as
  // problem+json; a route that declares no refusal of its own still documents that one.
  if (!Object.keys(responses).some((status) => status.startsWith("4"))) {
    responses['4XX'] = {
      description: 'Refused (for example an undecodable URL or oversized headers)',
      content: { 'application/problem+json': { schema: { $ref: problemReference } } },
    };
  }
}

/** A request body's schema carries its examples (zod `.meta({ examples })`); clients read them from the media type. */
function withBodyExample(content: MediaTypes, document: Document): void {
  for (const media of Object.values(content)) {
    if (media === undefined || media.example !== undefined || media.examples !== undefined) continue;
    const reference = media.schema?.$ref;
    const name = reference?.startsWith('#/components/schemas/') === true ? reference.slice('#/components/schemas/'.length) : undefined;
    const examples = name === undefined ? undefined : document.components?.schemas?.[name]?.examples;
    if (Array.isArray(examples) && examples.length > 0) media.example = examples[0];
  }
}

/** The bearer token every non-public route takes: an access token of identity (or a trusted issuer). */
const bearerScheme = {
  type: 'http',
  scheme: 'bearer',
  bearerFormat: 'JWT',
  description: 'An access token from POST /v1/auth/login, /v1/auth/refresh or /v1/auth/token, as `Authorization: Bearer <token>`. '
    + 'An operation names the role it needs: `customer` (an admin passes too), `admin`, or `service` (a service principal).',
};

/** `/v1/orders/{id}` → `/v1/orders/:id`, the route template the route policies name. */
function templateOf(path: string): string {
  return path.replace(/\{([^}]+)\}/g, ':$1');
}

/**
 * Who may call the operation, from the route policy that decides it: nobody needs a token for a
 * public one (`security: []`); any other takes the bearer token with the role it needs (OpenAPI
 * 3.1 lets a non-OAuth requirement list role names). An operation no policy covers is left as it is.
 */
function withSecurity(operation: Operation, method: string, path: string, policies: readonly RoutePolicy[], document: Document): void {
  const access: Access | undefined = findPolicy(policies, method.toUpperCase(), templateOf(path))?.access;
  if (access === undefined) return;
  if (access === 'public') {
    operation.security = [];
    return;
  }
  operation.security = [{ bearerAuth: [access] }];
  document.components ??= {};
  document.components.securitySchemes ??= {};
  document.components.securitySchemes.bearerAuth ??= bearerScheme;
}

/**
 * The document with an operationId on every operation, problem+json errors, request-body examples
 * and, given the route policies, the security each operation requires.
 */
export function withApiConventions<T extends object>(document: T, policies: readonly RoutePolicy[] = []): T {
  const typed = document as Document;
  for (const [path, item] of Object.entries(typed.paths ?? {})) {
    for (const [method, operation] of Object.entries(item ?? {})) {
      if (operation === undefined || !methods.has(method)) continue;
      operation.operationId ??= operationIdOf(method, path);
      if (operation.responses !== undefined) asProblemJson(operation.responses);
      if (operation.requestBody?.content !== undefined) withBodyExample(operation.requestBody.content, typed);
      withSecurity(operation, method, path, policies, typed);
    }
  }
  return document;
}
