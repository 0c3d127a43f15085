import type { FuzzRequest, MultipartFile } from './fuzz-case.ts';
import { toJsonText } from './json-text.ts';
import type { FuzzOperation } from './openapi-document.ts';

/** A request in parts (path, query, headers, body), and how the parts are encoded and rendered as sent. */

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

export function asParameterText(value: unknown): string {
  if (typeof value === 'string') return value;
  return value === undefined ? '' : JSON.stringify(value);
}

/** The parts of a request before it is rendered; parameter values are percent-encoded already. */
export interface RequestParts {
  path: Record<string, string>;
  /** Encoded name and value; a value of `undefined` writes the name alone (`?%`). */
  query: [string, string | undefined][];
  headers: Record<string, string>;
  body: { kind: 'none' } | { kind: 'json'; value: unknown } | { kind: 'raw'; contentType: string | undefined; payload: string | Buffer };
}

export function render(operation: FuzzOperation, parts: RequestParts, overrides: { method?: string; path?: string } = {}): FuzzRequest {
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
