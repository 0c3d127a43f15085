import type { Product } from '../domain/product.ts';
import type { ProductCursor, ProductRepository } from './ports.ts';

/** The cursor a client sent is not one this service issued. */
export class InvalidCursorError extends Error {
  constructor() {
    super('The cursor is not valid; use the nextCursor of a previous page');
    this.name = 'InvalidCursorError';
  }
}

export interface ListProductsInput {
  text?: string;
  minPriceAmount?: number;
  maxPriceAmount?: number;
  currency?: string;
  cursor?: string;
  limit: number;
}

/** Lists the catalogue in a stable order, filtered by text and price range, one cursor page at a time. */
export class ListProducts {
  readonly #products: ProductRepository;

  constructor(deps: { products: ProductRepository }) {
    this.#products = deps.products;
  }

  async execute(input: ListProductsInput): Promise<{ items: Product[]; nextCursor: string | null }> {
    const after = input.cursor === undefined ? undefined : decodeCursor(input.cursor);
    const page = await this.#products.list({
      ...(input.text === undefined ? {} : { text: input.text }),
      ...(input.minPriceAmount === undefined ? {} : { minPriceAmount: input.minPriceAmount }),
      ...(input.maxPriceAmount === undefined ? {} : { maxPriceAmount: input.maxPriceAmount }),
      ...(input.currency === undefined ? {} : { currency: input.currency }),
      ...(after === undefined ? {} : { after }),
      limit: input.limit,
    });
    return { items: page.items, nextCursor: page.next === null ? null : encodeCursor(page.next) };
  }
}

export function encodeCursor(cursor: ProductCursor): string {
  return Buffer.from(JSON.stringify([cursor.createdAt.toISOString(), cursor.id])).toString('base64url');
}

function decodeCursor(text: string): ProductCursor {
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
