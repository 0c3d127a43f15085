import { RawJson } from './json-text.ts';

/**
 * The catalogue of values that break a request: those the random cases draw from, and the short
 * list of the most dangerous ones the sweep sends at every place, one request each.
 */

export const hundredKilobytes = 'a'.repeat(100 * 1024);

/** Values that break a JSON field: wrong types, boundaries, huge numbers, hostile and huge strings. */
export const hostileJsonValues: readonly (readonly [string, unknown])[] = [
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
export const hostileEncodedValues: readonly (readonly [string, string])[] = [
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
export const malformedJsonBodies: readonly (readonly [string, string])[] = [
  ['unclosed object', '{'], ['unclosed string', '{"a":"'], ['trailing comma', '{"a":1,}'], ['single quotes', "{'a':1}"], ['bare word', 'nope'],
  ['empty', ''], ['whitespace', '   '], ['NUL byte', '\u0000'], ['byte order mark then object', '\uFEFF{}'], ['two documents', '{}{}'],
  ['10,000 nested arrays', `${'['.repeat(10_000)}${']'.repeat(10_000)}`], ['10,000 nested objects', `${'{"a":'.repeat(10_000)}1${'}'.repeat(10_000)}`],
  ['__proto__ key', '{"__proto__":{"admin":true}}'], ['constructor.prototype key', '{"constructor":{"prototype":{"admin":true}}}'],
];

export const otherContentTypes: readonly string[] = [
  'text/plain', 'application/xml', 'application/x-www-form-urlencoded', 'multipart/form-data', 'application/json; charset=utf-16',
  'application/octet-stream', 'application/jsonx', 'text/json', '*/*', 'application/json, text/plain',
];

/** Headers every route must survive: broken credentials, encodings it cannot read, answers it cannot give. */
export const hostileHeaders: readonly (readonly [string, string, string])[] = [
  ['bearer without a token', 'authorization', 'Bearer'], ['bearer of 8 kB', 'authorization', `Bearer ${'a'.repeat(8 * 1024)}`],
  ['basic credentials', 'authorization', 'Basic YWRtaW46YWRtaW4='], ['lower-case scheme and junk', 'authorization', 'bearer a.b.c'],
  ['two tokens', 'authorization', 'Bearer a.b.c, Bearer d.e.f'], ['a JWT saying alg none', 'authorization', `Bearer ${Buffer.from('{"alg":"none","typ":"JWT"}').toString('base64url')}.${Buffer.from('{"sub":"admin-1","roles":["admin"]}').toString('base64url')}.`],
  ['gzip it is not', 'content-encoding', 'gzip'], ['unknown encoding', 'content-encoding', 'x-unknown'],
  ['XML only', 'accept', 'application/xml'], ['nothing acceptable', 'accept', 'image/png;q=1, */*;q=0'],
  ['a forged client address', 'x-forwarded-for', '10.0.0.1, 127.0.0.1'], ['a client-set gateway signature', 'x-orderstream-caller', 'forged'],
];

/** Labelled values for the sweep; `text` is what goes into a URL (percent-encoded) or a JSON string. */
export type SweepValue = readonly [label: string, value: unknown];

/** `text` with `inserted` in its middle (`A…B` when `text` is empty). */
function inside(text: string, inserted: string): string {
  const base = text === '' ? 'AB' : text;
  const middle = Math.floor(base.length / 2);
  return `${base.slice(0, middle)}${inserted}${base.slice(middle)}`;
}

/** The most dangerous strings for a place whose valid value is `base`: one request each. */
export function sweepStrings(base: unknown): SweepValue[] {
  const text = typeof base === 'string' ? base : 'AB';
  return [['NUL', '\u0000'], ['NUL inside text', inside(text, '\u0000')], ['lone surrogate inside text', inside(text, '\uD800')], ['100 kB string', hundredKilobytes]];
}

/** The most dangerous numbers, for a place that holds a number: beyond double, negative, beyond exact integers. */
export const sweepNumbers: readonly SweepValue[] = [['1e309', new RawJson('1e309')], ['-1', -1], ['2^53 + 1', new RawJson('9007199254740993')]];

/** Percent-encoding no decoder accepts, for a place in the URL. */
export const sweepBadEncodings: readonly (readonly [string, string])[] = [['%zz', '%zz'], ['%FF (not UTF-8)', '%FF']];

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
export function sweepCursors(valid: string | undefined): (readonly [string, string])[] {
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
