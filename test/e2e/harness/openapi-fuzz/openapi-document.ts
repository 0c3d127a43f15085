/** The OpenAPI document as the fuzzer reads it: the schemas it walks and the operations it fuzzes. */

/** The subset of JSON Schema the API's document uses (zod's output). */
export interface JsonSchema {
  type?: string | string[];
  properties?: Record<string, JsonSchema>;
  required?: string[];
  additionalProperties?: boolean | JsonSchema;
  items?: JsonSchema;
  minItems?: number;
  maxItems?: number;
  minLength?: number;
  maxLength?: number;
  minimum?: number;
  maximum?: number;
  pattern?: string;
  format?: string;
  enum?: unknown[];
  const?: unknown;
  anyOf?: JsonSchema[];
  oneOf?: JsonSchema[];
  $ref?: string;
  default?: unknown;
}

export interface OpenApiParameter {
  in: 'path' | 'query' | 'header' | 'cookie';
  name: string;
  required?: boolean;
  schema: JsonSchema;
}

interface OpenApiOperation {
  summary?: string;
  parameters?: OpenApiParameter[];
  requestBody?: { required?: boolean; content: Record<string, { schema: JsonSchema } | undefined> };
  responses?: Record<string, { content?: Record<string, { schema: JsonSchema } | undefined> } | undefined>;
}

/** An OpenAPI 3.1 document as `@fastify/swagger` serves it at /openapi.json. */
export interface OpenApiDocument {
  paths: Record<string, Record<string, OpenApiOperation | undefined> | undefined>;
  components?: { schemas?: Record<string, JsonSchema> };
}

/** One operation of the document, ready to fuzz. */
export interface FuzzOperation {
  /** `POST /v1/orders/{id}/cancel`: method and the document's path template. */
  key: string;
  method: string;
  path: string;
  /** The router's template of the same path (`/v1/orders/:id/cancel`), as route policies name it. */
  route: string;
  parameters: readonly OpenApiParameter[];
  /** The JSON body's schema, when the operation declares one. */
  body: JsonSchema | undefined;
  /** Declared responses by status code; `schema` is absent where no JSON body is declared. */
  responses: Readonly<Record<string, { schema: JsonSchema | undefined }>>;
}

/** Every operation of `document`, in the document's order. */
export function operationsOf(document: OpenApiDocument): FuzzOperation[] {
  const operations: FuzzOperation[] = [];
  for (const [path, methods] of Object.entries(document.paths)) {
    for (const [method, operation] of Object.entries(methods ?? {})) {
      if (operation === undefined || !['get', 'post', 'put', 'patch', 'delete'].includes(method)) continue;
      const responses: Record<string, { schema: JsonSchema | undefined }> = {};
      for (const [status, response] of Object.entries(operation.responses ?? {})) {
        responses[status] = { schema: response?.content?.['application/json']?.schema };
      }
      operations.push({
        key: `${method.toUpperCase()} ${path}`, method: method.toUpperCase(), path,
        route: path.replace(/\{([^}]+)\}/g, ':$1'),
        parameters: operation.parameters ?? [],
        body: operation.requestBody?.content['application/json']?.schema,
        responses,
      });
    }
  }
  return operations;
}

/** The schema `$ref` points to, or `schema` itself. */
export function resolve(schema: JsonSchema, document: OpenApiDocument): JsonSchema {
  let current = schema;
  for (let depth = 0; current.$ref !== undefined && depth < 20; depth += 1) {
    const name = current.$ref.replace('#/components/schemas/', '');
    const target = document.components?.schemas?.[name];
    if (target === undefined) throw new Error(`the document has no schema ${current.$ref}`);
    current = target;
  }
  return current;
}
