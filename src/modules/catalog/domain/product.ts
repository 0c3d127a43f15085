import { money, sameMoney, type Money } from './money.ts';
import { InvalidProductError } from './product.errors.ts';
import { TimeOrderedIds } from '../../../kernel/time-ordered-id.ts';

/** A sellable item. The SKU is its identity towards inventory and orders and never changes. */
export interface Product {
  readonly id: string;
  readonly sku: string;
  readonly name: string;
  readonly description: string;
  readonly price: Money;
  readonly createdAt: Date;
  readonly updatedAt: Date;
  /** Incremented on every change; guards against lost updates. */
  readonly version: number;
}

export interface NewProduct {
  sku: string;
  name: string;
  description: string;
  price: Money;
}

export interface ProductChanges {
  name?: string;
  description?: string;
  price?: Money;
}

const skuPattern = /^[A-Z0-9][A-Z0-9._-]{0,63}$/;
export const maxNameLength = 200;
export const maxDescriptionLength = 5000;

/** Creates a product, enforcing every catalogue rule. SKUs are upper-cased so `ab-1` and `AB-1` are one SKU. */
const productIds = new TimeOrderedIds();

/**
 * A new product's id, `prod_` and a time-ordered UUID: ids made later sort later, so the products
 * table's indexes on the id and on (created_at, id) grow at their right edge, which a bulk import
 * of many thousands of products at once writes several times faster than ids at random places.
 */
export function newProductId(): string {
  return `prod_${productIds.next()}`;
}

export function createProduct(input: NewProduct, id: string, now: Date): Product {
  const sku = input.sku.trim().toUpperCase();
  if (!skuPattern.test(sku)) {
    throw new InvalidProductError('sku', 'must be 1-64 letters, digits, ".", "_" or "-", starting with a letter or digit');
  }
  return {
    id,
    sku,
    name: validName(input.name),
    description: validDescription(input.description),
    price: money(input.price.amount, input.price.currency),
    createdAt: now,
    updatedAt: now,
    version: 1,
  };
}

/** Applies changes; returns the same product when nothing actually changes (so no event is emitted). */
export function changeProduct(product: Product, changes: ProductChanges, now: Date): Product {
  const name = changes.name === undefined ? product.name : validName(changes.name);
  const description = changes.description === undefined ? product.description : validDescription(changes.description);
  const price = changes.price === undefined ? product.price : money(changes.price.amount, changes.price.currency);
  if (name === product.name && description === product.description && sameMoney(price, product.price)) return product;
  return { ...product, name, description, price, updatedAt: now, version: product.version + 1 };
}

function validName(name: string): string {
  const trimmed = name.trim();
  if (trimmed.length === 0) throw new InvalidProductError('name', 'must not be empty');
  if (trimmed.length > maxNameLength) throw new InvalidProductError('name', `must be at most ${maxNameLength} characters`);
  return trimmed;
}

function validDescription(description: string): string {
  const trimmed = description.trim();
  if (trimmed.length > maxDescriptionLength) throw new InvalidProductError('description', `must be at most ${maxDescriptionLength} characters`);
  return trimmed;
}
