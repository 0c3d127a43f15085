/** JSON text written by hand, so a body can hold what JSON.stringify never writes. */

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
