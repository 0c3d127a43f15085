import type { Order } from '../domain/order.ts';
import type { OrderCursor, OrderReader } from './ports.ts';

/** The cursor a client sent is not one this service issued. */
export class InvalidOrderCursorError extends Error {
  constructor() {
    super('The cursor is not valid; use the nextCursor of a previous page');
    this.name = 'InvalidOrderCursorError';
  }
}

/** Lists the caller's own orders, newest first, a cursor page at a time. */
export class ListOrders {
  readonly #orders: OrderReader;

  constructor(deps: { orders: OrderReader }) {
    this.#orders = deps.orders;
  }

  async execute(customerId: string, page: { limit: number; cursor?: string }): Promise<{ items: Order[]; nextCursor: string | null }> {
    const after = page.cursor === undefined ? undefined : decodeCursor(page.cursor);
    const result = await this.#orders.listByCustomer(customerId, { limit: page.limit, ...(after === undefined ? {} : { after }) });
    return { items: result.items, nextCursor: result.next === null ? null : encodeCursor(result.next) };
  }
}

function encodeCursor(cursor: OrderCursor): string {
  return Buffer.from(JSON.stringify([cursor.createdAt.toISOString(), cursor.id])).toString('base64url');
}

function decodeCursor(text: string): OrderCursor {
  try {
    const decoded: unknown = JSON.parse(Buffer.from(text, 'base64url').toString('utf8'));
    if (Array.isArray(decoded) && decoded.length === 2 && typeof decoded[0] === 'string' && typeof decoded[1] === 'string') {
      const createdAt = new Date(decoded[0]);
      if (!Number.isNaN(createdAt.getTime())) return { createdAt, id: decoded[1] };
    }
  } catch {
    // falls through
  }
  throw new InvalidOrderCursorError();
}
