import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import fc from 'fast-check';
import { sql } from 'kysely';
import type { Database } from '../../../src/platform/database/database.ts';

/**
 * Property-based fuzzing of the HTTP API from the OpenAPI document it serves itself: for every
 * operation, requests that follow the declared schemas and requests broken on purpose (wrong types,
 * boundary and huge numbers, empty and 100 kB strings, NUL and lone surrogates, missing and extra
 * fields, wrong content types, malformed JSON, repeated query parameters, bad percent-encoding),
 * each sent as the right caller, the wrong one and nobody, and the invariants every answer must keep.
 * The transport (inject or real HTTP) and the database to count rows in are the caller's.
 */

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

/** What the fuzzer knows beyond the document, so valid requests reach real data and the handler's success path. */
export interface FuzzHints {
  /** Values for a parameter or body property of this name (`sku`, `email`, `id`), mixed with values from its schema. */
  byName?: Readonly<Record<string, fc.Arbitrary<unknown>>>;
  /** The same, for one operation only (`GET /v1/orders/{id}` → `id`); wins over `byName`. */
  byOperation?: Readonly<Record<string, Readonly<Record<string, fc.Arbitrary<unknown>>>>>;
  /** Operations whose body is multipart/form-data (the document cannot say so): a valid and an invalid file of each. */
  multipart?: Readonly<Record<string, { validFile: MultipartFile; invalidFiles: readonly MultipartFile[] }>>;
  /**
   * By operation, body values the sweep's requests must not share (a new SKU to create, a new email
   * to register), made from the sweep case's index: otherwise every case after the first is refused
   * as a conflict before the swept value is read.
   */
  sweepUnique?: Readonly<Record<string, Readonly<Record<string, (index: number) => unknown>>>>;
}

/** One file part of a multipart upload. */
export interface MultipartFile {
  label: string;
  field: string;
  filename: string;
  contentType: string;
  content: string | Uint8Array;
}

/** Who sends a request: the role the route needs, a role it does not allow, nobody, or a token that is not one. */
export type CallerKind = 'required' | 'other' | 'anonymous' | 'forged';

export const callerKinds: readonly CallerKind[] = ['required', 'other', 'anonymous', 'forged'];

/** One request as sent: `url` is already percent-encoded (and may be encoded wrongly on purpose). */
export interface FuzzRequest {
  method: string;
  url: string;
  headers: Record<string, string>;
  payload?: string | Buffer;
}

/** A generated case: the request, whether it follows the document, what was broken, and who sends it. */
export interface FuzzCase {
  operation: string;
  /** `valid`, or what was broken (`body.email: NUL`, `query.cursor repeated`, `content-type text/plain`). */
  mutation: string;
  valid: boolean;
  /** Sent with another method or another spelling of the path: its answer is not this operation's. */
  routeChanged: boolean;
  caller: CallerKind;
  request: FuzzRequest;
}

/** Wraps JSON text to place as is into a body: numbers JavaScript cannot hold, `-0`, keys like `__proto__`. */
export class RawJson {
  readonly text: string;
  constructor(text: string) {
    this.text = text;
  }
}

/** JSON text of `value`, with RawJson written as given. */
export function toJsonText(value: unknown): string {
  if (value instanceof RawJson) return value.text;
  if (Array.isArray(value)) return `[${value.map((item) => toJsonText(item)).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    return `{${Object.entries(value).map(([key, item]) => `${JSON.stringify(key)}:${toJsonText(item)}`).join(',')}}`;
  }
  return value === undefined ? 'null' : JSON.stringify(value);
}

const hundredKilobytes = 'a'.repeat(100 * 1024);

/** Values that break a JSON field: wrong types, boundaries, huge numbers, hostile and huge strings. */
const hostileJsonValues: readonly (readonly [string, unknown])[] = [
  ['null', null], ['true', true], ['empty object', {}], ['empty array', []], ['array of a string', ['x']], ['nested object', { a: { b: {} } }],
  ['empty string', ''], ['blank string', '   '], ['100 kB string', hundredKilobytes], ['100 kB of é', 'é'.repeat(50 * 1024)],
  ['NUL', '\u0000'], ['NUL inside', 'A\u0000B'], ['lone high surrogate', '\uD800'], ['lone low surrogate', 'x\uDFFF'],
  ['emoji', '😀'], ['right-to-left override', '\u202Eabc'], ['combining mark', 'e\u0301'], ['byte order mark', '\uFEFFx'],
  ['zero-width space', '\u200B'], ['SQL', "' or 1=1 --"], ['path traversal', '../../etc/passwd'], ['percent NUL', '%00'],
  ['numeric string', '42'], ['zero', 0], ['minus one', -1], ['negative zero', new RawJson('-0')], ['fraction', 1.5],
  ['2^31', 2 ** 31], ['2^53', 2 ** 53], ['2^53 + 2', 2 ** 53 + 2], ['1e308', 1e308], ['-1e308', -1e308], ['5e-324', 5e-324],
  ['1e400 (Infinity)', new RawJson('1e400')], ['30-digit integer', new RawJson('123456789012345678901234567890')],
];

/** Percent-encoded strings that break a path or query parameter. */
const hostileEncodedValues: readonly (readonly [string, string])[] = [
  ['%zz', '%zz'], ['lone %', '%'], ['%0', '%0'], ['%00', '%00'], ['NUL inside', 'A%00B'], ['encoded surrogate %ED%A0%80', '%ED%A0%80'],
  ['overlong %C0%AF', '%C0%AF'], ['%FF', '%FF'], ['truncated %E2%82', '%E2%82'], ['encoded slash', 'a%2Fb'], ['dot dot', '%2e%2e'],
  ['space', '%20'], ['100 kB', hundredKilobytes], ['101 characters', 'a'.repeat(101)], ['unicode', encodeURIComponent('😀é\u202E')],
  ['NUL after a value', 'x%00'], ['minus one', '-1'], ['zero', '0'], ['fraction', '1.5'], ['1e309', '1e309'],
  ['24-digit number', '999999999999999999999999'], ['NaN', 'NaN'], ['Infinity', 'Infinity'], ['negative zero', '-0'], ['hex', '0x10'],
  ['true', 'true'], ['JSON array', '%5B%5D'], ['plus one', '%2B1'], ['leading space', '%201'], ['SQL', encodeURIComponent("' or 1=1 --")],
  ['date out of range', encodeURIComponent('+275760-09-13T00:00:00.001Z')],
  // Opaque cursors are often base64url JSON: well-formed ones holding what a decoder does not expect.
  ...[
    '["+275760-09-13T00:00:00.001Z","x"]', '["-271821-04-19T00:00:00.000Z","x"]', '["0000-00-00T00:00:00Z","x"]', '["2026-02-30T25:61:00Z","x"]',
    '["2026-01-01T00:00:00Z","\u0000"]', '[null,null]', '[1e400,1]', '["2026-01-01T00:00:00Z"]', '{}', '"x"', '[[],{}]',
  ].map((json) => [`base64url JSON ${json}`, Buffer.from(json).toString('base64url')] as const),
  ['base64url of bytes that are not UTF-8', Buffer.from([0xff, 0xfe, 0xc0, 0xaf]).toString('base64url')],
];

/** Bodies that are not JSON, sent as application/json. */
const malformedJsonBodies: readonly (readonly [string, string])[] = [
  ['unclosed object', '{'], ['unclosed string', '{"a":"'], ['trailing comma', '{"a":1,}'], ['single quotes', "{'a':1}"], ['bare word', 'nope'],
  ['empty', ''], ['whitespace', '   '], ['NUL byte', '\u0000'], ['byte order mark then object', '\uFEFF{}'], ['two documents', '{}{}'],
  ['10,000 nested arrays', `${'['.repeat(10_000)}${']'.repeat(10_000)}`], ['10,000 nested objects', `${'{"a":'.repeat(10_000)}1${'}'.repeat(10_000)}`],
  ['__proto__ key', '{"__proto__":{"admin":true}}'], ['constructor.prototype key', '{"constructor":{"prototype":{"admin":true}}}'],
];

const otherContentTypes: readonly string[] = [
  'text/plain', 'application/xml', 'application/x-www-form-urlencoded', 'multipart/form-data', 'application/json; charset=utf-16',
  'application/octet-stream', 'application/jsonx', 'text/json', '*/*', 'application/json, text/plain',
];

/** The schema `$ref` points to, or `schema` itself. */
function resolve(schema: JsonSchema, document: OpenApiDocument): JsonSchema {
  let current = schema;
  for (let depth = 0; current.$ref !== undefined && depth < 20; depth += 1) {
    const name = current.$ref.replace('#/components/schemas/', '');
    const target = document.components?.schemas?.[name];
    if (target === undefined) throw new Error(`the document has no schema ${current.$ref}`);
    current = target;
  }
  return current;
}

/** Whole numbers from `min` to `max` (any safe range), small ones and the bounds more often. */
function integersBetween(min: number, max: number): fc.Arbitrary<number> {
  const low = Math.max(min, Number.MIN_SAFE_INTEGER);
  const high = Math.min(max, Number.MAX_SAFE_INTEGER);
  const near = fc.bigInt({ min: BigInt(low), max: BigInt(Math.min(high, low + 1000)) }).map(Number);
  const anywhere = fc.bigInt({ min: BigInt(low), max: BigInt(high) }).map(Number);
  return fc.oneof({ arbitrary: near, weight: 3 }, { arbitrary: fc.constantFrom(low, high), weight: 1 }, { arbitrary: anywhere, weight: 1 });
}

/** Strings whose length the schema allows; ASCII mostly, any grapheme sometimes. */
function stringsOf(schema: JsonSchema): fc.Arbitrary<string> {
  const minLength = schema.minLength ?? 0;
  const maxLength = Math.min(schema.maxLength ?? minLength + 40, minLength + 40);
  const fits = (text: string) => text.length >= minLength && text.length <= (schema.maxLength ?? Number.MAX_SAFE_INTEGER);
  if (schema.pattern !== undefined) return fc.stringMatching(new RegExp(schema.pattern, 'u')).filter(fits);
  if (schema.format === 'date-time') return fc.date({ min: new Date('2000-01-01T00:00:00Z'), max: new Date('2100-01-01T00:00:00Z'), noInvalidDate: true }).map((date) => date.toISOString());
  // Loopback only: a URI the API resolves or calls must not send the test onto the network.
  if (schema.format === 'uri') {
    return fc.tuple(fc.constantFrom('http', 'https', 'ftp'), fc.integer({ min: 1, max: 254 }), fc.integer({ min: 1, max: 65_535 }), fc.webPath())
      .map(([scheme, host, port, path]) => `${scheme}://127.0.0.${host}:${port}${path}`).filter(fits);
  }
  return fc.oneof(
    { arbitrary: fc.string({ minLength, maxLength }), weight: 3 },
    { arbitrary: fc.string({ minLength, maxLength, unit: 'grapheme' }).filter(fits), weight: 1 },
  );
}

