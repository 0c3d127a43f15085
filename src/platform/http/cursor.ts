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

/** The position a cursor from `encodeCursor` names, or a 400 problem naming `field` when the client made it up. */
export function decodeCursor(text: string, field = 'cursor'): KeysetPosition {
  try {
    const decoded: unknown = JSON.parse(Buffer.from(text, 'base64url').toString('utf8'));
    if (Array.isArray(decoded) && decoded.length === 2 && typeof decoded[0] === 'string' && typeof decoded[1] === 'string') {
      const createdAt = new Date(decoded[0]);
      if (!Number.isNaN(createdAt.getTime())) return { createdAt, id: decoded[1] };
    }
  } catch {
    // Not base64url JSON: falls through to the problem below.
  }
  throw invalidRequest('The cursor is not valid; use the nextCursor of a previous page', [{ location: 'querystring', field, message: 'is not valid' }]);
}
