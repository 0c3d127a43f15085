import fc from 'fast-check';
import { resolve, type JsonSchema, type OpenApiDocument } from './openapi-document.ts';

/** Values a schema accepts, drawn at random: what valid requests are made of. */

/** Whole numbers from `min` to `max` (any safe range), small ones and the bounds more often. */
function integersBetween(min: number, max: number): fc.Arbitrary<number> {
  const low = Math.max(min, Number.MIN_SAFE_INTEGER);
  const high = Math.min(max, Number.MAX_SAFE_INTEGER);
  const near = fc.bigInt({ min: BigInt(low), max: BigInt(Math.min(high, low + 1000)) }).map(Number);
  const anywhere = fc.bigInt({ min: BigInt(low), max: BigInt(high) }).map(Number);
  return fc.oneof({ arbitrary: near, weight: 3 }, { arbitrary: fc.constantFrom(low, high), weight: 1 }, { arbitrary: anywhere, weight: 1 });
}

/** Strings whose length the schema allows; ASCII mostly, any grapheme sometimes. */
export function stringsOf(schema: JsonSchema): fc.Arbitrary<string> {
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

export function fromSchema(raw: JsonSchema, document: OpenApiDocument, hints: Readonly<Record<string, fc.Arbitrary<unknown>>>, depth: number): fc.Arbitrary<unknown> {
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
