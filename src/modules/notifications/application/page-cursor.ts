import type { PageCursor } from './ports.ts';

/** The cursor a client sent is not one this service issued. */
export class InvalidCursorError extends Error {
  constructor() {
    super('The cursor is not valid; use the nextCursor of a previous page');
    this.name = 'InvalidCursorError';
  }
}

export function encodeCursor(cursor: PageCursor): string {
  return Buffer.from(JSON.stringify([cursor.createdAt.toISOString(), cursor.id])).toString('base64url');
}

export function decodeCursor(text: string): PageCursor {
  try {
    const decoded: unknown = JSON.parse(Buffer.from(text, 'base64url').toString('utf8'));
    if (Array.isArray(decoded) && decoded.length === 2 && typeof decoded[0] === 'string' && typeof decoded[1] === 'string') {
      const createdAt = new Date(decoded[0]);
      if (!Number.isNaN(createdAt.getTime())) return { createdAt, id: decoded[1] };
    }
  } catch {
    // falls through to the error below
  }
  throw new InvalidCursorError();
}
