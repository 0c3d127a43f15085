import fc from 'fast-check';
import { resolve, type JsonSchema, type OpenApiDocument } from './openapi-document.ts';
import { fromSchema, stringsOf } from './schema-values.ts';

/** One fixed valid value of a schema, the same on every run with the same seed: what the sweep changes one place of. */

/** The first value `arbitrary` draws from `seed`: the same on every run. */
export function drawn(arbitrary: fc.Arbitrary<unknown>, seed: number): unknown {
  return fc.sample(arbitrary, { seed, numRuns: 1 })[0];
}

/**
 * A valid value of `schema` with every property present (optional ones too) and one item in every
 * array, so each place a value can go is there to be swept; hints win where they name the place.
 */
export function exampleOf(raw: JsonSchema, document: OpenApiDocument, named: Readonly<Record<string, fc.Arbitrary<unknown>>>, seed: number, name?: string, depth = 0): unknown {
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
export function holdsNumber(schema: JsonSchema | undefined, value: unknown): boolean {
  const types = schema === undefined ? [] : Array.isArray(schema.type) ? schema.type : [schema.type];
  return types.includes('integer') || types.includes('number') || typeof value === 'number';
}

/** Whether `schema` (or the value it describes, `value`) may be text: a string, or anything undeclared. */
export function holdsText(schema: JsonSchema | undefined, value: unknown): boolean {
  if (typeof value === 'string') return true;
  if (schema?.type === undefined) return typeof value !== 'number' && typeof value !== 'boolean';
  return (Array.isArray(schema.type) ? schema.type : [schema.type]).includes('string');
}