/** Values that `schema` accepts; `name` picks a hint for the property or parameter of that name. */
export function schemaValues(schema: JsonSchema, document: OpenApiDocument, hints: Readonly<Record<string, fc.Arbitrary<unknown>>> = {}, name?: string, depth = 0): fc.Arbitrary<unknown> {
  const generated = fromSchema(schema, document, hints, depth);
  const hint = name === undefined ? undefined : hints[name];
  return hint === undefined ? generated : fc.oneof({ arbitrary: hint, weight: 3 }, { arbitrary: generated, weight: 1 });
}

function fromSchema(raw: JsonSchema, document: OpenApiDocument, hints: Readonly<Record<string, fc.Arbitrary<unknown>>>, depth: number): fc.Arbitrary<unknown> {
  const schema = resolve(raw, document);
  if (schema.const !== undefined) return fc.constant(schema.const);
  if (schema.enum !== undefined) return fc.constantFrom(...schema.enum);
  const choices = schema.anyOf ?? schema.oneOf;
  if (choices !== undefined) return fc.oneof(...choices.map((choice) => fromSchema(choice, document, hints, depth)));
  if (Array.isArray(schema.type)) return fc.oneof(...schema.type.map((type) => fromSchema({ ...schema, type }, document, hints, depth)));
  switch (schema.type) {
    case 'string': return stringsOf(schema);
    case 'integer': return integersBetween(schema.minimum ?? -1_000_000, schema.maximum ?? 1_000_000);
    case 'number': return fc.double({ min: schema.minimum ?? -1e6, max: schema.maximum ?? 1e6, noNaN: true, noDefaultInfinity: true });
    case 'boolean': return fc.boolean();
    case 'null': return fc.constant(null);
    case 'array': {
      const minLength = schema.minItems ?? 0;
      const items = schema.items === undefined ? fc.anything() : schemaValues(schema.items, document, hints, undefined, depth + 1);
      return fc.array(items, { minLength, maxLength: Math.min(schema.maxItems ?? minLength + 3, minLength + 3) });
    }
    case 'object': {
      const properties = schema.properties ?? {};
      const model: Record<string, fc.Arbitrary<unknown>> = {};
      for (const [key, property] of Object.entries(properties)) model[key] = schemaValues(property, document, hints, key, depth + 1);
      return fc.record(model, { requiredKeys: (schema.required ?? []).filter((key) => key in properties) });
    }
    default: return fc.jsonValue({ maxDepth: 2 });
  }
}

/** Percent-encodes `text` as UTF-8, writing a lone surrogate as the three bytes a careless encoder would (WTF-8). */
export function percentEncode(text: string): string {
  let encoded = '';
  for (let index = 0; index < text.length; index += 1) {
    const unit = text.charCodeAt(index);
    const next = text.charCodeAt(index + 1);
    if (unit >= 0xd800 && unit <= 0xdbff && next >= 0xdc00 && next <= 0xdfff) {
      encoded += encodeURIComponent(text.slice(index, index + 2));
      index += 1;
    } else if (unit >= 0xd800 && unit <= 0xdfff) {
      encoded += [0xe0 | (unit >> 12), 0x80 | ((unit >> 6) & 0x3f), 0x80 | (unit & 0x3f)].map((byte) => `%${byte.toString(16).toUpperCase()}`).join('');
    } else {
      encoded += encodeURIComponent(text.charAt(index));
    }
  }
  return encoded;
}

function asParameterText(value: unknown): string {
  if (typeof value === 'string') return value;
  return value === undefined ? '' : JSON.stringify(value);
}

/** The parts of a request before it is rendered; parameter values are percent-encoded already. */
interface RequestParts {
  path: Record<string, string>;
  /** Encoded name and value; a value of `undefined` writes the name alone (`?%`). */
  query: [string, string | undefined][];
  headers: Record<string, string>;
  body: { kind: 'none' } | { kind: 'json'; value: unknown } | { kind: 'raw'; contentType: string | undefined; payload: string | Buffer };
}

