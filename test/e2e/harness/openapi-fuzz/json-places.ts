import { resolve, type JsonSchema, type OpenApiDocument } from './openapi-document.ts';
import { RawJson } from './json-text.ts';

/** The places of a JSON value (each field and item, at any depth), and how to read, replace or delete one. */

/** Every place in a JSON value (`[]` is the whole value), with the schema that describes it when known. */
export function placesIn(value: unknown, schema: JsonSchema | undefined, document: OpenApiDocument, at: readonly (string | number)[] = []): { at: readonly (string | number)[]; schema: JsonSchema | undefined }[] {
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
export function replaceAt(value: unknown, at: readonly (string | number)[], replacement: unknown, remove = false): unknown {
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

export const fieldName = (at: readonly (string | number)[]) => (at.length === 0 ? '(whole body)' : at.map((part) => (typeof part === 'number' ? `[${part}]` : `.${part}`)).join('').replace(/^\./, ''));

/** Values just outside what `schema` allows: one below and above its bounds, one character too short and too long. */
export function boundaryValues(schema: JsonSchema | undefined): (readonly [string, unknown])[] {
  if (schema === undefined) return [];
  const values: (readonly [string, unknown])[] = [];
  if (schema.minimum !== undefined) values.push([`minimum - 1 (${schema.minimum - 1})`, schema.minimum - 1]);
  if (schema.maximum !== undefined) values.push([`maximum + 1 (${schema.maximum + 1})`, schema.maximum + 1]);
  if (schema.minLength !== undefined && schema.minLength > 0) values.push([`minLength - 1 (${schema.minLength - 1})`, 'a'.repeat(schema.minLength - 1)]);
  if (schema.maxLength !== undefined) values.push([`maxLength + 1 (${schema.maxLength + 1})`, 'A'.repeat(schema.maxLength + 1)]);
  return values;
}

/** The value at the place `at` of `value`. */
export function valueAt(value: unknown, at: readonly (string | number)[]): unknown {
  return at.reduce<unknown>((current, key) => (current !== null && typeof current === 'object' ? (current as Record<string | number, unknown>)[key] : undefined), value);
}
