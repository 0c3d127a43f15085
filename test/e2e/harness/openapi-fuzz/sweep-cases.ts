import fc from 'fast-check';
import type { FuzzCase, FuzzHints } from './fuzz-case.ts';
import { sweepBadEncodings, sweepCursors, sweepNumbers, sweepStrings } from './hostile-values.ts';
import { fieldName, placesIn, replaceAt, valueAt } from './json-places.ts';
import { RawJson } from './json-text.ts';
import { resolve, type FuzzOperation, type OpenApiDocument, type OpenApiParameter } from './openapi-document.ts';
import { asParameterText, multipartBody, percentEncode, render, type RequestParts } from './request-parts.ts';
import { drawn, exampleOf, holdsNumber, holdsText } from './schema-examples.ts';
import { schemaValues } from './schema-values.ts';

/** The sweep: the valid request of an operation, then one request per place set to one of the most dangerous values. */

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

/** `encoded` decoded, or as it is when it does not decode. */
function decodeURIComponentOr(encoded: string): string {
  try {
    return decodeURIComponent(encoded);
  } catch {
    return encoded;
  }
}

const nonEmpty = (text: string) => (text === '' ? 'sweep' : text);
