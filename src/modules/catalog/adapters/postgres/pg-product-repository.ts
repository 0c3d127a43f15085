import type { Kysely, Selectable } from 'kysely';
import type { Database } from '../../../../platform/database/database.ts';
import { appendToOutbox, createEnvelope } from '../../../../platform/messaging/index.ts';
import type { ProductPage, ProductQuery, ProductRepository } from '../../application/ports.ts';
import { catalogEvents, type ProductChangedV1 } from '../../contract.ts';
import { DuplicateSkuError, ProductModifiedConcurrentlyError } from '../../domain/product.errors.ts';
import type { Product } from '../../domain/product.ts';

/** The `catalog.products` table as stored. */
export interface ProductsTable {
  id: string;
  sku: string;
  name: string;
  description: string;
  price_amount: number;
  price_currency: string;
  created_at: Date;
  updated_at: Date;
  version: number;
}

// A type alias, not an interface: kysely needs the index signature an alias has.
// eslint-disable-next-line @typescript-eslint/consistent-type-definitions
type CatalogTables = {
  'catalog.products': ProductsTable;
};

type ProductRow = Selectable<ProductsTable>;

/** Products in PostgreSQL; each write and its outbox message commit in one transaction. */
export class PgProductRepository implements ProductRepository {
  readonly #db: Kysely<CatalogTables>;

  constructor(db: Database) {
    this.#db = db.$extendTables<CatalogTables>();
  }

  async findById(id: string): Promise<Product | undefined> {
    const row = await this.#db.selectFrom('catalog.products').selectAll().where('id', '=', id).executeTakeFirst();
    return row === undefined ? undefined : toProduct(row);
  }

  async findBySkus(skus: readonly string[]): Promise<Product[]> {
    if (skus.length === 0) return [];
    const rows = await this.#db.selectFrom('catalog.products').selectAll().where('sku', 'in', [...skus]).execute();
    return rows.map(toProduct);
  }

  async list(query: ProductQuery): Promise<ProductPage> {
    let select = this.#db.selectFrom('catalog.products').selectAll();
    if (query.text !== undefined) {
      const pattern = `%${query.text.replace(/[\\%_]/g, (character) => `\\${character}`)}%`;
      select = select.where((eb) => eb.or([eb('sku', 'ilike', pattern), eb('name', 'ilike', pattern), eb('description', 'ilike', pattern)]));
    }
    if (query.minPriceAmount !== undefined) select = select.where('price_amount', '>=', query.minPriceAmount);
    if (query.maxPriceAmount !== undefined) select = select.where('price_amount', '<=', query.maxPriceAmount);
    if (query.currency !== undefined) select = select.where('price_currency', '=', query.currency);
    const after = query.after;
    if (after !== undefined) {
      select = select.where((eb) => eb(eb.refTuple('created_at', 'id'), '>', eb.tuple(after.createdAt, after.id)));
    }
    const rows = await select.orderBy('created_at').orderBy('id').limit(query.limit + 1).execute();
    const items = rows.slice(0, query.limit).map(toProduct);
    const last = items.at(-1);
    return { items, next: rows.length > query.limit && last !== undefined ? { createdAt: last.createdAt, id: last.id } : null };
  }

  async add(product: Product, event: ProductChangedV1): Promise<void> {
    try {
      await this.#db.transaction().execute(async (transaction) => {
        await transaction.insertInto('catalog.products').values(toRow(product)).execute();
        await appendToOutbox(transaction, [envelopeOf(event)]);
      });
    } catch (error) {
      if (isUniqueViolation(error, 'products_sku_key')) throw new DuplicateSkuError(product.sku);
      throw error;
    }
  }

  async update(product: Product, event: ProductChangedV1): Promise<void> {
    await this.#db.transaction().execute(async (transaction) => {
      const result = await transaction.updateTable('catalog.products')
        .set({
          name: product.name, description: product.description,
          price_amount: product.price.amount, price_currency: product.price.currency,
          updated_at: product.updatedAt, version: product.version,
        })
        .where('id', '=', product.id)
        .where('version', '=', product.version - 1)
        .executeTakeFirst();
      if (result.numUpdatedRows === 0n) throw new ProductModifiedConcurrentlyError(product.id);
      await appendToOutbox(transaction, [envelopeOf(event)]);
    });
  }
}

function envelopeOf(event: ProductChangedV1) {
  return createEnvelope({ ...catalogEvents.productChanged, key: event.productId, payload: event });
}

function toRow(product: Product): ProductsTable {
  return {
    id: product.id, sku: product.sku, name: product.name, description: product.description,
    price_amount: product.price.amount, price_currency: product.price.currency,
    created_at: product.createdAt, updated_at: product.updatedAt, version: product.version,
  };
}

function toProduct(row: ProductRow): Product {
  return {
    id: row.id, sku: row.sku, name: row.name, description: row.description,
    price: { amount: row.price_amount, currency: row.price_currency },
    createdAt: row.created_at, updatedAt: row.updated_at, version: row.version,
  };
}

function isUniqueViolation(error: unknown, constraint: string): boolean {
  const candidate = error as { code?: unknown; constraint?: unknown };
  return candidate.code === '23505' && candidate.constraint === constraint;
}

