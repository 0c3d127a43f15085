import type { FieldError } from './problem.ts';

/**
 * U+0000 is refused in every request: PostgreSQL accepts it in neither `text` nor `jsonb`, so a NUL
 * that reached a use case would fail its statement (a 500) instead of being answered as bad input.
 */
const nulCharacter = '\u0000';

/** Reported at most, so an answer to a body full of NULs stays small. */
const maxReported = 20;

/** What the field error of a NUL says. */
export const nulCharacterMessage = 'must not contain the NUL character (U+0000)';

/** Whether `text` holds a NUL character. */
export function containsNulCharacter(text: string): boolean {
  return text.includes(nulCharacter);
}

/**
 * What the field error of a lone surrogate says. JSON may carry one (`"\ud800"`), but it is no
 * character: PostgreSQL refuses it in `jsonb` (an event's payload), so it too is refused up front.
 */
export const loneSurrogateMessage = 'must be well-formed Unicode (it holds a lone surrogate)';

/**
 * In a `u` regular expression a surrogate pair is one code point, so only a lone surrogate is of
 * category Cs. One pattern for both, so clean text (nearly all of it) is scanned once.
 */
// eslint-disable-next-line no-control-regex -- the NUL character is what this looks for
const unstorable = /\u0000|\p{Cs}/u;
const loneSurrogates = /\p{Cs}/gu;

/** Why `text` cannot be stored as it is, or undefined when it can. */
function textProblem(text: string): string | undefined {
  if (!unstorable.test(text)) return undefined;
  return containsNulCharacter(text) ? nulCharacterMessage : loneSurrogateMessage;
}

/**
 * The places of a request's parsed parts (path parameters, query, JSON body, headers) whose text
 * holds a NUL or a lone surrogate, keys included, as field errors named like the schema's (`items.0.sku`); none for a
 * clean request. Bodies that are not parsed JSON (a streamed upload, a buffer) are not read.
 * The walk keeps its own stack, so a deeply nested body cannot overflow the call stack.
 */
export function nulCharacterErrors(parts: Readonly<Record<string, unknown>>): FieldError[] {
  const errors: FieldError[] = [];
  for (const [location, root] of Object.entries(parts)) {
    const pending: { value: unknown; path: string }[] = [{ value: root, path: '' }];
    for (let next = pending.pop(); next !== undefined && errors.length < maxReported; next = pending.pop()) {
      const { value, path } = next;
      if (typeof value === 'string') {
        const problem = textProblem(value);
        if (problem !== undefined) errors.push({ location, field: path, message: problem });
      } else if (Array.isArray(value)) {
        for (let index = value.length - 1; index >= 0; index -= 1) pending.push({ value: value[index], path: join(path, String(index)) });
      } else if (isPlainObject(value)) {
        const entries = Object.entries(value);
        for (let index = entries.length - 1; index >= 0; index -= 1) {
          const [key, child] = entries[index] ?? ['', undefined];
          const problem = textProblem(key);
          if (problem !== undefined) errors.push({ location, field: join(path, key.replaceAll(nulCharacter, '\\u0000').replaceAll(loneSurrogates, '\ufffd')), message: `its name ${problem}` });
          else pending.push({ value: child, path: join(path, key) });
        }
      }
    }
  }
  return errors.slice(0, maxReported);
}

/**
 * Whether the query of `url` decodes: every `%` starts two hex digits and the bytes they make are
 * UTF-8. The query parser would otherwise keep such text as it is and hand it on undecoded.
 */
export function hasMalformedQuery(url: string): boolean {
  const start = url.indexOf('?');
  if (start === -1) return false;
  const query = url.slice(start + 1);
  if (!query.includes('%')) return false;
  try {
    decodeURIComponent(query);
    return false;
  } catch {
    return true;
  }
}

function join(path: string, key: string): string {
  return path === '' ? key : `${path}.${key}`;
}

/** A JSON object, or the router's and query parser's records (built on a prototype of their own without ancestors). */
function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null) return false;
  const prototype = Object.getPrototypeOf(value) as object | null;
  return prototype === null || prototype === Object.prototype || Object.getPrototypeOf(prototype) === null;
}
