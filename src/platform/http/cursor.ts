import { invalidRequest } from './problem.ts';

/** Where a keyset page ends: the (createdAt, id) of its last item, which the next page starts after. */
export interface KeysetPosition {
  createdAt: Date;
  id: string;
}

/** The opaque `nextCursor` a client sends back to get the page after `position`. */
export function encodeCursor(position: KeysetPosition): string {
  return Buffer.from(JSON.stringify([position.createdAt.toISOString(), position.id])).toString('base64url');
}

// What `encodeCursor` writes: `toISOString()` of a date from year 1970 to 9999.
const timestampPattern = /^(19[7-9]\d|[2-9]\d{3})-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
const maxIdLength = 200;

/**
 * The position a cursor from `encodeCursor` names, or a 400 problem naming `field` when the client
 * made it up. A forged cursor is refused here rather than by PostgreSQL: its date must be one
 * `encodeCursor` could have written (year 1970 to 9999, well within PostgreSQL's range) and its id
 * short text without NUL.
 */
export function decodeCursor(text: string, field = 'cursor'): KeysetPosition {
  try {
    const decoded: unknown = JSON.parse(Buffer.from(text, 'base64url').toString('utf8'));
    if (Array.isArray(decoded) && decoded.length === 2 && typeof decoded[0] === 'string' && typeof decoded[1] === 'string') {
      const [timestamp, id] = decoded as [string, string];
      const createdAt = new Date(timestamp);
      // The pattern lets 2025-02-30 through; a date that does not write back the same is not one.
      const isDate = timestampPattern.test(timestamp) && !Number.isNaN(createdAt.getTime()) && createdAt.toISOString() === timestamp;
      if (isDate && id.length > 0 && id.length <= maxIdLength && !id.includes('\u0000')) return { createdAt, id };
    }
  } catch {
    // Not base64url JSON: falls through to the problem below.
  }
  throw invalidRequest('The cursor is not valid; use the nextCursor of a previous page', [{ location: 'querystring', field, message: 'is not valid' }]);
}
