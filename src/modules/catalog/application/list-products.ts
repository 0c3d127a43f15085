import type { ProductCursor, ProductPage, ProductRepository } from './ports.ts';

export interface ListProductsInput {
  text?: string;
  minPriceAmount?: number;
  maxPriceAmount?: number;
  currency?: string;
  after?: ProductCursor;
  limit: number;
}

/**
 * Lists the catalogue, each product with its SKU's reported stock, in a stable order, filtered by
 * text and price range, one page at a time after a position.
 */
export class ListProducts {
  readonly #products: ProductRepository;

  constructor(deps: { products: ProductRepository }) {
    this.#products = deps.products;
  }

  execute(input: ListProductsInput): Promise<ProductPage> {
    return this.#products.list({
      ...(input.text === undefined ? {} : { text: input.text }),
      ...(input.minPriceAmount === undefined ? {} : { minPriceAmount: input.minPriceAmount }),
      ...(input.maxPriceAmount === undefined ? {} : { maxPriceAmount: input.maxPriceAmount }),
      ...(input.currency === undefined ? {} : { currency: input.currency }),
      ...(input.after === undefined ? {} : { after: input.after }),
      limit: input.limit,
    });
  }
}