function render(operation: FuzzOperation, parts: RequestParts, overrides: { method?: string; path?: string } = {}): FuzzRequest {
  const path = (overrides.path ?? operation.path).replace(/\{([^}]+)\}/g, (_match, name: string) => parts.path[name] ?? '');
  const query = parts.query.map(([name, value]) => (value === undefined ? name : `${name}=${value}`)).join('&');
  const headers = { ...parts.headers };
  let payload: string | Buffer | undefined;
  if (parts.body.kind === 'json') {
    headers['content-type'] = 'application/json';
    payload = toJsonText(parts.body.value);
  } else if (parts.body.kind === 'raw') {
    if (parts.body.contentType !== undefined) headers['content-type'] = parts.body.contentType;
    payload = parts.body.payload;
  }
  return { method: overrides.method ?? operation.method, url: query === '' ? path : `${path}?${query}`, headers, ...(payload === undefined ? {} : { payload }) };
}

/** A multipart/form-data body with one file part, as browsers and curl send it. */
export function multipartBody(file: MultipartFile, boundary = 'orderstream-fuzz-boundary'): { contentType: string; payload: Buffer } {
  return {
    contentType: `multipart/form-data; boundary=${boundary}`,
    payload: Buffer.concat([
      Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="${file.field}"; filename="${file.filename}"\r\nContent-Type: ${file.contentType}\r\n\r\n`),
      typeof file.content === 'string' ? Buffer.from(file.content) : Buffer.from(file.content),
      Buffer.from(`\r\n--${boundary}--\r\n`),
    ]),
  };
}

function validParts(operation: FuzzOperation, document: OpenApiDocument, hints: FuzzHints): fc.Arbitrary<RequestParts> {
  const named = { ...hints.byName, ...hints.byOperation?.[operation.key] };
  const inPath = operation.parameters.filter((parameter) => parameter.in === 'path');
  const inQuery = operation.parameters.filter((parameter) => parameter.in === 'query');
  const inHeaders = operation.parameters.filter((parameter) => parameter.in === 'header');
  const valueOf = (parameter: OpenApiParameter) => schemaValues(parameter.schema, document, named, parameter.name).map(asParameterText);
  const optional = <T>(arbitrary: fc.Arbitrary<T>, required: boolean | undefined) => (required === true ? arbitrary : fc.option(arbitrary, { nil: undefined }));
  const multipart = hints.multipart?.[operation.key];
  const body: fc.Arbitrary<RequestParts['body']> = multipart !== undefined
    ? fc.constant(multipart.validFile).map((file) => ({ kind: 'raw' as const, ...multipartBody(file) }))
    : operation.body === undefined
      ? fc.constant({ kind: 'none' as const })
      : schemaValues(operation.body, document, named).map((value) => ({ kind: 'json' as const, value }));
  return fc.record({
    path: fc.record(Object.fromEntries(inPath.map((parameter) => [parameter.name, valueOf(parameter).filter((text) => text !== '').map(percentEncode)]))),
    query: fc.tuple(...inQuery.map((parameter) => optional(valueOf(parameter).map((text): [string, string] => [encodeURIComponent(parameter.name), percentEncode(text)]), parameter.required)))
      .map((entries) => entries.filter((entry): entry is [string, string] => entry !== undefined)),
    headers: fc.tuple(...inHeaders.map((parameter) => optional(valueOf(parameter).map((text): [string, string] => [parameter.name, text]), parameter.required)))
      .map((entries) => Object.fromEntries(entries.filter((entry): entry is [string, string] => entry !== undefined))),
    body,
  });
}

/** Every place in a JSON value (`[]` is the whole value), with the schema that describes it when known. */
function placesIn(value: unknown, schema: JsonSchema | undefined, document: OpenApiDocument, at: readonly (string | number)[] = []): { at: readonly (string | number)[]; schema: JsonSchema | undefined }[] {
  const resolved = schema === undefined ? undefined : resolve(schema, document);
  const places = [{ at, schema: resolved }];
  if (Array.isArray(value)) {
    value.forEach((item, index) => places.push(...placesIn(item, resolved?.items, document, [...at, index])));
  } else if (value !== null && typeof value === 'object' && !(value instanceof RawJson)) {
    for (const [key, item] of Object.entries(value)) places.push(...placesIn(item, resolved?.properties?.[key], document, [...at, key]));
  }
  return places;
}

/** `value` with the place `at` replaced (or, with `remove`, deleted). */
function replaceAt(value: unknown, at: readonly (string | number)[], replacement: unknown, remove = false): unknown {
  const [head, ...rest] = at;
  if (head === undefined) return replacement;
  if (Array.isArray(value)) {
    const copy: unknown[] = [...(value as unknown[])];
    if (rest.length === 0 && remove) copy.splice(Number(head), 1);
    else copy[Number(head)] = replaceAt(copy[Number(head)], rest, replacement, remove);
    return copy;
  }
  const entries = Object.entries(value as Record<string, unknown>);
  if (rest.length === 0 && remove) return Object.fromEntries(entries.filter(([key]) => key !== String(head)));
  return { ...Object.fromEntries(entries), [String(head)]: replaceAt((value as Record<string, unknown>)[String(head)], rest, replacement, remove) };
}

const fieldName = (at: readonly (string | number)[]) => (at.length === 0 ? '(whole body)' : at.map((part) => (typeof part === 'number' ? `[${part}]` : `.${part}`)).join('').replace(/^\./, ''));

/** Values just outside what `schema` allows: one below and above its bounds, one character too short and too long. */
function boundaryValues(schema: JsonSchema | undefined): (readonly [string, unknown])[] {
  if (schema === undefined) return [];
  const values: (readonly [string, unknown])[] = [];
  if (schema.minimum !== undefined) values.push([`minimum - 1 (${schema.minimum - 1})`, schema.minimum - 1]);
  if (schema.maximum !== undefined) values.push([`maximum + 1 (${schema.maximum + 1})`, schema.maximum + 1]);
  if (schema.minLength !== undefined && schema.minLength > 0) values.push([`minLength - 1 (${schema.minLength - 1})`, 'a'.repeat(schema.minLength - 1)]);
  if (schema.maxLength !== undefined) values.push([`maxLength + 1 (${schema.maxLength + 1})`, 'A'.repeat(schema.maxLength + 1)]);
  return values;
}

function bodyMutations(parts: RequestParts, operation: FuzzOperation, document: OpenApiDocument): fc.Arbitrary<{ parts: RequestParts; mutation: string }>[] {
  const mutations: fc.Arbitrary<{ parts: RequestParts; mutation: string }>[] = [];
  const withBody = (body: RequestParts['body'], mutation: string) => ({ parts: { ...parts, body }, mutation });
  const { body } = parts;
  if (body.kind === 'json') {
    const places = placesIn(body.value, operation.body, document);
    mutations.push(fc.constantFrom(...places).chain((place) => fc.constantFrom(...hostileJsonValues, ...boundaryValues(place.schema)).map(([label, hostile]) =>
      withBody({ kind: 'json', value: replaceAt(body.value, place.at, hostile) }, `body ${fieldName(place.at)}: ${label}`))));
    const removable = places.filter((place) => place.at.length > 0);
    if (removable.length > 0) {
      mutations.push(fc.constantFrom(...removable).map((place) => withBody({ kind: 'json', value: replaceAt(body.value, place.at, undefined, true) }, `body ${fieldName(place.at)}: missing`)));
    }
    const objects = places.filter((place) => place.schema?.type === 'object' || (place.schema?.properties !== undefined));
    if (objects.length > 0) {
      mutations.push(fc.tuple(fc.constantFrom(...objects), fc.constantFrom('extra', 'isAdmin', 'roles', 'id', 'customerId')).map(([place, key]) =>
        withBody({ kind: 'json', value: replaceAt(body.value, [...place.at, key], key === 'roles' ? ['admin'] : 'x') }, `body ${fieldName([...place.at, key])}: extra field`)));
    }
    const text = toJsonText(body.value);
    mutations.push(fc.constantFrom(...otherContentTypes).map((contentType) => withBody({ kind: 'raw', contentType, payload: text }, `content-type ${contentType}`)));
    mutations.push(fc.constant(withBody({ kind: 'raw', contentType: undefined, payload: text }, 'no content-type')));
  }
  if (body.kind === 'raw' || body.kind === 'json') {
    mutations.push(fc.constant(withBody({ kind: 'none' }, 'no body')));
  }
  mutations.push(fc.constantFrom(...malformedJsonBodies).map(([label, payload]) => withBody({ kind: 'raw', contentType: 'application/json', payload }, `malformed JSON: ${label}`)));
  mutations.push(fc.constantFrom(...hostileJsonValues).map(([label, value]) => withBody({ kind: 'json', value }, `body ${label}`)));
  return mutations;
}

function parameterMutations(parts: RequestParts, operation: FuzzOperation): fc.Arbitrary<{ parts: RequestParts; mutation: string; path?: string }>[] {
  const mutations: fc.Arbitrary<{ parts: RequestParts; mutation: string; path?: string }>[] = [];
  const inPath = operation.parameters.filter((parameter) => parameter.in === 'path');
  const inQuery = operation.parameters.filter((parameter) => parameter.in === 'query');
  const inHeaders = operation.parameters.filter((parameter) => parameter.in === 'header');
  const encodedBoundaries = (schema: JsonSchema) => boundaryValues(schema).map(([label, value]) => [label, percentEncode(String(value))] as const);
  if (inPath.length > 0) {
    mutations.push(fc.constantFrom(...inPath).chain((parameter) => fc.constantFrom(...hostileEncodedValues, ...encodedBoundaries(parameter.schema))
      .map(([label, encoded]) => ({
        parts: { ...parts, path: { ...parts.path, [parameter.name]: encoded } }, mutation: `path ${parameter.name}: ${label}`,
        // An empty segment leaves `/v1/products/`: another route (trailing slashes are ignored) answers it.
        ...(encoded === '' ? { path: operation.path } : {}),
      }))));
  }
  if (inQuery.length > 0) {
    mutations.push(fc.constantFrom(...inQuery).chain((parameter) => fc.constantFrom(...hostileEncodedValues, ...encodedBoundaries(parameter.schema), ['empty', ''] as const)
      .map(([label, encoded]) => ({
        parts: { ...parts, query: [...parts.query.filter(([name]) => name !== parameter.name), [parameter.name, encoded] as [string, string]] },
        mutation: `query ${parameter.name}: ${label}`,
      }))));
    mutations.push(fc.tuple(fc.constantFrom(...inQuery), fc.constantFrom(['the same value', 'same'] as const, ['a hostile value', '%zz'] as const, ['another value', '1'] as const))
      .map(([parameter, [label, second]]) => {
        const first = parts.query.find(([name]) => name === parameter.name)?.[1] ?? '1';
        return {
          parts: { ...parts, query: [...parts.query.filter(([name]) => name !== parameter.name), [parameter.name, first], [parameter.name, second === 'same' ? first : second]] as [string, string][] },
          mutation: `query ${parameter.name}: repeated with ${label}`,
        };
      }));
  }
  mutations.push(fc.constantFrom(['unknown parameter', 'unknown=1'] as const, ['bad percent-encoding in a name', '%zz=1'] as const, ['lone %', '%'] as const, ['ampersands only', '&&&'] as const, ['__proto__', '__proto__%5Badmin%5D=1'] as const)
    .map(([label, extra]) => ({ parts: { ...parts, query: [...parts.query, [extra, undefined] as [string, undefined]] }, mutation: `query: ${label}` })));
  for (const parameter of inHeaders) {
    const others = Object.fromEntries(Object.entries(parts.headers).filter(([name]) => name !== parameter.name));
    mutations.push(fc.constantFrom(['missing', undefined] as const, ['empty', ''] as const, ['blank', '   '] as const, ['300 characters', 'k'.repeat(300)] as const, ['latin-1', 'clé-é'] as const, ['8 kB', 'k'.repeat(8 * 1024)] as const)
      .map(([label, value]) => ({ parts: { ...parts, headers: value === undefined ? others : { ...others, [parameter.name]: value } }, mutation: `header ${parameter.name}: ${label}` })));
  }
  mutations.push(fc.constantFrom(['200 characters', 'r'.repeat(200)] as const, ['spaces', 'a b c'] as const, ['latin-1', 'réq'] as const)
    .map(([label, value]) => ({ parts: { ...parts, headers: { ...parts.headers, 'x-request-id': value } }, mutation: `header x-request-id: ${label}` })));
  mutations.push(fc.constantFrom(...hostileHeaders).map(([label, name, value]) => ({ parts: { ...parts, headers: { ...parts.headers, [name]: value } }, mutation: `header ${name}: ${label}` })));
  return mutations;
}

/** Headers every route must survive: broken credentials, encodings it cannot read, answers it cannot give. */
const hostileHeaders: readonly (readonly [string, string, string])[] = [
  ['bearer without a token', 'authorization', 'Bearer'], ['bearer of 8 kB', 'authorization', `Bearer ${'a'.repeat(8 * 1024)}`],
  ['basic credentials', 'authorization', 'Basic YWRtaW46YWRtaW4='], ['lower-case scheme and junk', 'authorization', 'bearer a.b.c'],
  ['two tokens', 'authorization', 'Bearer a.b.c, Bearer d.e.f'], ['a JWT saying alg none', 'authorization', `Bearer ${Buffer.from('{"alg":"none","typ":"JWT"}').toString('base64url')}.${Buffer.from('{"sub":"admin-1","roles":["admin"]}').toString('base64url')}.`],
  ['gzip it is not', 'content-encoding', 'gzip'], ['unknown encoding', 'content-encoding', 'x-unknown'],
  ['XML only', 'accept', 'application/xml'], ['nothing acceptable', 'accept', 'image/png;q=1, */*;q=0'],
  ['a forged client address', 'x-forwarded-for', '10.0.0.1, 127.0.0.1'], ['a client-set gateway signature', 'x-orderstream-caller', 'forged'],
];

/** Other methods and other spellings of the operation's path. */
function routeMutations(parts: RequestParts, operation: FuzzOperation, document: OpenApiDocument): fc.Arbitrary<{ parts: RequestParts; mutation: string; method?: string; path?: string }>[] {
  // Only methods no operation of this path has, so the answer is never another operation's.
  const declared = Object.keys(document.paths[operation.path] ?? {}).map((method) => method.toUpperCase());
  const otherMethods = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'].filter((method) => !declared.includes(method));
  return [
    fc.constantFrom(...otherMethods).map((method) => ({ parts, mutation: `method ${method}`, method })),
    fc.constantFrom(
      ['double slashes', (path: string) => path.replaceAll('/', '//')], ['upper case', (path: string) => path.toUpperCase()],
      ['a matrix parameter', (path: string) => `${path};jsessionid=1`], ['an extra segment', (path: string) => `${path}/extra`],
      ['an encoded slash before it', (path: string) => `%2F${path.slice(1)}`], ['a fragment', (path: string) => `${path}#fragment`],
    ).map(([label, change]) => ({ parts, mutation: `path ${label}`, path: change(operation.path) })),
    fc.constant({ parts: { ...parts, body: { kind: 'json', value: { padding: 'x'.repeat(2 * 1024 * 1024) } } }, mutation: 'body of 2 MiB' }),
  ];
}

function multipartMutations(parts: RequestParts, files: { invalidFiles: readonly MultipartFile[] }): fc.Arbitrary<{ parts: RequestParts; mutation: string }>[] {
  const withBody = (body: RequestParts['body'], mutation: string) => ({ parts: { ...parts, body }, mutation });
  const mutations = [
    fc.constantFrom(...files.invalidFiles).map((file) => withBody({ kind: 'raw', ...multipartBody(file) }, `file: ${file.label}`)),
    fc.constantFrom(
      ['no boundary', 'multipart/form-data', '--x\r\n'] as const,
      ['boundary never closed', 'multipart/form-data; boundary=b', '--b\r\nContent-Disposition: form-data; name="file"; filename="a.csv"\r\n\r\nsku'] as const,
      ['no parts', 'multipart/form-data; boundary=b', '--b--\r\n'] as const,
      ['a field but no file', 'multipart/form-data; boundary=b', '--b\r\nContent-Disposition: form-data; name="note"\r\n\r\nhello\r\n--b--\r\n'] as const,
      ['JSON instead', 'application/json', '{"file":"sku,name"}'] as const,
      ['CSV as the body', 'text/csv', 'sku,name,description,price,currency,stock\r\n'] as const,
    ).map(([label, contentType, payload]) => withBody({ kind: 'raw', contentType, payload }, `multipart: ${label}`)),
  ];
  return mutations;
}

/** Requests for `operation`: valid ones (about a third) and broken ones, each with the caller that sends it. */
export function fuzzCases(operation: FuzzOperation, document: OpenApiDocument, hints: FuzzHints = {}): fc.Arbitrary<FuzzCase> {
  const multipart = hints.multipart?.[operation.key];
  // The right caller half the time, so most cases get past the edge to the route's own checks.
  const callers = fc.oneof({ arbitrary: fc.constant<CallerKind>('required'), weight: 3 }, { arbitrary: fc.constantFrom(...callerKinds.filter((kind) => kind !== 'required')), weight: 3 });
  return fc.tuple(validParts(operation, document, hints), callers).chain(([parts, caller]) => {
    const mutations: fc.Arbitrary<{ parts: RequestParts; mutation: string; method?: string; path?: string }>[] = [
      ...parameterMutations(parts, operation),
      ...(multipart === undefined ? bodyMutations(parts, operation, document) : multipartMutations(parts, multipart)),
      ...routeMutations(parts, operation, document),
    ];
    const broken = fc.oneof(...mutations).map((changed) => ({ ...changed, valid: false }));
    return fc.oneof({ arbitrary: fc.constant({ parts, mutation: 'valid', valid: true }), weight: 1 }, { arbitrary: broken, weight: 2 })
      .map((chosen): FuzzCase => {
        const routeChanged = 'method' in chosen || 'path' in chosen;
        return { operation: operation.key, mutation: chosen.mutation, valid: chosen.valid, routeChanged, caller, request: render(operation, chosen.parts, routeChanged ? chosen : {}) };
      });
  });
}

/** Labelled values for the sweep; `text` is what goes into a URL (percent-encoded) or a JSON string. */
type SweepValue = readonly [label: string, value: unknown];

/** `text` with `inserted` in its middle (`A…B` when `text` is empty). */
function inside(text: string, inserted: string): string {
  const base = text === '' ? 'AB' : text;
  const middle = Math.floor(base.length / 2);
  return `${base.slice(0, middle)}${inserted}${base.slice(middle)}`;
}

/** The most dangerous strings for a place whose valid value is `base`: one request each. */
function sweepStrings(base: unknown): SweepValue[] {
  const text = typeof base === 'string' ? base : 'AB';
  return [['NUL', '\u0000'], ['NUL inside text', inside(text, '\u0000')], ['lone surrogate inside text', inside(text, '\uD800')], ['100 kB string', hundredKilobytes]];
}

/** The most dangerous numbers, for a place that holds a number: beyond double, negative, beyond exact integers. */
const sweepNumbers: readonly SweepValue[] = [['1e309', new RawJson('1e309')], ['-1', -1], ['2^53 + 1', new RawJson('9007199254740993')]];

/** Percent-encoding no decoder accepts, for a place in the URL. */
const sweepBadEncodings: readonly (readonly [string, string])[] = [['%zz', '%zz'], ['%FF (not UTF-8)', '%FF']];

/**
 * Out-of-range and garbage dates for a keyset cursor (base64url JSON of [createdAt, id]): dates
 * JavaScript holds but PostgreSQL may not (before 4713 BC, after 9999), and what is no date at all.
 */
const sweepCursorDates: readonly SweepValue[] = [
  ['year 10000', '+010000-01-01T00:00:00.000Z'], ['year -1', '-000001-01-01T00:00:00.000Z'], ['year -10000', '-010000-01-01T00:00:00.000Z'],
  ['the earliest JavaScript date', '-271821-04-20T00:00:00.000Z'], ['the latest JavaScript date', '+275760-09-13T00:00:00.000Z'],
  ['not a date', 'not a date'], ['a number', 1_767_225_600_000],
];

/** Cursors whose date or id no page could have written, built around the id of `valid` (a real cursor) when it has one. */
function sweepCursors(valid: string | undefined): (readonly [string, string])[] {
  let id = '00000000-0000-4000-8000-000000000000';
  try {
    const decoded: unknown = JSON.parse(Buffer.from(valid ?? '', 'base64url').toString('utf8'));
    if (Array.isArray(decoded) && typeof decoded[1] === 'string') id = decoded[1];
  } catch {
    // Not a cursor of this shape: the made-up id stands in.
  }
  const ids: readonly SweepValue[] = [['a valid id', id], ['an invalid id', 'not-an-id'], ['a NUL id', '\u0000']];
  const cursor = (createdAt: unknown, cursorId: unknown) => Buffer.from(JSON.stringify([createdAt, cursorId])).toString('base64url');
  return [
    ...sweepCursorDates.flatMap(([dateLabel, createdAt]) => ids.map(([idLabel, cursorId]) => [`cursor of ${dateLabel} and ${idLabel}`, cursor(createdAt, cursorId)] as const)),
    ['cursor of a valid date and a NUL id', cursor('2026-01-01T00:00:00.000Z', '\u0000')],
    ['cursor of a valid date and a 100 kB id', cursor('2026-01-01T00:00:00.000Z', hundredKilobytes)],
    ['cursor of a valid date and a number id', cursor('2026-01-01T00:00:00.000Z', 1)],
  ];
}

/** The first value `arbitrary` draws from `seed`: the same on every run. */
function drawn(arbitrary: fc.Arbitrary<unknown>, seed: number): unknown {
  return fc.sample(arbitrary, { seed, numRuns: 1 })[0];
}

/**
 * A valid value of `schema` with every property present (optional ones too) and one item in every
 * array, so each place a value can go is there to be swept; hints win where they name the place.
 */
function exampleOf(raw: JsonSchema, document: OpenApiDocument, named: Readonly<Record<string, fc.Arbitrary<unknown>>>, seed: number, name?: string, depth = 0): unknown {
  const hint = name === undefined ? undefined : named[name];
  if (hint !== undefined) return drawn(hint, seed);
  const schema = resolve(raw, document);
  if (schema.const !== undefined) return schema.const;
  if (schema.enum !== undefined) return schema.enum[0];
  const choices = schema.anyOf ?? schema.oneOf;
  if (choices !== undefined) {
    const choice = choices.find((candidate) => resolve(candidate, document).type !== 'null') ?? choices[0];
    return choice === undefined ? null : exampleOf(choice, document, named, seed, undefined, depth);
  }
  const type = Array.isArray(schema.type) ? schema.type.find((candidate) => candidate !== 'null') : schema.type;
  if (depth > 8) return null;
  switch (type) {
    case 'object': {
      const entries = Object.entries(schema.properties ?? {}).map(([key, property]) => [key, exampleOf(property, document, named, seed, key, depth + 1)] as const);
      return Object.fromEntries(entries);
    }
    case 'array': {
      const count = Math.max(schema.minItems ?? 0, 1);
      return Array.from({ length: count }, () => (schema.items === undefined ? 'sweep' : exampleOf(schema.items, document, named, seed, undefined, depth + 1)));
    }
    case 'integer':
    case 'number':
      return Math.min(Math.max(1, schema.minimum ?? 1), schema.maximum ?? 1);
    case 'boolean':
      return true;
    case 'string':
      if (schema.pattern === undefined && schema.format === undefined) {
        return 'sweep'.padEnd(schema.minLength ?? 0, 'x').slice(0, Math.max(schema.maxLength ?? 5, schema.minLength ?? 0));
      }
      return drawn(stringsOf(schema), seed);
    default:
      return drawn(fromSchema({ ...schema, ...(type === undefined ? {} : { type }) }, document, named, depth), seed);
  }
}

/** Whether `schema` (or the value it describes, `value`) is a number. */
function holdsNumber(schema: JsonSchema | undefined, value: unknown): boolean {
  const types = schema === undefined ? [] : Array.isArray(schema.type) ? schema.type : [schema.type];
  return types.includes('integer') || types.includes('number') || typeof value === 'number';
}

/** Whether `schema` (or the value it describes, `value`) may be text: a string, or anything undeclared. */
function holdsText(schema: JsonSchema | undefined, value: unknown): boolean {
  if (typeof value === 'string') return true;
  if (schema?.type === undefined) return typeof value !== 'number' && typeof value !== 'boolean';
  return (Array.isArray(schema.type) ? schema.type : [schema.type]).includes('string');
}

/**
 * The sweep of `operation`: its valid request as the right caller (case 0), then that request with
 * one place changed to one of a short list of the most dangerous values, one request each: every
 * JSON body field at any depth (array items included), every path and every query parameter get NUL,
 * NUL inside text, a lone surrogate and a 100 kB string; places of numbers get 1e309, -1 and 2^53 + 1;
 * places in the URL get bad percent-encoding; `cursor` parameters get cursors of out-of-range and
 * garbage dates with valid and invalid ids. The list is the same on every run with the same seed and
 * hints, so a case is replayed by its index.
 */
export function sweepCases(operation: FuzzOperation, document: OpenApiDocument, hints: FuzzHints = {}, seed = 0): FuzzCase[] {
  const shared = { ...hints.byName, ...hints.byOperation?.[operation.key] };
  const uniqueFor = (index: number) => Object.fromEntries(Object.entries(hints.sweepUnique?.[operation.key] ?? {}).map(([name, make]) => [name, fc.constant(make(index))]));
  const named = { ...shared, ...uniqueFor(0) };
  const valueOf = (parameter: OpenApiParameter) => asParameterText(exampleOf(parameter.schema, document, named, seed, parameter.name));
  const inPath = operation.parameters.filter((parameter) => parameter.in === 'path');
  // Optional query parameters only where a hint says what reaches real data: a made-up cursor would refuse every case.
  const inQuery = operation.parameters.filter((parameter) => parameter.in === 'query' && (parameter.required === true || named[parameter.name] !== undefined));
  const inHeaders = operation.parameters.filter((parameter) => parameter.in === 'header' && (parameter.required === true || named[parameter.name] !== undefined));
  const multipart = hints.multipart?.[operation.key];
  const base: Omit<RequestParts, 'headers'> = {
    path: Object.fromEntries(inPath.map((parameter) => [parameter.name, percentEncode(nonEmpty(valueOf(parameter)))])),
    query: inQuery.map((parameter) => [encodeURIComponent(parameter.name), percentEncode(valueOf(parameter))]),
    body: multipart !== undefined
      ? { kind: 'raw', ...multipartBody(multipart.validFile) }
      : operation.body === undefined ? { kind: 'none' } : { kind: 'json', value: exampleOf(operation.body, document, named, seed) },
  };
  const changes: { mutation: string; parts: Omit<RequestParts, 'headers'>; field?: { at: readonly (string | number)[]; replacement: unknown } }[] = [{ mutation: 'valid', parts: base }];
  const urlValues = (parameter: OpenApiParameter, valid: string | undefined): (readonly [string, string])[] => [
    ...sweepStrings(valid === undefined ? undefined : decodeURIComponentOr(valid)).map(([label, value]) => [label, percentEncode(String(value))] as const),
    ...sweepBadEncodings,
    ...(holdsNumber(resolve(parameter.schema, document), undefined) ? sweepNumbers.map(([label, value]) => [label, value instanceof RawJson ? value.text : String(value)] as const) : []),
    ...(/cursor$/i.test(parameter.name) ? sweepCursors(valid === undefined ? undefined : decodeURIComponentOr(valid)) : []),
  ];
  for (const parameter of inPath) {
    for (const [label, encoded] of urlValues(parameter, base.path[parameter.name])) {
      changes.push({ mutation: `path ${parameter.name}: ${label}`, parts: { ...base, path: { ...base.path, [parameter.name]: encoded } } });
    }
  }
  for (const parameter of operation.parameters.filter((candidate) => candidate.in === 'query')) {
    const name = encodeURIComponent(parameter.name);
    const others = base.query.filter(([candidate]) => candidate !== name);
    for (const [label, encoded] of urlValues(parameter, base.query.find(([candidate]) => candidate === name)?.[1])) {
      changes.push({ mutation: `query ${parameter.name}: ${label}`, parts: { ...base, query: [...others, [name, encoded]] } });
    }
  }
  if (base.body.kind === 'json' && operation.body !== undefined) {
    const { value } = base.body;
    for (const place of placesIn(value, operation.body, document).filter((candidate) => candidate.at.length > 0)) {
      const current = valueAt(value, place.at);
      if (current !== null && typeof current === 'object' && !(current instanceof RawJson)) continue;
      const hostile = [...(holdsText(place.schema, current) ? sweepStrings(current) : []), ...(holdsNumber(place.schema, current) ? sweepNumbers : [])];
      for (const [label, replacement] of hostile) {
        changes.push({ mutation: `body ${fieldName(place.at)}: ${label}`, parts: base, field: { at: place.at, replacement } });
      }
    }
  }
  return changes.map(({ mutation, parts, field }, index) => {
    // Drawn afresh for each case: an idempotency key must not repeat, or the first answer is replayed to the rest.
    const headers = Object.fromEntries(inHeaders.map((parameter) => [parameter.name, asParameterText(drawn(schemaValues(parameter.schema, document, named, parameter.name), seed + index))]));
    let { body } = parts;
    if (body.kind === 'json' && operation.body !== undefined) {
      // The base body but for its unique values, so the places swept are the same in every case.
      const value = index === 0 ? body.value : exampleOf(operation.body, document, { ...shared, ...uniqueFor(index) }, seed);
      body = { kind: 'json', value: field === undefined ? value : replaceAt(value, field.at, field.replacement) };
    }
    return { operation: operation.key, mutation, valid: index === 0, routeChanged: false, caller: 'required', request: render(operation, { ...parts, body, headers }) };
  });
}

/** The value at the place `at` of `value`. */
function valueAt(value: unknown, at: readonly (string | number)[]): unknown {
  return at.reduce<unknown>((current, key) => (current !== null && typeof current === 'object' ? (current as Record<string | number, unknown>)[key] : undefined), value);
}

/** `encoded` decoded, or as it is when it does not decode. */
function decodeURIComponentOr(encoded: string): string {
  try {
    return decodeURIComponent(encoded);
  } catch {
    return encoded;
  }
}

const nonEmpty = (text: string) => (text === '' ? 'sweep' : text);

/** An answer as the transport received it. */
export interface FuzzResponse {
  statusCode: number;
  headers: Record<string, string | string[] | number | undefined>;
  body: string;
}

/** Row counts per `schema.table`. */
export type RowCounts = ReadonlyMap<string, number>;

/** Rows in every table of the database but those `ignore` matches, in one statement. */
export async function countRows(db: Database, ignore: (table: string) => boolean = () => false): Promise<RowCounts> {
  const tables = await sql<{ name: string }>`
    select quote_ident(table_schema) || '.' || quote_ident(table_name) as name from information_schema.tables
    where table_type = 'BASE TABLE' and table_schema not in ('pg_catalog', 'information_schema') order by 1`.execute(db);
  const names = tables.rows.map((row) => row.name).filter((name) => !ignore(name));
  if (names.length === 0) return new Map();
  const counts = await sql<{ name: string; count: number }>`${sql.raw(names.map((name) => `select '${name.replaceAll("'", "''")}' as name, count(*)::int as count from ${name}`).join(' union all '))}`.execute(db);
  return new Map(counts.rows.map((row) => [row.name, row.count]));
}

/** The tables whose row count differs between two snapshots, as `table: before → after`. */
export function changedTables(before: RowCounts, after: RowCounts): string[] {
  const names = new Set([...before.keys(), ...after.keys()]);
  return [...names].filter((name) => before.get(name) !== after.get(name)).map((name) => `${name}: ${before.get(name) ?? 0} → ${after.get(name) ?? 0}`);
}

/** A broken invariant: which one, and what shows it. */
export interface Violation {
  invariant: 'no 5xx' | 'problem+json' | 'refusal changes nothing' | 'declared response' | 'authorization';
  detail: string;
}

/** Checks answers against the document's declared responses and the problem+json contract. */
export function createResponseChecker(document: OpenApiDocument): (operation: FuzzOperation, response: FuzzResponse) => Violation[] {
  const ajv = new Ajv2020({ strict: false, allErrors: true, validateFormats: true });
  addFormats.default(ajv);
  ajv.addSchema({ $id: 'openapi.json', components: document.components ?? {} });
  const compiled = new Map<JsonSchema, ValidateFunction>();
  const validatorOf = (schema: JsonSchema) => {
    let validate = compiled.get(schema);
    if (validate === undefined) {
      const rooted = JSON.parse(JSON.stringify(schema).replaceAll('"#/components/', '"openapi.json#/components/')) as object;
      validate = ajv.compile(rooted);
      compiled.set(schema, validate);
    }
    return validate;
  };
  const problemSchema = document.components?.schemas?.Problem;
  if (problemSchema === undefined) throw new Error('the document declares no Problem schema');

  return (operation, response) => {
    const violations: Violation[] = [];
    const { statusCode } = response;
    const contentType = String(response.headers['content-type'] ?? '');
    const excerpt = `${statusCode} ${contentType} ${response.body.slice(0, 300)}`;
    if (statusCode >= 500) violations.push({ invariant: 'no 5xx', detail: excerpt });
    if (statusCode >= 400) {
      if (!contentType.startsWith('application/problem+json')) violations.push({ invariant: 'problem+json', detail: `content-type is not application/problem+json: ${excerpt}` });
      let problem: unknown;
      try {
        problem = JSON.parse(response.body);
      } catch {
        violations.push({ invariant: 'problem+json', detail: `the body is not JSON: ${excerpt}` });
        return violations;
      }
      const validate = validatorOf(problemSchema);
      if (!validate(problem)) violations.push({ invariant: 'problem+json', detail: `${ajv.errorsText(validate.errors)}: ${excerpt}` });
      const fields = problem as { status?: unknown; requestId?: unknown; type?: unknown; title?: unknown };
      if (fields.status !== statusCode) violations.push({ invariant: 'problem+json', detail: `status ${String(fields.status)} in a ${statusCode} answer: ${excerpt}` });
      if (typeof fields.requestId !== 'string' || fields.requestId === '') violations.push({ invariant: 'problem+json', detail: `no requestId: ${excerpt}` });
      else if (response.headers['x-request-id'] !== fields.requestId) violations.push({ invariant: 'problem+json', detail: `requestId ${fields.requestId} is not the x-request-id header ${String(response.headers['x-request-id'])}` });
      return violations;
    }
    if (statusCode >= 200 && statusCode < 300) {
      const declared = operation.responses[String(statusCode)];
      if (declared === undefined) {
        violations.push({ invariant: 'declared response', detail: `${statusCode} is not declared (declared: ${Object.keys(operation.responses).join(', ')}): ${excerpt}` });
        return violations;
      }
      if (declared.schema === undefined) return violations;
      if (!contentType.startsWith('application/json')) {
        violations.push({ invariant: 'declared response', detail: `a JSON body is declared, the content-type is ${contentType}: ${excerpt}` });
        return violations;
      }
      let body: unknown;
      try {
        body = JSON.parse(response.body);
      } catch {
        violations.push({ invariant: 'declared response', detail: `the body is not JSON: ${excerpt}` });
        return violations;
      }
      const validate = validatorOf(declared.schema);
      if (!validate(body)) violations.push({ invariant: 'declared response', detail: `${ajv.errorsText(validate.errors)}: ${excerpt}` });
    }
    return violations;
  };
}

/** A short, readable account of a case: who sent what, and the first bytes of its body. */
export function describeCase(fuzzCase: FuzzCase): string {
  const { request } = fuzzCase;
  const payload = request.payload === undefined ? '' : ` body ${JSON.stringify(String(request.payload).slice(0, 200))}${String(request.payload).length > 200 ? `… (${String(request.payload).length} characters)` : ''}`;
  const url = request.url.length > 200 ? `${request.url.slice(0, 200)}… (${request.url.length} characters)` : request.url;
  const headers = Object.entries(request.headers).filter(([name]) => name !== 'authorization')
    .map(([name, value]) => `${name}: ${value.length > 60 ? `${value.slice(0, 60)}…` : value}`).join('; ');
  return `${request.method} ${url} as ${fuzzCase.caller} [${fuzzCase.mutation}]${headers === '' ? '' : ` {${headers}}`}${payload}`;
}

/** Where fuzzed requests go, and how to count what they change. */
export interface FuzzTarget {
  send(request: FuzzRequest): Promise<FuzzResponse>;
  /** Row counts of the database(s) behind the target. */
  rowCounts(): Promise<RowCounts>;
  /** Waits until what an accepted request set off in the background has finished, so it is not taken for the next request's doing. */
  settle?(): Promise<void>;
}

/** A distinct broken invariant, with one case that shows it and how to replay that case. */
export interface FuzzFinding {
  operation: string;
  invariant: Violation['invariant'];
  mutation: string;
  status: number;
  detail: string;
  example: string;
  /** `FUZZ_SEED` and `FUZZ_PATH` that replay a random case (`path` is empty for a sweep case). */
  seed: number;
  path: string;
  /** The index in `sweepCases` (with the same seed) of a sweep case: `FUZZ_SWEEP_CASE` replays it. */
  sweepCase?: number;
}

/** Thrown while replaying a case, so fast-check shrinks it and keeps what it broke. */
class ViolationError extends Error {
  readonly statusCode: number;
  readonly violations: readonly Violation[];
  constructor(statusCode: number, violations: readonly Violation[]) {
    super(`${statusCode}: ${violations.map((violation) => `${violation.invariant}: ${violation.detail}`).join('; ')}`);
    this.name = 'ViolationError';
    this.statusCode = statusCode;
    this.violations = violations;
  }
}

/** Who may call an operation: the route policy's access. */
export type FuzzAccess = 'public' | 'customer' | 'admin' | 'service';

/**
 * Sends the sweep of `operation` (with `sweep`), then `numRuns` generated cases, and checks every
 * answer: never 5xx; every 4xx is problem+json with type, title, status and the request id; a
 * refused request leaves every row count as it was (unless `mayChange` allows the table for that
 * answer); a 2xx is declared and matches its schema; a caller without the route's role is never
 * served. Every case is sent and each distinct finding (invariant, status, what was broken) is
 * returned once, with what replays it. With `path` given, only that random case runs (and fast-check
 * shrinks it); with `sweepCase`, only that sweep case.
 */
export async function fuzzOperation(options: {
  operation: FuzzOperation;
  document: OpenApiDocument;
  hints: FuzzHints;
  access: FuzzAccess;
  /** Headers that make each kind of caller (the bearer token, or none). */
  callers: Readonly<Record<CallerKind, Readonly<Record<string, string>>>>;
  target: FuzzTarget;
  check: (operation: FuzzOperation, response: FuzzResponse) => Violation[];
  numRuns: number;
  seed: number;
  path?: string;
  /** Sends the deterministic sweep (see sweepCases) before the random cases. */
  sweep?: boolean;
  sweepCase?: number;
  mayChange?: (operation: FuzzOperation, statusCode: number, table: string) => boolean;
}): Promise<FuzzFinding[]> {
  const { operation, target, check } = options;
  let baseline = await target.rowCounts();
  const findings = new Map<string, FuzzFinding>();
  let run = 0;

  const examine = async (fuzzCase: FuzzCase): Promise<{ violations: Violation[]; statusCode: number }> => {
    const request = { ...fuzzCase.request, headers: { ...options.callers[fuzzCase.caller], ...fuzzCase.request.headers } };
    const response = await target.send(request);
    const violations = check(operation, response).filter((violation) => !fuzzCase.routeChanged || violation.invariant !== 'declared response');
    if (!fuzzCase.routeChanged && options.access !== 'public' && fuzzCase.caller !== 'required' && response.statusCode < 300) {
      violations.push({ invariant: 'authorization', detail: `a ${fuzzCase.caller} caller of a ${options.access} route was answered ${response.statusCode}` });
    }
    const accepted = response.statusCode >= 200 && response.statusCode < 300;
    if (accepted && operation.method !== 'GET') await target.settle?.();
    const after = await target.rowCounts();
    if (response.statusCode >= 400) {
      const changed = changedTables(baseline, after).filter((change) => !(options.mayChange?.(operation, response.statusCode, change.split(':')[0] ?? '') ?? false));
      if (changed.length > 0) violations.push({ invariant: 'refusal changes nothing', detail: `a ${response.statusCode} answer changed ${changed.join(', ')}` });
    }
    baseline = after;
    return { violations, statusCode: response.statusCode };
  };

  const record = (fuzzCase: FuzzCase, statusCode: number, violations: readonly Violation[], replay: { path: string } | { sweepCase: number }) => {
    for (const violation of violations) {
      const key = `${violation.invariant}|${statusCode}|${fuzzCase.mutation}`;
      if (findings.has(key)) continue;
      findings.set(key, {
        operation: operation.key, invariant: violation.invariant, mutation: fuzzCase.mutation, status: statusCode, detail: violation.detail,
        example: describeCase(fuzzCase), seed: options.seed, ...('path' in replay ? replay : { path: '', sweepCase: replay.sweepCase }),
      });
    }
  };

  if ((options.sweep === true || options.sweepCase !== undefined) && options.path === undefined) {
    const sweep = sweepCases(operation, options.document, options.hints, options.seed);
    for (const [index, fuzzCase] of sweep.entries()) {
      if (options.sweepCase !== undefined && index !== options.sweepCase) continue;
      const { violations, statusCode } = await examine(fuzzCase);
      if (process.env.FUZZ_VERBOSE !== undefined) console.log(`sweep ${index}`, statusCode, violations.length, describeCase(fuzzCase).slice(0, 300));
      record(fuzzCase, statusCode, violations, { sweepCase: index });
    }
    if (options.sweepCase !== undefined) return [...findings.values()];
  }

  const cases = fuzzCases(operation, options.document, options.hints);
  if (options.path !== undefined) {
    const details = await fc.check(fc.asyncProperty(cases, async (fuzzCase) => {
      const { violations, statusCode } = await examine(fuzzCase);
      if (violations.length > 0) throw new ViolationError(statusCode, violations);
    }), { seed: options.seed, path: options.path, numRuns: options.numRuns, endOnFailure: false });
    if (!details.failed || details.counterexample === null) return [];
    const [fuzzCase] = details.counterexample;
    const error = details.errorInstance;
    if (!(error instanceof ViolationError)) throw error;
    return error.violations.map((violation) => ({
      operation: operation.key, invariant: violation.invariant, mutation: fuzzCase.mutation, status: error.statusCode, detail: violation.detail,
      example: describeCase(fuzzCase), seed: options.seed, path: details.counterexamplePath,
    }));
  }
  await fc.check(fc.asyncProperty(cases, async (fuzzCase) => {
    const path = String(run);
    run += 1;
    const { violations, statusCode } = await examine(fuzzCase);
    // FUZZ_VERBOSE=1 prints every exchange, to see what the generators send.
    if (process.env.FUZZ_VERBOSE !== undefined) console.log(statusCode, violations.length, describeCase(fuzzCase).slice(0, 300));
    record(fuzzCase, statusCode, violations, { path });
    return true;
  }), { seed: options.seed, numRuns: options.numRuns });
  return [...findings.values()];
}

/** The findings as a report: each with the case that shows it and the command that replays that case from `testFile`. */
export function reportFindings(findings: readonly FuzzFinding[], testFile: string): string {
  return findings.map((finding) => [
    `- [${finding.invariant}] ${finding.operation} answered ${finding.status} to ${finding.mutation}`,
    `    ${finding.example}`,
    `    → ${finding.detail}`,
    `    replay: FUZZ_OPERATION='${finding.operation}' FUZZ_SEED=${finding.seed} ${finding.sweepCase === undefined ? `FUZZ_PATH=${finding.path}` : `FUZZ_SWEEP_CASE=${finding.sweepCase}`} npm test -- ${testFile}`,
  ].join('\n')).join('\n');
}
