import fc from 'fast-check';
import type { MultipartFile } from './fuzz-case.ts';
import { hostileEncodedValues, hostileHeaders, hostileJsonValues, malformedJsonBodies, otherContentTypes } from './hostile-values.ts';
import { boundaryValues, fieldName, placesIn, replaceAt } from './json-places.ts';
import { toJsonText } from './json-text.ts';
import type { FuzzOperation, JsonSchema, OpenApiDocument } from './openapi-document.ts';
import { multipartBody, percentEncode, type RequestParts } from './request-parts.ts';

/** The ways a valid request is broken on purpose: its body, its parameters and headers, its method and path, its upload. */

export function bodyMutations(parts: RequestParts, operation: FuzzOperation, document: OpenApiDocument): fc.Arbitrary<{ parts: RequestParts; mutation: string }>[] {
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

export function parameterMutations(parts: RequestParts, operation: FuzzOperation): fc.Arbitrary<{ parts: RequestParts; mutation: string; path?: string }>[] {
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

/** Other methods and other spellings of the operation's path. */
export function routeMutations(parts: RequestParts, operation: FuzzOperation, document: OpenApiDocument): fc.Arbitrary<{ parts: RequestParts; mutation: string; method?: string; path?: string }>[] {
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

export function multipartMutations(parts: RequestParts, files: { invalidFiles: readonly MultipartFile[] }): fc.Arbitrary<{ parts: RequestParts; mutation: string }>[] {
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
