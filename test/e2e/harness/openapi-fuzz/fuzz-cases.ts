import fc from 'fast-check';
import { callerKinds, type CallerKind, type FuzzCase, type FuzzHints } from './fuzz-case.ts';
import { bodyMutations, multipartMutations, parameterMutations, routeMutations } from './mutations.ts';
import type { FuzzOperation, OpenApiDocument, OpenApiParameter } from './openapi-document.ts';
import { asParameterText, multipartBody, percentEncode, render, type RequestParts } from './request-parts.ts';
import { schemaValues } from './schema-values.ts';

/** The random cases of an operation: a valid request drawn from the schemas, then sent as is or broken one way. */

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
