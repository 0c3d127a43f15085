/** A product field breaks a catalogue rule. */
export class InvalidProductError extends Error {
  readonly field: string;
  constructor(field: string, reason: string) {
    super(`${field} ${reason}`);
    this.name = 'InvalidProductError';
    this.field = field;
  }
}

/** No product has this id. */
export class ProductNotFoundError extends Error {
  readonly productId: string;
  constructor(productId: string) {
    super(`Product ${productId} does not exist`);
    this.name = 'ProductNotFoundError';
    this.productId = productId;
  }
}

/** Another product already uses this SKU. */
export class DuplicateSkuError extends Error {
  readonly sku: string;
  constructor(sku: string) {
    super(`A product with SKU ${sku} already exists`);
    this.name = 'DuplicateSkuError';
    this.sku = sku;
  }
}

/** The product changed between reading and writing it; the caller may read again and retry. */
export class ProductModifiedConcurrentlyError extends Error {
  constructor(productId: string) {
    super(`Product ${productId} was changed by another request; read it again and retry`);
    this.name = 'ProductModifiedConcurrentlyError';
  }
}
